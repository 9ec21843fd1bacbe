// Fuzzing importKey for secret keys: HMAC (raw and JWK, hash picked per input), AES-GCM, AES-CBC,
// AES-CTR and AES-KW (raw and JWK, 128/192/256-bit), HKDF and PBKDF2 (raw), mutated from keys
// made from the seed. Each input goes to our importKey and to Node's: the same error name or the
// same key (same export; for HKDF and PBKDF2, which cannot be exported, the same derived bits);
// no hang, no object left on the token.
import { Crypto } from "../../src/index.js";
import { itFuzzesImport, labelSeed, Random, type ImportEntry, type ImportSeed } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const AES = {
  "AES-GCM": { usages: ["encrypt", "decrypt"] as KeyUsage[], suffix: "GCM" },
  "AES-CBC": { usages: ["encrypt", "decrypt"] as KeyUsage[], suffix: "CBC" },
  "AES-CTR": { usages: ["encrypt", "decrypt"] as KeyUsage[], suffix: "CTR" },
  "AES-KW": { usages: ["wrapKey", "unwrapKey"] as KeyUsage[], suffix: "KW" },
};
type Aes = keyof typeof AES;

/** The parameters each derivation takes, to compare keys that cannot be exported. */
const DERIVE = {
  HKDF: { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(16), info: new Uint8Array(4) },
  PBKDF2: { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(16), iterations: 2 },
};

/**
 * Where we follow the spec and Node 20 does not (README, Errors): an HMAC JWK whose k is empty is
 * a DataError here; Node 20 imports it.
 */
function emptyHmacJwk(ours: { name: string }, node: { name: string }, input: unknown): string | undefined {
  // k as WebIDL converts it (0 -> "0", ["x"] -> "x"): a string that decodes to no bytes.
  const k = (input as Record<string, unknown>).k;
  if (ours.name === "DataError" && node.name === "ok" && k !== undefined && Buffer.from(String(k), "base64url").length === 0) return "empty k";
  return undefined;
}

describe("fuzz: importKey HMAC, AES, HKDF, PBKDF2", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  function hmacEntry(format: "raw" | "jwk"): ImportEntry {
    const random = new Random(labelSeed("HMAC keys"));
    const seeds: ImportSeed[] = HASHES.map((hash, i) => {
      const key = random.bytes([20, 32, 48, 64][i]);
      const alg = `HS${hash === "SHA-1" ? 1 : hash.slice(4)}`;
      const data = format === "raw" ? key : { kty: "oct", k: key.toString("base64url"), alg };
      return { data, algorithm: { name: "HMAC", hash }, usages: ["sign", "verify"], extractable: true };
    });
    return { format, seeds, knownDifference: format === "jwk" ? emptyHmacJwk : undefined };
  }

  function aesEntry(name: Aes, format: "raw" | "jwk"): ImportEntry {
    const random = new Random(labelSeed(`${name} keys`));
    const seeds: ImportSeed[] = [16, 24, 32].map((bytes) => {
      const key = random.bytes(bytes);
      const data = format === "raw" ? key : { kty: "oct", k: key.toString("base64url"), alg: `A${bytes * 8}${AES[name].suffix}` };
      return { data, algorithm: { name }, usages: AES[name].usages, extractable: true };
    });
    return { format, seeds };
  }

  function kdfEntry(name: "HKDF" | "PBKDF2"): ImportEntry {
    const random = new Random(labelSeed(`${name} keys`));
    const seeds: ImportSeed[] = [8, 32].map((bytes) => ({ data: random.bytes(bytes), algorithm: { name }, usages: ["deriveBits"], extractable: false }));
    return {
      format: "raw",
      seeds,
      sameKey: async (ours, theirs) => {
        const [a, b] = await Promise.all([crypto.subtle.deriveBits(DERIVE[name], ours, 256), native.deriveBits(DERIVE[name], theirs, 256)]);
        return Buffer.from(a).equals(Buffer.from(b)) ? undefined : "derived bits differ";
      },
    };
  }

  for (const format of ["raw", "jwk"] as const) itFuzzesImport(`HMAC ${format}`, () => crypto, () => hmacEntry(format), 500);
  for (const name of Object.keys(AES) as Aes[]) {
    for (const format of ["raw", "jwk"] as const) itFuzzesImport(`${name} ${format}`, () => crypto, () => aesEntry(name, format), 500);
  }
  for (const name of ["HKDF", "PBKDF2"] as const) itFuzzesImport(`${name} raw`, () => crypto, () => kdfEntry(name), 500);
});
