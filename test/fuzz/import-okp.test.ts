// Fuzzing importKey for Ed25519 and X25519 keys: raw, spki, pkcs8 and JWK (public and private),
// mutated from keys made from the seed. Each input goes to our importKey and to Node's: the same
// error name or the same key; no hang, no object left on the token. Where the token lacks the
// curve (SoftHSM 2.6 has no X25519), our answer to an input Node accepts is NotSupportedError;
// to one Node refuses, Node's error (the input is checked before the token is asked).
import { createPrivateKey, createPublicKey } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { itFuzzesImport, labelSeed, Random, type ImportEntry, type ImportSeed } from "../support/fuzz.js";
import { config } from "../support/tokens.js";

/** PKCS#8 of a 32-byte private key, up to the key (RFC 8410). */
const PKCS8_PREFIX = { Ed25519: "302e020100300506032b657004220420", X25519: "302e020100300506032b656e04220420" };
const USAGES = {
  Ed25519: { publicUsages: ["verify"] as KeyUsage[], privateUsages: ["sign"] as KeyUsage[] },
  X25519: { publicUsages: [] as KeyUsage[], privateUsages: ["deriveBits"] as KeyUsage[] },
};
type Curve = keyof typeof USAGES;
type Variant = "raw" | "spki" | "pkcs8" | "jwk public" | "jwk private";
const VARIANTS: Variant[] = ["raw", "spki", "pkcs8", "jwk public", "jwk private"];

describe("fuzz: importKey Ed25519 and X25519", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  function entry(curve: Curve, variant: Variant): ImportEntry {
    const random = new Random(labelSeed(`${curve} keys`));
    const seeds: ImportSeed[] = [];
    for (let i = 0; i < 2; i++) {
      const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from(PKCS8_PREFIX[curve], "hex"), random.bytes(32)]), format: "der", type: "pkcs8" });
      const publicKey = createPublicKey(privateKey);
      const jwk = privateKey.export({ format: "jwk" });
      const data = {
        raw: Buffer.from(jwk.x!, "base64url"),
        spki: publicKey.export({ type: "spki", format: "der" }),
        pkcs8: privateKey.export({ type: "pkcs8", format: "der" }),
        "jwk public": { kty: jwk.kty, crv: jwk.crv, x: jwk.x },
        "jwk private": jwk,
      }[variant];
      const isPrivate = variant === "pkcs8" || variant === "jwk private";
      seeds.push({ data, algorithm: { name: curve }, usages: isPrivate ? USAGES[curve].privateUsages : USAGES[curve].publicUsages, extractable: true });
    }
    const format = variant.startsWith("jwk") ? "jwk" : (variant as "raw" | "spki" | "pkcs8");
    return { format, seeds, tokenLacks: !crypto.supports(curve, "importKey") };
  }

  for (const curve of Object.keys(USAGES) as Curve[]) {
    for (const variant of VARIANTS) {
      itFuzzesImport(`${curve} ${variant}`, () => crypto, () => entry(curve, variant), 500);
    }
  }
});
