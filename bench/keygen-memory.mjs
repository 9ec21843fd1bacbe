// Resident memory over many key generations, to show it stays flat: EC and AES keys are
// generated synchronously (pkcs11js's asynchronous generation leaks its template on every call),
// and each session key is destroyed on the token once its CryptoKey is collected.
// Run: `npm run build && node --expose-gc bench/keygen-memory.mjs [count] [--gc-every-batch]` (default 100000).
import { Crypto } from "pkcs11-webcrypto";
import { createThrowawayToken } from "../scripts/throwaway-token.mjs";

const count = Number(process.argv[2] ?? 100_000);
const everyBatch = process.argv.includes("--gc-every-batch");
const token = createThrowawayToken({ label: "memory", prefix: "pkcs11-webcrypto-memory-" });
const crypto = new Crypto(token.config);
const mib = () => (process.memoryUsage().rss / 1024 / 1024).toFixed(1);

async function run(label, generate) {
  const batch = 500;
  const marks = [];
  const started = performance.now();
  for (let done = 0; done < count; done += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - done) }, generate));
    // Collect after every batch, so that what is measured is what stays, not what awaits the
    // collector (V8 does not see the token's memory, so it may let many dead keys wait).
    // Finalizers run as tasks of their own: yield once so that they can.
    if (everyBatch) {
      globalThis.gc?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (done % (count / 5) === 0) {
      globalThis.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 5));
      marks.push(`${done}: ${mib()} MiB`);
    }
  }
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 5));
  marks.push(`${count}: ${mib()} MiB`);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${count} keys in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s); RSS ${marks.join(", ")}`);
}

try {
  await run("ECDSA P-256 key pairs", () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]));
  await run("AES-256 keys", () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]));
} finally {
  await crypto.close();
  token.remove();
}
