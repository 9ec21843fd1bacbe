// Fuzzing importKey for RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP keys (hash picked per input):
// spki, pkcs8 and JWK (public and private), mutated from fixed 1024- and 2048-bit keys
// (test/fuzz/corpus/rsa-keys.json, fixed so that a finding replays from FUZZ_SEED alone). Each
// input goes to our importKey and to Node's: the same error name or the same key; no hang, no
// object left on the token. FUZZ_ITERATIONS=3000 for the long run.
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Crypto } from "../../src/index.js";
import { itFuzzesImport, type ImportEntry, type ImportSeed, type Outcome } from "../support/fuzz.js";
import { config } from "../support/tokens.js";

const corpus = JSON.parse(readFileSync(join(__dirname, "corpus", "rsa-keys.json"), "utf8")) as Record<string, JsonWebKey>;
const KEYS = [corpus["rsa-1024"], corpus["rsa-2048"]];
const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

const FAMILIES = {
  "RSASSA-PKCS1-v1_5": { publicUsages: ["verify"] as KeyUsage[], privateUsages: ["sign"] as KeyUsage[] },
  "RSA-PSS": { publicUsages: ["verify"] as KeyUsage[], privateUsages: ["sign"] as KeyUsage[] },
  "RSA-OAEP": { publicUsages: ["encrypt"] as KeyUsage[], privateUsages: ["decrypt"] as KeyUsage[] },
};
type Family = keyof typeof FAMILIES;
type Variant = "spki" | "pkcs8" | "jwk public" | "jwk private";
const VARIANTS: Variant[] = ["spki", "pkcs8", "jwk public", "jwk private"];

/** The JWK "alg" Node expects for a family and hash. */
function jwkAlg(family: Family, hash: string): string {
  const bits = hash.slice(4);
  if (family === "RSASSA-PKCS1-v1_5") return hash === "SHA-1" ? "RS1" : `RS${bits}`;
  if (family === "RSA-PSS") return hash === "SHA-1" ? "PS1" : `PS${bits}`;
  return hash === "SHA-1" ? "RSA-OAEP" : `RSA-OAEP-${bits}`;
}

/**
 * Node imports RSA material without checking it (a modulus that is not p·q, an exponent of
 * zero); some tokens check it when the object is created (NSS: CKR_TEMPLATE_INCOMPLETE,
 * CKR_ATTRIBUTE_VALUE_INVALID). That refusal, an OperationError over the token's answer to
 * C_CreateObject, is the token's right; SoftHSM checks nothing and matches Node.
 */
function tokenRefusesMaterial(ours: Outcome, node: Outcome): string | undefined {
  const code = (ours.error as { cause?: { code?: string } } | undefined)?.cause?.code;
  const refusals = ["CKR_TEMPLATE_INCOMPLETE", "CKR_TEMPLATE_INCONSISTENT", "CKR_ATTRIBUTE_VALUE_INVALID"];
  return ours.name === "OperationError" && node.name === "ok" && refusals.includes(String(code)) ? `the token refuses it (${code})` : undefined;
}

describe("fuzz: importKey RSA", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  function entry(family: Family, variant: Variant): ImportEntry {
    const { publicUsages, privateUsages } = FAMILIES[family];
    const seeds: ImportSeed[] = [];
    for (const key of KEYS) {
      const hash = HASHES[seeds.length % HASHES.length];
      const algorithm = { name: family, hash };
      const isPrivate = variant === "pkcs8" || variant === "jwk private";
      const publicJwk = { kty: "RSA", n: key.n, e: key.e };
      const data = {
        spki: createPublicKey({ key: publicJwk, format: "jwk" }).export({ type: "spki", format: "der" }),
        pkcs8: createPrivateKey({ key: key as never, format: "jwk" }).export({ type: "pkcs8", format: "der" }),
        "jwk public": { ...publicJwk, alg: jwkAlg(family, hash) },
        "jwk private": { ...key, alg: jwkAlg(family, hash) },
      }[variant];
      seeds.push({ data, algorithm, usages: isPrivate ? privateUsages : publicUsages, extractable: true });
    }
    const format = variant.startsWith("jwk") ? "jwk" : (variant as "spki" | "pkcs8");
    return { format, seeds, knownDifference: tokenRefusesMaterial };
  }

  for (const family of Object.keys(FAMILIES) as Family[]) {
    for (const variant of VARIANTS) {
      itFuzzesImport(`${family} ${variant}`, () => crypto, () => entry(family, variant), 500);
    }
  }
});
