// Fuzzing importKey for ECDSA and ECDH keys on P-256, P-384 and P-521 (curve picked per input):
// raw (uncompressed and compressed points), spki, pkcs8 and JWK (public and private), mutated
// from valid keys made by Node. Each mutated input goes to our importKey and to Node's: both
// must fail with the same error name or both give the same key; no hang, and no object left on
// the token (see test/support/fuzz.ts). FUZZ_ITERATIONS=3000 for the long run; FUZZ_SEED to replay.
import assert from "node:assert/strict";
import { createECDH, ECDH } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { itFuzzesImport, labelSeed, Random, type ImportEntry, type ImportSeed } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

const CURVES = ["P-256", "P-384", "P-521"] as const;
const NODE_CURVES = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" } as const;

const FAMILIES = {
  ECDSA: { publicUsages: ["verify"] as KeyUsage[], privateUsages: ["sign"] as KeyUsage[] },
  ECDH: { publicUsages: [] as KeyUsage[], privateUsages: ["deriveBits"] as KeyUsage[] },
};
type Family = keyof typeof FAMILIES;
type Variant = "raw" | "raw compressed" | "spki" | "pkcs8" | "jwk public" | "jwk private";
const VARIANTS: Variant[] = ["raw", "raw compressed", "spki", "pkcs8", "jwk public", "jwk private"];

describe("fuzz: importKey ECDSA and ECDH", () => {
  let crypto: Crypto;
  /** Per family and curve: one Node key pair's exports. */
  const material = new Map<string, { spki: Buffer; pkcs8: Buffer; raw: Buffer; compressed: Buffer; jwk: JsonWebKey }>();

  before(async () => {
    crypto = new Crypto(config());
    // Keys from the seed, not from a random generator: a crash must replay with FUZZ_SEED alone
    // (the first one found here depended on the key's bytes).
    const random = new Random(labelSeed("EC keys"));
    for (const family of Object.keys(FAMILIES) as Family[]) {
      for (const namedCurve of CURVES) {
        const ecdh = createECDH(NODE_CURVES[namedCurve]);
        const size = { "P-256": 32, "P-384": 48, "P-521": 66 }[namedCurve];
        ecdh.setPrivateKey(Buffer.concat([Buffer.of(0), random.bytes(size - 1)]));
        const point = ecdh.getPublicKey();
        const jwk: JsonWebKey = {
          kty: "EC",
          crv: namedCurve,
          x: point.subarray(1, 1 + size).toString("base64url"),
          y: point.subarray(1 + size).toString("base64url"),
          d: ecdh.getPrivateKey().toString("base64url"),
        };
        const usages: KeyUsage[] = family === "ECDSA" ? ["sign"] : ["deriveBits"];
        const privateKey = await native.importKey("jwk", jwk, { name: family, namedCurve }, true, usages);
        const publicKey = await native.importKey("raw", point, { name: family, namedCurve }, true, family === "ECDSA" ? ["verify"] : []);
        material.set(`${family} ${namedCurve}`, {
          spki: Buffer.from(await native.exportKey("spki", publicKey)),
          pkcs8: Buffer.from(await native.exportKey("pkcs8", privateKey)),
          raw: point,
          compressed: ECDH.convertKey(point, NODE_CURVES[namedCurve], undefined, undefined, "compressed") as Buffer,
          jwk,
        });
      }
    }
  });
  after(() => crypto.close());

  function entry(family: Family, variant: Variant): ImportEntry {
    const { publicUsages, privateUsages } = FAMILIES[family];
    const seeds: ImportSeed[] = CURVES.map((namedCurve) => {
      const m = material.get(`${family} ${namedCurve}`)!;
      const algorithm = { name: family, namedCurve };
      const publicJwk: JsonWebKey = { kty: m.jwk.kty, crv: m.jwk.crv, x: m.jwk.x, y: m.jwk.y };
      const data = { raw: m.raw, "raw compressed": m.compressed, spki: m.spki, pkcs8: m.pkcs8, "jwk public": publicJwk, "jwk private": m.jwk }[variant];
      const isPrivate = variant === "pkcs8" || variant === "jwk private";
      return { data, algorithm, usages: isPrivate ? privateUsages : publicUsages, extractable: true };
    });
    const format = variant.startsWith("raw") ? "raw" : variant.startsWith("jwk") ? "jwk" : (variant as "spki" | "pkcs8");
    // Node's export of a compressed raw key is the uncompressed point, as ours: the default comparison holds.
    return { format, seeds };
  }

  for (const family of Object.keys(FAMILIES) as Family[]) {
    for (const variant of VARIANTS) {
      itFuzzesImport(`${family} ${variant}`, () => crypto, () => entry(family, variant), 500);
    }
  }

  // What the fuzzing found, kept as plain tests (each aborted the process or was accepted).
  it("a private scalar wider than the curve's order is a DataError, as in Node (it aborted the process in KeyObject.export)", async () => {
    for (const namedCurve of CURVES) {
      const jwk = material.get(`ECDSA ${namedCurve}`)!.jwk;
      // One byte more than the curve's scalars, and a full-width scalar after it: at least 2^(8·size).
      const size = { "P-256": 32, "P-384": 48, "P-521": 66 }[namedCurve];
      const given = Buffer.from(jwk.d!, "base64url");
      const d = Buffer.concat([Buffer.alloc(size - given.length), given]);
      d[0] |= 0x80;
      const wide = { ...jwk, d: Buffer.concat([Buffer.of(1), d]).toString("base64url") };
      const algorithm = { name: "ECDSA", namedCurve };
      await assert.rejects(native.importKey("jwk", wide, algorithm, false, ["sign"]), { name: "DataError" });
      await assert.rejects(crypto.subtle.importKey("jwk", wide, algorithm, false, ["sign"]), { name: "DataError" });
    }
  });

  it("a PKCS#8 key whose public point is not its scalar's is a DataError, as in Node", async () => {
    for (const namedCurve of CURVES) {
      const pkcs8 = material.get(`ECDSA ${namedCurve}`)!.pkcs8;
      const other = material.get(`ECDH ${namedCurve}`)!.raw;
      // Node's PKCS#8 export ends with the public point: put another key's point there.
      const mixed = Buffer.concat([pkcs8.subarray(0, pkcs8.length - other.length), other]);
      const algorithm = { name: "ECDSA", namedCurve };
      await assert.rejects(native.importKey("pkcs8", mixed, algorithm, false, ["sign"]), { name: "DataError" });
      await assert.rejects(crypto.subtle.importKey("pkcs8", mixed, algorithm, false, ["sign"]), { name: "DataError" });
    }
  });
});
