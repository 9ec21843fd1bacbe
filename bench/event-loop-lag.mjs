// Measures how long Node's event loop is blocked while the token works: the largest lateness of
// a 10 ms interval timer during (1) an RSA-4096 key generation on the token, (2) AES-GCM over
// 64 MiB on the token, and, for comparison in the same run, (3) AES-GCM over the same 64 MiB in
// Node's own WebCrypto. Run: `npm run build && node bench/event-loop-lag.mjs`.
import { randomBytes } from "node:crypto";
import { Crypto } from "pkcs11-webcrypto";
import { createThrowawayToken } from "../scripts/throwaway-token.mjs";
import { worstLag } from "./lib/measure.mjs";


const token = createThrowawayToken({ label: "lag", prefix: "pkcs11-webcrypto-lag-" });
const crypto = new Crypto(token.config);
const fmt = ({ worstMs, seconds }) => `worst lag ${worstMs.toFixed(1)} ms over ${seconds.toFixed(2)} s`;
try {
  const rows = [];
  const rsa = await worstLag(() =>
    crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"]),
  );
  rows.push(["RSA-4096 key generation (token)", fmt(rsa)]);

  const data = randomBytes(64 * 1024 * 1024);
  const keyBytes = randomBytes(32);
  const iv = randomBytes(12);
  const ours = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt"]);
  const theirs = await globalThis.crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt"]);
  rows.push(["AES-GCM encrypt 64 MiB (token)", fmt(await worstLag(() => crypto.subtle.encrypt({ name: "AES-GCM", iv }, ours, data)))]);
  rows.push(["AES-GCM encrypt 64 MiB (Node's WebCrypto)", fmt(await worstLag(() => globalThis.crypto.subtle.encrypt({ name: "AES-GCM", iv }, theirs, data)))]);
  rows.push(["SHA-256 of 64 MiB (token)", fmt(await worstLag(() => crypto.subtle.digest("SHA-256", data)))]);
  rows.push(["SHA-256 of 64 MiB (Node's WebCrypto)", fmt(await worstLag(() => globalThis.crypto.subtle.digest("SHA-256", data)))]);
  for (const [what, figure] of rows) console.log(`${what.padEnd(44)} ${figure}`);
} finally {
  await crypto.close();
  token.remove();
}
