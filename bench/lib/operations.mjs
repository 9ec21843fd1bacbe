// The benchmarked operations, written once against the Web Crypto API so that the same code runs
// on our Crypto, on node-webcrypto-p11 (in a child process) and on Node's own WebCrypto. The raw
// pkcs11js equivalents are in ../baselines/raw-pkcs11js.mjs, under the same ids.
import { randomBytes } from "node:crypto";

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Inputs: random, made once per process (their content does not matter, only their size). */
export const inputs = {
  message: randomBytes(KiB),
  mebibyte: randomBytes(MiB),
  iv: randomBytes(12),
};

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const RSASSA_2048 = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

/**
 * Each operation: `id` (for --only and the JSON), `label` (the table), `unit` ("ops/s", or "MB/s"
 * with `bytes` per call), `inFlight` for the concurrent row, and `webcrypto(subtle)`, which makes
 * the keys and returns the call to time. Private and secret keys are non-extractable everywhere.
 */
export const operations = [
  {
    id: "ecdsa-sign",
    label: "ECDSA P-256 sign (SHA-256, 1 KiB)",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      const { privateKey } = await subtle.generateKey(ECDSA_P256, false, ["sign", "verify"]);
      return () => subtle.sign(ECDSA_SHA256, privateKey, inputs.message);
    },
  },
  {
    id: "ecdsa-verify",
    label: "ECDSA P-256 verify (SHA-256, 1 KiB)",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      const { privateKey, publicKey } = await subtle.generateKey(ECDSA_P256, false, ["sign", "verify"]);
      const signature = await subtle.sign(ECDSA_SHA256, privateKey, inputs.message);
      const verify = () => subtle.verify(ECDSA_SHA256, publicKey, signature, inputs.message);
      if ((await verify()) !== true) throw new Error("verify returned false on a valid signature");
      return verify;
    },
  },
  {
    id: "rsa-sign",
    label: "RSA-2048 sign (PKCS1-v1_5 SHA-256, 1 KiB)",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      const { privateKey } = await subtle.generateKey(RSASSA_2048, false, ["sign", "verify"]);
      return () => subtle.sign("RSASSA-PKCS1-v1_5", privateKey, inputs.message);
    },
  },
  {
    id: "rsa-keygen",
    label: "RSA-2048 generateKey",
    unit: "ops/s",
    // 256 RSA generations in flight would take tens of seconds to drain after each cell.
    inFlight: 16,
    async webcrypto(subtle) {
      return () => subtle.generateKey(RSASSA_2048, false, ["sign", "verify"]);
    },
  },
  {
    id: "ec-keygen",
    label: "EC P-256 generateKey",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      return () => subtle.generateKey(ECDSA_P256, false, ["sign", "verify"]);
    },
  },
  {
    id: "aes-gcm-1k",
    label: "AES-256-GCM encrypt 1 KiB",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      const key = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      return () => subtle.encrypt({ name: "AES-GCM", iv: inputs.iv }, key, inputs.message);
    },
  },
  {
    id: "aes-gcm-1m",
    label: "AES-256-GCM encrypt 1 MiB",
    unit: "MB/s",
    bytes: MiB,
    inFlight: 256,
    async webcrypto(subtle) {
      const key = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      return () => subtle.encrypt({ name: "AES-GCM", iv: inputs.iv }, key, inputs.mebibyte);
    },
  },
  {
    id: "hmac-1k",
    label: "HMAC-SHA-256 sign 1 KiB",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      // Default length: the hash's block size, 512 bits, in every implementation.
      const key = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
      return () => subtle.sign("HMAC", key, inputs.message);
    },
  },
  {
    id: "sha256-1m",
    label: "SHA-256 digest 1 MiB",
    unit: "MB/s",
    bytes: MiB,
    inFlight: 256,
    async webcrypto(subtle) {
      return () => subtle.digest("SHA-256", inputs.mebibyte);
    },
  },
  {
    id: "import-spki",
    label: "importKey spki (EC P-256)",
    unit: "ops/s",
    inFlight: 256,
    async webcrypto(subtle) {
      const spki = await p256Spki();
      return () => subtle.importKey("spki", spki, ECDSA_P256, true, ["verify"]);
    },
  },
];

/** One P-256 public key as SPKI, made by Node (the same kind of input for every implementation). */
let spkiCache;
export async function p256Spki() {
  if (!spkiCache) {
    const { publicKey } = await globalThis.crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
    spkiCache = new Uint8Array(await globalThis.crypto.subtle.exportKey("spki", publicKey));
  }
  return spkiCache;
}

export function operationById(id) {
  const operation = operations.find((op) => op.id === id);
  if (!operation) throw new Error(`Unknown operation ${id}`);
  return operation;
}
