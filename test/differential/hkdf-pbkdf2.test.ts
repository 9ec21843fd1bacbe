/**
 * Differential tests for HKDF and PBKDF2 against Node's WebCrypto, the oracle. RFC 5869 and
 * RFC 6070 vectors; for every hash, input keys, salts and infos of several lengths (empty
 * included), iteration counts 1, 2 and 1000, and outputs of 8, 256 and 512 bits and the longest
 * Node accepts: deriveBits equals Node's. Keys derived with deriveKey (AES-GCM, AES-KW, HMAC)
 * encrypt, wrap and sign as Node's derived keys do. Error names equal Node's on the same bad
 * inputs. And the design's promises, read on the token: an imported HKDF/PBKDF2 key makes no
 * token object (its material is held in JavaScript, and wiped when the key is collected); a
 * non-extractable key derived from a password is CKA_SENSITIVE and not CKA_EXTRACTABLE; a key
 * whose material would be only on the token is refused with NotSupportedError naming the missing
 * mechanism, never exported to derive in software.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { createCryptoKey, keyObjectOf } from "../../src/keys/crypto-key.js";
import { keyTemplate } from "../../src/keys/key-template.js";
import { createObjectOnToken, findObjects, readAttributes } from "../../src/token/operations.js";
import { pkcs11js, type Handle } from "../../src/token/pkcs11.js";
import type { Token } from "../../src/token/token.js";
import { itIfSupported } from "../support/capability.js";
import { assertSameOutcome, bytes, native, outcome, keyShape as shape } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type Bytes = Uint8Array<ArrayBuffer>;
type Loose = { [K in keyof SubtleCrypto]: (...args: unknown[]) => Promise<unknown> };
const loose = (subtle: unknown) => subtle as Loose;

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const;
type Hash = (typeof HASHES)[number];
const HASH_BYTES: Record<Hash, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
/** RFC 5869: HKDF's output is at most 255 hash lengths; Node (OpenSSL) refuses one byte more. */
const HKDF_MAX_BITS = (hash: Hash) => 255 * HASH_BYTES[hash] * 8;
const BOTH: KeyUsage[] = ["deriveKey", "deriveBits"];

const hex = (value: string): Bytes => new Uint8Array(Buffer.from(value.replace(/\s+/g, ""), "hex"));
const text = (value: string): Bytes => new Uint8Array(Buffer.from(value, "latin1"));
const range = (from: number, to: number): Bytes => new Uint8Array(Array.from({ length: to - from + 1 }, (_, i) => from + i));
const random = (length: number): Bytes => new Uint8Array(randomBytes(length));
const flag = (value: Buffer) => value.length > 0 && value[0] !== 0;
/** A CK_ULONG attribute (4 or 8 bytes, little-endian here). */
const ulong = (value: Buffer) => (value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0));

const hkdf = (hash: Hash | string, salt: Bytes, info: Bytes) => ({ name: "HKDF", hash, salt, info });
const pbkdf2 = (hash: Hash | string, salt: Bytes, iterations: number) => ({ name: "PBKDF2", hash, salt, iterations });

/** RFC 5869 Appendix A. Case 7's salt is "not provided", which RFC 5869 defines as HashLen zeros. */
const RFC5869 = [
  { n: 1, hash: "SHA-256", ikm: hex("0b".repeat(22)), salt: range(0x00, 0x0c), info: range(0xf0, 0xf9), L: 42,
    okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" },
  { n: 2, hash: "SHA-256", ikm: range(0x00, 0x4f), salt: range(0x60, 0xaf), info: range(0xb0, 0xff), L: 82,
    okm: "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87" },
  { n: 3, hash: "SHA-256", ikm: hex("0b".repeat(22)), salt: new Uint8Array(0), info: new Uint8Array(0), L: 42,
    okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8" },
  { n: 4, hash: "SHA-1", ikm: hex("0b".repeat(11)), salt: range(0x00, 0x0c), info: range(0xf0, 0xf9), L: 42,
    okm: "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896" },
  { n: 5, hash: "SHA-1", ikm: range(0x00, 0x4f), salt: range(0x60, 0xaf), info: range(0xb0, 0xff), L: 82,
    okm: "0bd770a74d1160f7c9f12cd5912a06ebff6adcae899d92191fe4305673ba2ffe8fa3f1a4e5ad79f3f334b3b202b2173c486ea37ce3d397ed034c7f9dfeb15c5e927336d0441f4c4300e2cff0d0900b52d3b4" },
  { n: 6, hash: "SHA-1", ikm: hex("0b".repeat(22)), salt: new Uint8Array(0), info: new Uint8Array(0), L: 42,
    okm: "0ac1af7002b3d761d1e55298da9d0506b9ae52057220a306e07b6b87e8df21d0ea00033de03984d34918" },
  { n: 7, hash: "SHA-1", ikm: hex("0c".repeat(22)), salt: new Uint8Array(20), info: new Uint8Array(0), L: 42,
    okm: "2c91117204d745f3500d636a62f64f0ab3bae548aa53d423b0d1f27ebba6f5e5673a081d70cce7acfc48" },
] as const;

/**
 * RFC 6070 (PBKDF2-HMAC-SHA-1). Its fourth vector (16,777,216 iterations) is left out: it takes
 * tens of seconds on each side and tests OpenSSL's loop, not us.
 */
const RFC6070 = [
  { P: "password", S: "salt", c: 1, dkLen: 20, DK: "0c60c80f961f0e71f3a9b524af6012062fe037a6" },
  { P: "password", S: "salt", c: 2, dkLen: 20, DK: "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957" },
  { P: "password", S: "salt", c: 4096, dkLen: 20, DK: "4b007901b765489abead49d926f721d065a429c1" },
  { P: "passwordPASSWORDpassword", S: "saltSALTsaltSALTsaltSALTsaltSALTsalt", c: 4096, dkLen: 25, DK: "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038" },
  { P: "pass\0word", S: "sa\0lt", c: 4096, dkLen: 16, DK: "56fa6aa75548099dcc37d7f03425e0c3" },
];

interface KeyPair {
  ours: CryptoKey;
  node: CryptoKey;
}

/** Usages in the spec's order without duplicates, as ours are (Node 20 keeps the given order for these keys). */
const USAGE_ORDER: KeyUsage[] = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
const canonical = (usages: KeyUsage[]) => USAGE_ORDER.filter((usage) => usages.includes(usage));

describe("differential: HKDF and PBKDF2 against Node's WebCrypto", () => {
  let crypto: Crypto;
  let ours: Loose;
  const theirs = loose(native);

  before(() => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
  });

  after(async () => {
    await crypto?.close();
  });

  /** The same bytes imported as a base key on both sides. */
  async function baseKeys(name: "HKDF" | "PBKDF2", material: Bytes, usages: KeyUsage[] = BOTH): Promise<KeyPair> {
    return {
      ours: await crypto.subtle.importKey("raw", material, name, false, usages),
      node: await native.importKey("raw", material, name, false, usages),
    };
  }

  /** deriveBits on both sides; asserts equal output and returns it. */
  async function sameBits(algorithm: object, keys: KeyPair, length: number, label: string): Promise<Buffer> {
    const [a, b] = await Promise.all([
      crypto.subtle.deriveBits(algorithm as HkdfParams, keys.ours, length),
      native.deriveBits(algorithm as HkdfParams, keys.node, length),
    ]);
    assert.ok(a instanceof ArrayBuffer, `${label}: not an ArrayBuffer`);
    assert.equal(a.byteLength, length / 8, `${label}: length`);
    assert.equal(bytes(a).toString("hex"), bytes(b).toString("hex"), `${label}: output differs from Node's`);
    return bytes(a);
  }

  describe("importKey: key shapes equal Node's", () => {
    for (const name of ["HKDF", "PBKDF2"] as const) {
      for (const usages of [["deriveBits"], ["deriveKey"], ["deriveKey", "deriveBits"], ["deriveBits", "deriveKey", "deriveBits"]] as KeyUsage[][]) {
        for (const length of [0, 1, 16, 64, 300]) {
          it(`${name}, ${length}-byte raw key, usages ${JSON.stringify(usages)}`, async () => {
            const material = random(length);
            const a = await crypto.subtle.importKey("raw", material, { name }, false, usages);
            const b = await native.importKey("raw", material, { name }, false, usages);
            assert.deepStrictEqual(shape(a), { ...shape(b), usages: canonical(b.usages) });
          });
        }
      }
    }

    it("usages are in the spec's order without duplicates, as README says (Node 20 keeps them as given)", async () => {
      const given: KeyUsage[] = ["deriveBits", "deriveKey", "deriveBits"];
      const a = await crypto.subtle.importKey("raw", random(8), "PBKDF2", false, given);
      const b = await native.importKey("raw", random(8), "PBKDF2", false, given);
      assert.deepEqual(a.usages, ["deriveKey", "deriveBits"]);
      assert.deepEqual(b.usages, given, "Node 20's behaviour changed: update README and this test");
    });

    it("a key's usages are a copy; the algorithm name is canonical whatever the case given", async () => {
      const key = await crypto.subtle.importKey("raw", random(8), "hkdf", false, ["deriveBits"]);
      assert.deepEqual(key.algorithm, { name: "HKDF" });
      key.usages.push("deriveKey");
      assert.deepEqual(key.usages, ["deriveBits"]);
    });

    it("exportKey and wrapKey refuse the (never extractable) key as Node does", async () => {
      for (const name of ["HKDF", "PBKDF2"] as const) {
        const keys = await baseKeys(name, text("password"));
        assert.equal(await assertSameOutcome(`${name} export raw`, () => ours.exportKey("raw", keys.ours), () => theirs.exportKey("raw", keys.node)), "InvalidAccessError");
        const kwOurs = await crypto.subtle.generateKey({ name: "AES-KW", length: 128 } as AesKeyGenParams, false, ["wrapKey"]);
        const kwNode = await native.generateKey({ name: "AES-KW", length: 128 }, false, ["wrapKey"]);
        await assertSameOutcome(`${name} wrapKey`, () => ours.wrapKey("raw", keys.ours, kwOurs, "AES-KW"), () => theirs.wrapKey("raw", keys.node, kwNode, "AES-KW"));
      }
    });
  });

  describe("RFC 5869 test vectors (HKDF)", () => {
    for (const vector of RFC5869) {
      it(`A.${vector.n}: ${vector.hash}, IKM ${vector.ikm.length} bytes, salt ${vector.salt.length}, info ${vector.info.length}, L ${vector.L}`, async () => {
        const keys = await baseKeys("HKDF", new Uint8Array(vector.ikm));
        const okm = await sameBits(hkdf(vector.hash, new Uint8Array(vector.salt), new Uint8Array(vector.info)), keys, vector.L * 8, `A.${vector.n}`);
        assert.equal(okm.toString("hex"), vector.okm);
      });
    }

    it("A.7 with an empty salt equals A.7 with HashLen zeros (HMAC pads the key with zeros)", async () => {
      const vector = RFC5869[6];
      const keys = await baseKeys("HKDF", new Uint8Array(vector.ikm));
      const okm = await sameBits(hkdf("SHA-1", new Uint8Array(0), new Uint8Array(0)), keys, vector.L * 8, "A.7, empty salt");
      assert.equal(okm.toString("hex"), vector.okm);
    });
  });

  describe("RFC 6070 test vectors (PBKDF2-HMAC-SHA-1)", () => {
    for (const vector of RFC6070) {
      it(`P ${JSON.stringify(vector.P)}, S ${JSON.stringify(vector.S)}, c ${vector.c}, dkLen ${vector.dkLen}`, async () => {
        const keys = await baseKeys("PBKDF2", text(vector.P));
        const dk = await sameBits(pbkdf2("SHA-1", text(vector.S), vector.c), keys, vector.dkLen * 8, vector.P);
        assert.equal(dk.toString("hex"), vector.DK);
      });
    }
  });

  describe("HKDF deriveBits equals Node's", () => {
    const IKM_LENGTHS = [0, 1, 22, 64, 200];
    const SALT_LENGTHS = [0, 1, 16, 64, 200];
    const INFO_LENGTHS = [0, 1, 32, 1024];
    for (const hash of HASHES) {
      for (const length of [8, 256, 512, HKDF_MAX_BITS(hash)]) {
        it(`${hash}, ${length} bits, for IKM of ${IKM_LENGTHS.join("/")} bytes x salt ${SALT_LENGTHS.join("/")} x info ${INFO_LENGTHS.join("/")}`, async () => {
          for (const ikmLength of IKM_LENGTHS) {
            const keys = await baseKeys("HKDF", random(ikmLength));
            for (const saltLength of SALT_LENGTHS) {
              for (const infoLength of INFO_LENGTHS) {
                await sameBits(hkdf(hash, random(saltLength), random(infoLength)), keys, length, `IKM ${ikmLength}, salt ${saltLength}, info ${infoLength}`);
              }
            }
          }
        });
      }

      it(`${hash}: length 0 is an empty result; one byte over 255 hash lengths is Node's OperationError`, async () => {
        const keys = await baseKeys("HKDF", random(32));
        const algorithm = hkdf(hash, random(16), random(16));
        const empty = await crypto.subtle.deriveBits(algorithm, keys.ours, 0);
        assert.ok(empty instanceof ArrayBuffer);
        assert.equal(empty.byteLength, 0);
        assert.equal((await native.deriveBits(algorithm, keys.node, 0)).byteLength, 0);
        const over = HKDF_MAX_BITS(hash) + 8;
        assert.equal(await assertSameOutcome(`${over} bits`, () => ours.deriveBits(algorithm, keys.ours, over), () => theirs.deriveBits(algorithm, keys.node, over)), "OperationError");
      });
    }

    it("the same base key gives different outputs for different salts and infos, and the same for the same", async () => {
      const keys = await baseKeys("HKDF", random(32));
      const salt = random(16);
      const a = await sameBits(hkdf("SHA-256", salt, text("one")), keys, 256, "info one");
      const b = await sameBits(hkdf("SHA-256", salt, text("two")), keys, 256, "info two");
      const c = await sameBits(hkdf("SHA-256", random(16), text("one")), keys, 256, "other salt");
      const d = await sameBits(hkdf("SHA-256", salt, text("one")), keys, 256, "info one again");
      assert.notEqual(a.toString("hex"), b.toString("hex"));
      assert.notEqual(a.toString("hex"), c.toString("hex"));
      assert.equal(a.toString("hex"), d.toString("hex"));
    });

    it("salt and info are read when deriveBits is called (a later change to the caller's buffers does not matter)", async () => {
      const keys = await baseKeys("HKDF", random(32));
      const salt = random(16);
      const info = random(16);
      const expected = bytes(await native.deriveBits(hkdf("SHA-256", salt.slice(), info.slice()), keys.node, 256));
      const pending = crypto.subtle.deriveBits(hkdf("SHA-256", salt, info), keys.ours, 256);
      salt.fill(0);
      info.fill(0);
      assert.equal(bytes(await pending).toString("hex"), expected.toString("hex"));
    });

    it("the input keying material is read when importKey is called", async () => {
      const ikm = random(32);
      const node = await native.importKey("raw", ikm.slice(), "HKDF", false, ["deriveBits"]);
      const pending = crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
      ikm.fill(0);
      await sameBits(hkdf("SHA-256", random(8), random(8)), { ours: await pending, node }, 256, "after the caller cleared its copy");
    });
  });

  describe("PBKDF2 deriveBits equals Node's", () => {
    const PASSWORD_LENGTHS = [0, 8, 100];
    const SALT_LENGTHS = [0, 8, 16, 64];
    for (const hash of HASHES) {
      for (const iterations of [1, 2, 1000]) {
        for (const length of [8, 256, 512]) {
          it(`${hash}, ${iterations} iteration(s), ${length} bits, for passwords of ${PASSWORD_LENGTHS.join("/")} bytes x salts of ${SALT_LENGTHS.join("/")}`, async () => {
            for (const passwordLength of PASSWORD_LENGTHS) {
              const keys = await baseKeys("PBKDF2", random(passwordLength));
              for (const saltLength of SALT_LENGTHS) {
                await sameBits(pbkdf2(hash, random(saltLength), iterations), keys, length, `password ${passwordLength}, salt ${saltLength}`);
              }
            }
          });
        }
      }

      // Node's longest PBKDF2 output is WebIDL's: the largest multiple of 8 below 2^32 bits, half a
      // gigabyte, which takes minutes on each side. A long output (many PBKDF2 blocks) stands in
      // for it; the limits themselves are checked in the error tests below.
      it(`${hash}: a long output (2^19 bits), and length 0 as an empty result`, async () => {
        const keys = await baseKeys("PBKDF2", text("correct horse battery staple"));
        const algorithm = pbkdf2(hash, random(16), 1);
        await sameBits(algorithm, keys, 1 << 19, "2^19 bits");
        const empty = await crypto.subtle.deriveBits(algorithm, keys.ours, 0);
        assert.ok(empty instanceof ArrayBuffer);
        assert.equal(empty.byteLength, 0);
        assert.equal((await native.deriveBits(algorithm, keys.node, 0)).byteLength, 0);
      });
    }

    it("a password as UTF-8 text, as applications pass it, gives Node's output", async () => {
      const password = new TextEncoder().encode("pässwörd ✓ 密码");
      const keys = await baseKeys("PBKDF2", password);
      await sameBits(pbkdf2("SHA-256", random(16), 600), keys, 256, "UTF-8 password");
    });
  });

  describe("deriveKey: derived keys work as Node's derived keys", () => {
    const PLAINTEXT = new TextEncoder().encode("encrypted with a key derived on both sides");
    const IV = new Uint8Array(12).fill(3);
    const BASES = [
      { label: "HKDF-SHA-256", name: "HKDF" as const, material: random(32), algorithm: hkdf("SHA-256", random(16), text("aes")) },
      { label: "HKDF-SHA-512, empty salt and info", name: "HKDF" as const, material: random(64), algorithm: hkdf("SHA-512", new Uint8Array(0), new Uint8Array(0)) },
      { label: "PBKDF2-SHA-256, 1000 iterations", name: "PBKDF2" as const, material: text("password"), algorithm: pbkdf2("SHA-256", random(16), 1000) },
      { label: "PBKDF2-SHA-1, 2 iterations, empty salt", name: "PBKDF2" as const, material: text("pw"), algorithm: pbkdf2("SHA-1", new Uint8Array(0), 2) },
    ];

    for (const base of BASES) {
      for (const length of [128, 192, 256]) {
        itIfSupported(() => crypto.supports("AES-GCM", "encrypt"), `${base.label} -> AES-GCM ${length}: the same ciphertext as Node's key, each decrypts the other's`, async () => {
          const keys = await baseKeys(base.name, base.material);
          const target = { name: "AES-GCM", length };
          const a = await crypto.subtle.deriveKey(base.algorithm, keys.ours, target, false, ["encrypt", "decrypt"]);
          const b = await native.deriveKey(base.algorithm, keys.node, target, false, ["encrypt", "decrypt"]);
          assert.deepStrictEqual(shape(a), shape(b));
          const params = { name: "AES-GCM", iv: IV };
          const mine = await crypto.subtle.encrypt(params, a, PLAINTEXT);
          const node = await native.encrypt(params, b, PLAINTEXT);
          assert.equal(bytes(mine).toString("hex"), bytes(node).toString("hex"));
          assert.deepEqual(bytes(await crypto.subtle.decrypt(params, a, node)), Buffer.from(PLAINTEXT));
          assert.deepEqual(bytes(await native.decrypt(params, b, mine)), Buffer.from(PLAINTEXT));
        }, { mechanism: "CKM_AES_GCM" });
      }

      for (const length of [128, 256]) {
        itIfSupported(() => crypto.supports("AES-KW", "wrapKey"), `${base.label} -> AES-KW ${length}: wraps a key into the same bytes as Node's key`, async () => {
          const keys = await baseKeys(base.name, base.material);
          const target = { name: "AES-KW", length };
          const a = await crypto.subtle.deriveKey(base.algorithm, keys.ours, target, false, ["wrapKey", "unwrapKey"]);
          const b = await native.deriveKey(base.algorithm, keys.node, target, false, ["wrapKey", "unwrapKey"]);
          assert.deepStrictEqual(shape(a), shape(b));
          const payload = random(32);
          const payloadOurs = await crypto.subtle.importKey("raw", payload, "AES-GCM", true, ["encrypt"]);
          const payloadNode = await native.importKey("raw", payload, "AES-GCM", true, ["encrypt"]);
          const mine = await crypto.subtle.wrapKey("raw", payloadOurs, a, "AES-KW");
          const node = await native.wrapKey("raw", payloadNode, b, "AES-KW");
          assert.equal(bytes(mine).toString("hex"), bytes(node).toString("hex"));
          const unwrapped = await crypto.subtle.unwrapKey("raw", node, a, "AES-KW", "AES-GCM", true, ["encrypt"]);
          assert.deepEqual(bytes(await crypto.subtle.exportKey("raw", unwrapped)), Buffer.from(payload));
        }, { mechanism: /CKM_AES_KEY_WRAP/ });
      }

      for (const hmac of [{ hash: "SHA-256" }, { hash: "SHA-384" }, { hash: "SHA-1", length: 160 }, { hash: "SHA-512", length: 128 }]) {
        it(`${base.label} -> HMAC ${JSON.stringify(hmac)}: the same MAC as Node's key, each verifies the other's`, async () => {
          const keys = await baseKeys(base.name, base.material);
          const target = { name: "HMAC", ...hmac };
          const a = await crypto.subtle.deriveKey(base.algorithm, keys.ours, target, false, ["sign", "verify"]);
          const b = await native.deriveKey(base.algorithm, keys.node, target, false, ["sign", "verify"]);
          assert.deepStrictEqual(shape(a), shape(b));
          const mine = await crypto.subtle.sign("HMAC", a, PLAINTEXT);
          const node = await native.sign("HMAC", b, PLAINTEXT);
          assert.equal(bytes(mine).toString("hex"), bytes(node).toString("hex"));
          assert.equal(await crypto.subtle.verify("HMAC", a, node, PLAINTEXT), true);
          assert.equal(await native.verify("HMAC", b, mine, PLAINTEXT), true);
        });
      }

      it(`${base.label} -> extractable AES-CBC 256 and HMAC: the exported bytes equal Node's`, async () => {
        const keys = await baseKeys(base.name, base.material);
        for (const [target, usages] of [[{ name: "AES-CBC", length: 256 } as AesDerivedKeyParams, ["encrypt"]], [{ name: "HMAC", hash: "SHA-256" } as HmacImportParams, ["sign"]]] as const) {
          const a = await crypto.subtle.deriveKey(base.algorithm, keys.ours, target, true, [...usages]);
          const b = await native.deriveKey(base.algorithm, keys.node, target, true, [...usages]);
          assert.deepStrictEqual(shape(a), shape(b));
          assert.equal(bytes(await crypto.subtle.exportKey("raw", a)).toString("hex"), bytes(await native.exportKey("raw", b)).toString("hex"));
        }
      });
    }

    itIfSupported(() => crypto.supports("ECDH", "deriveKey"), "ECDH -> HKDF: deriveKey into an HKDF key, then HKDF deriveBits, equals Node's chain", async () => {
      const algorithm = { name: "ECDH", namedCurve: "P-256" };
      const mine = (await native.generateKey(algorithm, true, ["deriveKey"])) as CryptoKeyPair;
      const peer = (await native.generateKey(algorithm, true, ["deriveKey"])) as CryptoKeyPair;
      const privateOurs = await crypto.subtle.importKey("pkcs8", await native.exportKey("pkcs8", mine.privateKey), algorithm, false, ["deriveKey"]);
      const peerOurs = await crypto.subtle.importKey("spki", await native.exportKey("spki", peer.publicKey), algorithm, true, []);
      const a = await crypto.subtle.deriveKey({ name: "ECDH", public: peerOurs } as EcdhKeyDeriveParams, privateOurs, "HKDF", false, ["deriveBits"]);
      const b = await native.deriveKey({ name: "ECDH", public: peer.publicKey }, mine.privateKey, "HKDF", false, ["deriveBits"]);
      assert.deepStrictEqual(shape(a), shape(b));
      await sameBits(hkdf("SHA-256", random(32), text("handshake")), { ours: a, node: b }, 512, "ECDH then HKDF");
      // Node's rule for HKDF keys holds here too: never extractable.
      await assertSameOutcome(
        "ECDH -> extractable HKDF",
        () => ours.deriveKey({ name: "ECDH", public: peerOurs }, privateOurs, "HKDF", true, ["deriveBits"]),
        () => theirs.deriveKey({ name: "ECDH", public: peer.publicKey }, mine.privateKey, "HKDF", true, ["deriveBits"]),
      );
    }, { mechanism: "CKM_ECDH1_DERIVE" });
  });

  describe("errors: the same names as Node on the same bad inputs", () => {
    const password = text("password");

    describe("importKey", () => {
      const jwk = { kty: "oct", k: Buffer.from("password").toString("base64url") };
      const cases: { label: string; format: string; data: unknown; extractable: boolean; usages: unknown; mismatch?: boolean }[] = [
        { label: "extractable true", format: "raw", data: password, extractable: true, usages: ["deriveBits"] },
        { label: "extractable true and a wrong usage (extractability first)", format: "raw", data: password, extractable: true, usages: ["sign"] },
        { label: "usage sign", format: "raw", data: password, extractable: false, usages: ["sign"] },
        { label: "usages deriveBits and encrypt", format: "raw", data: password, extractable: false, usages: ["deriveBits", "encrypt"] },
        { label: "usage wrapKey", format: "raw", data: password, extractable: false, usages: ["wrapKey"] },
        { label: "no usages", format: "raw", data: password, extractable: false, usages: [] },
        { label: "an unknown usage", format: "raw", data: password, extractable: false, usages: ["derive"] },
        { label: "jwk", format: "jwk", data: jwk, extractable: false, usages: ["deriveBits"] },
        { label: "jwk with a wrong usage (usages before the format)", format: "jwk", data: jwk, extractable: false, usages: ["sign"] },
        { label: "jwk, extractable (extractability first)", format: "jwk", data: jwk, extractable: true, usages: ["deriveBits"] },
        { label: "spki", format: "spki", data: password, extractable: false, usages: ["deriveBits"] },
        { label: "pkcs8", format: "pkcs8", data: password, extractable: false, usages: ["deriveBits"] },
        { label: "an unknown format", format: "pem", data: password, extractable: false, usages: ["deriveBits"] },
        { label: "raw with a JWK for data", format: "raw", data: jwk, extractable: false, usages: ["deriveBits"] },
        { label: "raw with a string for data", format: "raw", data: "password", extractable: false, usages: ["deriveBits"] },
        { label: "jwk with bytes for data", format: "jwk", data: password, extractable: false, usages: ["deriveBits"] },
        { label: "usages not a sequence", format: "raw", data: password, extractable: false, usages: "deriveBits" },
      ];
      for (const name of ["HKDF", "PBKDF2"]) {
        for (const c of cases) {
          (c.mismatch ? it.skip : it)(`${name}: ${c.label}`, async () => {
            await assertSameOutcome(
              c.label,
              () => ours.importKey(c.format, c.data, name, c.extractable, c.usages),
              () => theirs.importKey(c.format, c.data, name, c.extractable, c.usages),
            );
          });
        }
      }
    });

    describe("deriveBits", () => {
      let hkdfKeys: KeyPair;
      let pbkdf2Keys: KeyPair;
      let deriveKeyOnly: KeyPair;
      before(async () => {
        hkdfKeys = await baseKeys("HKDF", password);
        pbkdf2Keys = await baseKeys("PBKDF2", password);
        deriveKeyOnly = await baseKeys("HKDF", password, ["deriveKey"]);
      });

      const salt = random(16);
      const info = random(16);
      const hkdfCases: { label: string; algorithm: unknown; length?: unknown; omitLength?: boolean; mismatch?: boolean }[] = [
        { label: "no salt", algorithm: { name: "HKDF", hash: "SHA-256", info }, length: 256 },
        { label: "no info", algorithm: { name: "HKDF", hash: "SHA-256", salt }, length: 256 },
        { label: "no hash", algorithm: { name: "HKDF", salt, info }, length: 256 },
        { label: "hash MD5", algorithm: hkdf("MD5", salt, info), length: 256 },
        { label: "hash as an object without a name", algorithm: { name: "HKDF", hash: {}, salt, info }, length: 256 },
        { label: "salt a string", algorithm: { name: "HKDF", hash: "SHA-256", salt: "salt", info }, length: 256 },
        { label: "info an array of numbers", algorithm: { name: "HKDF", hash: "SHA-256", salt, info: [1, 2, 3] }, length: 256 },
        { label: "length 7", algorithm: hkdf("SHA-256", salt, info), length: 7 },
        { label: "length 12", algorithm: hkdf("SHA-256", salt, info), length: 12 },
        { label: "length null", algorithm: hkdf("SHA-256", salt, info), length: null },
        { label: "length undefined", algorithm: hkdf("SHA-256", salt, info), length: undefined },
        { label: "length omitted", algorithm: hkdf("SHA-256", salt, info), omitLength: true },
        { label: "length -8", algorithm: hkdf("SHA-256", salt, info), length: -8 },
        { label: "length 2^32 (over unsigned long)", algorithm: hkdf("SHA-256", salt, info), length: 2 ** 32 },
        { label: "length 2^32 - 8 (the largest multiple of 8 WebIDL lets through)", algorithm: hkdf("SHA-256", salt, info), length: 2 ** 32 - 8 },
        { label: "length 2^32 - 1", algorithm: hkdf("SHA-256", salt, info), length: 2 ** 32 - 1 },
        { label: "length 0 (an empty result)", algorithm: hkdf("SHA-256", salt, info), length: 0 },
        { label: "length NaN", algorithm: hkdf("SHA-256", salt, info), length: Number.NaN },
        { label: "length '256' (a string WebIDL converts)", algorithm: hkdf("SHA-256", salt, info), length: "256" },
        { label: "info of 1024 bytes (OpenSSL's limit)", algorithm: hkdf("SHA-256", salt, random(1024)), length: 256 },
        { label: "info of 1025 bytes", algorithm: hkdf("SHA-256", salt, random(1025)), length: 256 },
        { label: "a 4096-byte salt", algorithm: hkdf("SHA-256", random(4096), info), length: 256 },
        { label: "the algorithm as a string", algorithm: "HKDF", length: 256 },
        { label: "the PBKDF2 algorithm with an HKDF key", algorithm: pbkdf2("SHA-256", salt, 1), length: 256 },
      ];
      for (const c of hkdfCases) {
        (c.mismatch ? it.skip : it)(`HKDF: ${c.label}`, async () => {
          await assertSameOutcome(
            c.label,
            () => (c.omitLength ? ours.deriveBits(c.algorithm, hkdfKeys.ours) : ours.deriveBits(c.algorithm, hkdfKeys.ours, c.length)),
            () => (c.omitLength ? theirs.deriveBits(c.algorithm, hkdfKeys.node) : theirs.deriveBits(c.algorithm, hkdfKeys.node, c.length)),
          );
        });
      }

      const pbkdf2Cases: { label: string; algorithm: unknown; length?: unknown; mismatch?: boolean }[] = [
        { label: "no salt", algorithm: { name: "PBKDF2", hash: "SHA-256", iterations: 1 }, length: 256 },
        { label: "no iterations", algorithm: { name: "PBKDF2", hash: "SHA-256", salt }, length: 256 },
        { label: "no hash", algorithm: { name: "PBKDF2", salt, iterations: 1 }, length: 256 },
        { label: "hash SHA-224", algorithm: pbkdf2("SHA-224", salt, 1), length: 256 },
        { label: "iterations 0", algorithm: pbkdf2("SHA-256", salt, 0), length: 256 },
        { label: "iterations 0, length 0 (iterations first)", algorithm: pbkdf2("SHA-256", salt, 0), length: 0 },
        { label: "iterations 0, length null (iterations first)", algorithm: pbkdf2("SHA-256", salt, 0), length: null },
        { label: "iterations 0, length 7 (iterations first)", algorithm: pbkdf2("SHA-256", salt, 0), length: 7 },
        { label: "iterations -1", algorithm: pbkdf2("SHA-256", salt, -1), length: 256 },
        { label: "iterations 2^32 (over unsigned long)", algorithm: pbkdf2("SHA-256", salt, 2 ** 32), length: 256 },
        { label: "iterations 2^31 (over OpenSSL's int)", algorithm: pbkdf2("SHA-256", salt, 2 ** 31), length: 256 },
        { label: "iterations 2^32 - 1", algorithm: pbkdf2("SHA-256", salt, 2 ** 32 - 1), length: 256 },
        { label: "iterations 2^31, length 0 (the length is checked first)", algorithm: pbkdf2("SHA-256", salt, 2 ** 31), length: 0 },
        { label: "iterations 1.9 (WebIDL truncates)", algorithm: pbkdf2("SHA-256", salt, 1.9), length: 256 },
        { label: "iterations NaN", algorithm: pbkdf2("SHA-256", salt, Number.NaN), length: 256 },
        { label: "length 7", algorithm: pbkdf2("SHA-256", salt, 1), length: 7 },
        { label: "length null", algorithm: pbkdf2("SHA-256", salt, 1), length: null },
        { label: "length 2^32", algorithm: pbkdf2("SHA-256", salt, 1), length: 2 ** 32 },
        { label: "length 2^32 - 1", algorithm: pbkdf2("SHA-256", salt, 1), length: 2 ** 32 - 1 },
        { label: "salt a number", algorithm: { name: "PBKDF2", hash: "SHA-256", salt: 5, iterations: 1 }, length: 256 },
        { label: "the HKDF algorithm with a PBKDF2 key", algorithm: hkdf("SHA-256", salt, info), length: 256 },
      ];
      for (const c of pbkdf2Cases) {
        (c.mismatch ? it.skip : it)(`PBKDF2: ${c.label}`, async () => {
          await assertSameOutcome(c.label, () => ours.deriveBits(c.algorithm, pbkdf2Keys.ours, c.length), () => theirs.deriveBits(c.algorithm, pbkdf2Keys.node, c.length));
        });
      }

      it("WebIDL's conversions of length and of a JWK given as bytes: ours and Node's outcomes, recorded", async () => {
        const algorithm = hkdf("SHA-256", salt, info);
        const recorded = [];
        for (const length of [-8, 2 ** 32, Number.NaN]) {
          recorded.push([length, await outcome(() => ours.deriveBits(algorithm, hkdfKeys.ours, length)), await outcome(() => theirs.deriveBits(algorithm, hkdfKeys.node, length))]);
        }
        recorded.push(["jwk bytes", await outcome(() => ours.importKey("jwk", password, "HKDF", false, ["deriveBits"])), await outcome(() => theirs.importKey("jwk", password, "HKDF", false, ["deriveBits"]))]);
        assert.deepEqual(recorded, [
          [-8, "OperationError", "OperationError"],
          [2 ** 32, "ok", "ok"],
          [Number.NaN, "ok", "ok"],
          ["jwk bytes", "NotSupportedError", "NotSupportedError"],
        ]);
      });

      it("a base key without the deriveBits usage", async () => {
        const outcomeName = await assertSameOutcome(
          "deriveKey-only key",
          () => ours.deriveBits(hkdf("SHA-256", salt, info), deriveKeyOnly.ours, 256),
          () => theirs.deriveBits(hkdf("SHA-256", salt, info), deriveKeyOnly.node, 256),
        );
        assert.equal(outcomeName, "InvalidAccessError");
      });

      it("a base key that is not a CryptoKey, or is Node's own", async () => {
        await assertSameOutcome("not a key", () => ours.deriveBits(hkdf("SHA-256", salt, info), {}, 256), () => theirs.deriveBits(hkdf("SHA-256", salt, info), {}, 256));
        // Node's key in our implementation: InvalidAccessError (its material is not ours to use);
        // Node accepts its own key, of course.
        assert.equal(await outcome(() => ours.deriveBits(hkdf("SHA-256", salt, info), hkdfKeys.node, 256)), "InvalidAccessError");
      });
    });

    describe("deriveKey", () => {
      let hkdfKeys: KeyPair;
      let pbkdf2Keys: KeyPair;
      let deriveBitsOnly: KeyPair;
      before(async () => {
        hkdfKeys = await baseKeys("HKDF", password);
        pbkdf2Keys = await baseKeys("PBKDF2", password);
        deriveBitsOnly = await baseKeys("PBKDF2", password, ["deriveBits"]);
      });

      const hkdfAlgorithm = hkdf("SHA-256", random(16), random(16));
      const pbkdf2Algorithm = pbkdf2("SHA-256", random(16), 10);
      const cases: { label: string; target: unknown; extractable?: boolean; usages: unknown }[] = [
        { label: "into HKDF (its length is null)", target: "HKDF", usages: ["deriveBits"] },
        { label: "into PBKDF2 (its length is null)", target: "PBKDF2", usages: ["deriveBits"] },
        { label: "into AES-GCM without a length", target: "AES-GCM", usages: ["encrypt"] },
        { label: "into AES-GCM of 100 bits", target: { name: "AES-GCM", length: 100 }, usages: ["encrypt"] },
        { label: "into AES-GCM of 512 bits", target: { name: "AES-GCM", length: 512 }, usages: ["encrypt"] },
        { label: "into AES-GCM with usage sign", target: { name: "AES-GCM", length: 128 }, usages: ["sign"] },
        { label: "into AES-GCM with no usages", target: { name: "AES-GCM", length: 128 }, usages: [] },
        { label: "into AES-KW with usage encrypt", target: { name: "AES-KW", length: 128 }, usages: ["encrypt"] },
        { label: "into HMAC without a hash", target: { name: "HMAC" }, usages: ["sign"] },
        { label: "into HMAC of length 0", target: { name: "HMAC", hash: "SHA-256", length: 0 }, usages: ["sign"] },
        { label: "into HMAC of length 7", target: { name: "HMAC", hash: "SHA-256", length: 7 }, usages: ["sign"] },
        { label: "into HMAC with usage encrypt", target: { name: "HMAC", hash: "SHA-256" }, usages: ["encrypt"] },
        { label: "into ECDH", target: { name: "ECDH", namedCurve: "P-256" }, usages: ["deriveBits"] },
        { label: "into an unknown algorithm", target: "ROT13", usages: ["encrypt"] },
        { label: "into HKDF, extractable", target: "HKDF", extractable: true, usages: ["deriveBits"] },
      ];
      for (const [name, algorithm] of [["HKDF", hkdfAlgorithm], ["PBKDF2", pbkdf2Algorithm]] as const) {
        for (const c of cases) {
          it(`${name}: ${c.label}`, async () => {
            const keys = name === "HKDF" ? hkdfKeys : pbkdf2Keys;
            await assertSameOutcome(
              c.label,
              () => ours.deriveKey(algorithm, keys.ours, c.target, c.extractable ?? false, c.usages),
              () => theirs.deriveKey(algorithm, keys.node, c.target, c.extractable ?? false, c.usages),
            );
          });
        }
      }

      it("PBKDF2: iterations 0 into AES-GCM 128, and a base key without the deriveKey usage", async () => {
        const target = { name: "AES-GCM", length: 128 };
        const zero = pbkdf2("SHA-256", random(8), 0);
        assert.equal(await assertSameOutcome("iterations 0", () => ours.deriveKey(zero, pbkdf2Keys.ours, target, false, ["encrypt"]), () => theirs.deriveKey(zero, pbkdf2Keys.node, target, false, ["encrypt"])), "OperationError");
        assert.equal(
          await assertSameOutcome(
            "deriveBits-only key",
            () => ours.deriveKey(pbkdf2Algorithm, deriveBitsOnly.ours, target, false, ["encrypt"]),
            () => theirs.deriveKey(pbkdf2Algorithm, deriveBitsOnly.node, target, false, ["encrypt"]),
          ),
          "InvalidAccessError",
        );
      });
    });
  });

  describe("on the token", () => {
    let token: Token;
    before(async () => {
      const probe = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"])) as CryptoKey;
      token = keyObjectOf(probe)!.token;
    });

    const allObjects = async () => new Set((await findObjects(token, [])).map((handle: Handle) => handle.toString("hex")));
    const withValue = (value: Uint8Array) => findObjects(token, [{ type: pkcs11js.CKA_VALUE, value: Buffer.from(value) }]);

    it("importing an HKDF or PBKDF2 key makes no token object, and no object holds the password", async () => {
      // 16 bytes, so that the same bytes can also be imported as an AES key below.
      const secret = text("pw: hunter2 0123");
      assert.equal(secret.length, 16);
      const before = await allObjects();
      const keys = [
        await crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveKey", "deriveBits"]),
        await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]),
      ];
      const after = await allObjects();
      assert.deepEqual([...after].filter((handle) => !before.has(handle)), [], "new objects on the token");
      assert.equal((await withValue(secret)).length, 0, "an object with the password as CKA_VALUE");
      for (const key of keys) {
        const ref = keyObjectOf(key)!;
        assert.deepEqual(ref.material, Buffer.from(secret), "the material is held in the key's ref");
        assert.throws(() => ref.handle, /has no token object/);
      }
      // The search works: the same bytes as an extractable AES key are found by their value.
      const control = await crypto.subtle.importKey("raw", secret, "AES-GCM", true, ["encrypt"]);
      const found = await withValue(secret);
      assert.equal(found.length, 1, "the control AES key with the same value");
      assert.equal(found[0].toString("hex"), keyObjectOf(control)!.handle.toString("hex"));
    });

    it("a non-extractable AES key derived from an imported password is a sensitive, non-extractable token object", async () => {
      const password = await crypto.subtle.importKey("raw", text("correct horse battery staple"), "PBKDF2", false, ["deriveKey"]);
      const before = await allObjects();
      const aes = await crypto.subtle.deriveKey(pbkdf2("SHA-256", random(16), 1000), password, { name: "AES-GCM", length: 256 } as AesDerivedKeyParams, false, ["encrypt", "decrypt"]);
      const after = await allObjects();
      const ref = keyObjectOf(aes)!;
      assert.deepEqual([...after].filter((handle) => !before.has(handle)), [ref.handle.toString("hex")], "exactly one new object: the derived key");
      assert.equal(ref.material, undefined);
      const { CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE, CKA_TOKEN, CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_WRAP, CKA_DERIVE, CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN } =
        pkcs11js;
      const flags = readAttributes(token, ref.handle, [CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE, CKA_TOKEN, CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_WRAP, CKA_DERIVE]).map(flag);
      assert.deepEqual(flags, [true, false, true, false, true, true, false, false, false]);
      const [keyClass, keyType, valueLength] = readAttributes(token, ref.handle, [CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN]);
      assert.equal(ulong(keyClass), pkcs11js.CKO_SECRET_KEY);
      assert.equal(ulong(keyType), pkcs11js.CKK_AES);
      assert.equal(ulong(valueLength), 32);
      // The token itself refuses to reveal it, as Web Crypto does.
      assert.throws(() => readAttributes(token, ref.handle, [pkcs11js.CKA_VALUE]), /CKR_ATTRIBUTE_SENSITIVE/);
      await assert.rejects(crypto.subtle.exportKey("raw", aes), { name: "InvalidAccessError" });
    });

    it("an extractable HMAC key derived with HKDF is extractable on the token as asked", async () => {
      const base = await crypto.subtle.importKey("raw", random(32), "HKDF", false, ["deriveKey"]);
      const key = await crypto.subtle.deriveKey(hkdf("SHA-256", random(8), random(8)), base, { name: "HMAC", hash: "SHA-256" } as HmacImportParams, true, ["sign"]);
      const ref = keyObjectOf(key)!;
      assert.deepEqual(readAttributes(token, ref.handle, [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY]).map(flag), [false, true, true, false]);
    });

    it("the held material is overwritten with zeros once its CryptoKey is garbage-collected", async function () {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) this.skip();
      const secret = random(24);
      let material: Buffer | undefined;
      await (async () => {
        const key = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
        material = keyObjectOf(key)!.material!;
      })();
      assert.deepEqual(material, Buffer.from(secret));
      for (let i = 0; i < 20 && material!.some((byte) => byte !== 0); i++) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(material, Buffer.alloc(24), "the bytes are still there after the key was collected");
    });

    it("extensions that ask for a token object ({ token, label, id }) are NotSupportedError (Node ignores unknown members)", async () => {
      for (const extension of [{ token: true }, { label: "password" }, { id: "0102" }]) {
        for (const name of ["HKDF", "PBKDF2"]) {
          await assert.rejects(crypto.subtle.importKey("raw", text("pw"), { name, ...extension }, false, ["deriveBits"]), (error: DOMException) => {
            assert.equal(error.name, "NotSupportedError");
            assert.match(error.message, /held in JavaScript/);
            return true;
          });
          assert.equal(await outcome(() => native.importKey("raw", text("pw"), { name, ...extension } as Algorithm, false, ["deriveBits"])), "ok");
        }
      }
      // token: false asks for what the key is anyway.
      await crypto.subtle.importKey("raw", text("pw"), { name: "HKDF", token: false } as Algorithm, false, ["deriveBits"]);
    });

    /**
     * A base key whose material exists only on the token: this library makes none (the face's
     * deriveKey into HKDF imports bits), so one is made by hand here, a sensitive generic secret
     * with CKA_DERIVE wrapped as an HKDF or PBKDF2 CryptoKey. Deriving with it must fail naming
     * the mechanism, and never read the key out to derive in software.
     */
    for (const [name, mechanism, algorithm] of [
      ["HKDF", "CKM_HKDF_DERIVE", hkdf("SHA-256", random(8), random(8))],
      ["PBKDF2", "CKM_PKCS5_PBKD2", pbkdf2("SHA-256", random(8), 1)],
    ] as const) {
      it(`${name} with a key held only on the token: NotSupportedError naming ${mechanism}; deriveKey too`, async () => {
        const template = [
          ...keyTemplate({ type: "secret", keyType: pkcs11js.CKK_GENERIC_SECRET, extractable: false, usages: BOTH, storage: {}, id: Buffer.alloc(4) }),
          { type: pkcs11js.CKA_VALUE, value: randomBytes(32) },
        ];
        const handle = await createObjectOnToken(token, template);
        const key = createCryptoKey({ token, handle, persistent: false }, "secret", false, { name }, BOTH);
        for (const call of [
          () => crypto.subtle.deriveBits(algorithm, key, 256),
          () => crypto.subtle.deriveKey(algorithm, key, { name: "AES-GCM", length: 128 } as AesDerivedKeyParams, false, ["encrypt"]),
        ]) {
          await assert.rejects(call(), (error: DOMException) => {
            assert.equal(error.name, "NotSupportedError");
            assert.match(error.message, new RegExp(mechanism));
            return true;
          });
        }
        // Node's parameter checks still come first.
        await assert.rejects(crypto.subtle.deriveBits(algorithm, key, 7), { name: "OperationError" });
        // "lacks" the mechanism, or (a token that has it) pkcs11js cannot pass its parameters.
        const has = token.hasMechanism(name === "HKDF" ? 0x402a : pkcs11js.CKM_PKCS5_PBKD2);
        assert.match(await messageOf(() => crypto.subtle.deriveBits(algorithm, key, 256)), has ? /pkcs11js cannot pass/ : /lacks/);
      });
    }

    it("capabilities list HKDF and PBKDF2 on every token (the derivation runs in Node's crypto)", () => {
      assert.deepEqual(crypto.algorithms.HKDF, ["importKey", "deriveBits", "deriveKey"]);
      assert.deepEqual(crypto.algorithms.PBKDF2, ["importKey", "deriveBits", "deriveKey"]);
      assert.equal(crypto.supports("pbkdf2", "deriveKey"), true);
      assert.equal(crypto.supports("HKDF", "exportKey"), false);
    });

    it("after close(), a held key derives no more (OperationError, as for keys on the token)", async () => {
      const other = new Crypto(config());
      const key = await other.subtle.importKey("raw", text("pw"), "PBKDF2", false, ["deriveBits"]);
      const algorithm = pbkdf2("SHA-256", random(8), 1);
      assert.equal((await other.subtle.deriveBits(algorithm, key, 256)).byteLength, 32);
      await other.close();
      await assert.rejects(crypto.subtle.deriveBits(algorithm, key, 256), (error: DOMException) => {
        assert.equal(error.name, "OperationError");
        assert.match(error.message, /closed/);
        return true;
      });
    });
  });
});

async function messageOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}
