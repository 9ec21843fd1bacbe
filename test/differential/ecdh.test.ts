/**
 * Differential tests for ECDH (P-256, P-384, P-521): our SubtleCrypto on the SoftHSM token against
 * Node's own WebCrypto, the oracle. Shared secrets computed on the token equal Node's from the
 * other side of the same key pairs, for every length Node accepts (and its masking of lengths
 * that are not whole bytes); keys derived with deriveKey encrypt and sign as Node's do; a key
 * derived on the token is made there by C_DeriveKey and is as secret as asked; imports and
 * exports equal Node's; errors have Node's names on the same bad inputs. Where we differ, the test
 * is kept and skipped with a MISMATCH comment.
 *
 * A token without CKM_ECDH1_DERIVE (p11-kit 0.24's remote token drops it) still generates, imports
 * and exports ECDH keys; every test that derives must there fail with NotSupportedError naming the
 * mechanism (`itDerives`), and argument errors that come before any token call keep Node's names.
 */
import assert from "node:assert/strict";
import { ECDH, generateKeyPairSync } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { deriveSecretOnToken, readAttributes } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { itIfSupported, mechanismHas, type WhereUnsupported } from "../support/capability.js";
import { assertSameOutcome, bytes, native, outcome, loose, keyShape as shape, assertSameShape, type Loose } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type CurveName = "P-256" | "P-384" | "P-521";

const CURVES: CurveName[] = ["P-256", "P-384", "P-521"];
/** Bytes in the shared secret Z (the field size). */
const SIZE: Record<CurveName, number> = { "P-256": 32, "P-384": 48, "P-521": 66 };
const OPENSSL_CURVE: Record<CurveName, string> = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" };
const BOTH: KeyUsage[] = ["deriveKey", "deriveBits"];

type Bytes = Uint8Array<ArrayBuffer>;

const PLAINTEXT = new TextEncoder().encode("a message for the key both sides derived");
const IV = new Uint8Array(12).fill(7);

const ecdh = (curve: CurveName) => ({ name: "ECDH", namedCurve: curve });
const nextCurve = (curve: CurveName) => CURVES[(CURVES.indexOf(curve) + 1) % CURVES.length];

/**
 * Per curve. A: a Node key pair, also imported into ours (the same material on both sides). G: a
 * pair generated on our token, non-extractable, with its public key exported into Node. B: the
 * peer, a Node pair whose public key is also imported into ours.
 */
interface CurveFixture {
  curve: CurveName;
  node: CryptoKeyPair;
  ours: CryptoKeyPair;
  spki: ArrayBuffer;
  raw: ArrayBuffer;
  pkcs8: ArrayBuffer;
  jwkPublic: JsonWebKey;
  jwkPrivate: JsonWebKey;
  generated: CryptoKeyPair;
  generatedPublicInNode: CryptoKey;
  peer: CryptoKeyPair;
  peerPublicInOurs: CryptoKey;
}

describe("differential: ECDH against Node's WebCrypto", () => {
  let crypto: Crypto;
  let ours: Loose;
  const fixtures = new Map<CurveName, CurveFixture>();
  const fixture = (curve: CurveName) => fixtures.get(curve)!;

  before(async () => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
    for (const curve of CURVES) {
      const algorithm = ecdh(curve);
      const node = (await native.generateKey(algorithm, true, BOTH)) as CryptoKeyPair;
      const pkcs8 = await native.exportKey("pkcs8", node.privateKey);
      const spki = await native.exportKey("spki", node.publicKey);
      const generated = (await crypto.subtle.generateKey(algorithm, false, BOTH)) as CryptoKeyPair;
      const peer = (await native.generateKey(algorithm, true, BOTH)) as CryptoKeyPair;
      fixtures.set(curve, {
        curve,
        node,
        ours: {
          privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, BOTH),
          publicKey: await crypto.subtle.importKey("spki", spki, algorithm, true, []),
        },
        spki,
        pkcs8,
        raw: await native.exportKey("raw", node.publicKey),
        jwkPublic: await native.exportKey("jwk", node.publicKey),
        jwkPrivate: await native.exportKey("jwk", node.privateKey),
        generated,
        generatedPublicInNode: await native.importKey("spki", await crypto.subtle.exportKey("spki", generated.publicKey), algorithm, true, []),
        peer,
        peerPublicInOurs: await crypto.subtle.importKey("spki", await native.exportKey("spki", peer.publicKey), algorithm, true, []),
      });
    }
  });

  after(async () => {
    await crypto?.close();
  });

  const DERIVE = "CKM_ECDH1_DERIVE";
  const derives = () => crypto.supports("ECDH", "deriveBits") && crypto.supports("ECDH", "deriveKey");
  /** A test that derives on the token: NotSupportedError naming CKM_ECDH1_DERIVE where the token lacks it. */
  const itDerives = (title: string, body: () => Promise<void>, call?: WhereUnsupported["call"]) =>
    itIfSupported(derives, title, body, { mechanism: DERIVE, call });

  describe("generateKey on the token: key shapes equal Node's", () => {
    const usageVariants: KeyUsage[][] = [["deriveBits"], ["deriveKey"], ["deriveKey", "deriveBits"], ["deriveBits", "deriveKey", "deriveBits"]];
    for (const curve of CURVES) {
      for (const extractable of [true, false]) {
        for (const usages of usageVariants) {
          it(`${curve}, extractable ${extractable}, usages ${JSON.stringify(usages)}`, async () => {
            const ourPair = (await crypto.subtle.generateKey(ecdh(curve), extractable, usages)) as CryptoKeyPair;
            const nodePair = (await native.generateKey(ecdh(curve), extractable, usages)) as CryptoKeyPair;
            assertSameShape(ourPair.privateKey, nodePair.privateKey, "private key");
            assertSameShape(ourPair.publicKey, nodePair.publicKey, "public key");
            assert.deepEqual(ourPair.publicKey.usages, [], "an ECDH public key has no usages");
          });
        }
      }
    }
  });

  describe("deriveBits: the token's shared secret equals Node's from the other side", () => {
    for (const curve of CURVES) {
      const full = SIZE[curve] * 8;
      for (const length of [null, 8, 128, full, full - 8]) {
        itDerives(`${curve}, length ${length}`, async () => {
          const fx = fixture(curve);
          const params = (publicKey: CryptoKey) => ({ name: "ECDH", public: publicKey });
          // Ours: the token's private key with Node's peer; Node: the peer's private key with ours.
          const mine = await crypto.subtle.deriveBits(params(fx.peerPublicInOurs), fx.generated.privateKey, length);
          const theirs = await native.deriveBits(params(fx.generatedPublicInNode), fx.peer.privateKey, length);
          assert.equal(mine.byteLength, length === null ? SIZE[curve] : length / 8);
          assert.deepStrictEqual(bytes(mine), bytes(theirs));
          // The same material on both sides (A imported into ours) gives the same bits too.
          const sameKeyMine = await crypto.subtle.deriveBits(params(fx.peerPublicInOurs), fx.ours.privateKey, length);
          const sameKeyTheirs = await native.deriveBits(params(fx.peer.publicKey), fx.node.privateKey, length);
          assert.deepStrictEqual(bytes(sameKeyMine), bytes(sameKeyTheirs));
        });
      }

      itDerives(`${curve}: lengths that are not whole bytes are cut and masked as Node does`, async () => {
        const fx = fixture(curve);
        for (const length of [0, 1, 7, 9, 15, 17, full - 1]) {
          const mine = await crypto.subtle.deriveBits({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.ours.privateKey, length);
          const theirs = await native.deriveBits({ name: "ECDH", public: fx.peer.publicKey }, fx.node.privateKey, length);
          assert.deepStrictEqual(bytes(mine), bytes(theirs), `length ${length}`);
        }
      });

      itDerives(`${curve}: the peer's public key may be Node's own CryptoKey (its public material is read through KeyObject)`, async () => {
        const fx = fixture(curve);
        const mine = await crypto.subtle.deriveBits({ name: "ECDH", public: fx.peer.publicKey } as EcdhKeyDeriveParams, fx.generated.privateKey, null);
        const theirs = await native.deriveBits({ name: "ECDH", public: fx.generatedPublicInNode }, fx.peer.privateKey, null);
        assert.deepStrictEqual(bytes(mine), bytes(theirs));
      });

      itDerives(`${curve}: both halves on our token (a pair generated there, and one imported)`, async () => {
        const fx = fixture(curve);
        const one = await crypto.subtle.deriveBits({ name: "ECDH", public: fx.ours.publicKey } as EcdhKeyDeriveParams, fx.generated.privateKey, null);
        const other = await crypto.subtle.deriveBits({ name: "ECDH", public: fx.generated.publicKey } as EcdhKeyDeriveParams, fx.ours.privateKey, null);
        const theirs = await native.deriveBits({ name: "ECDH", public: fx.generatedPublicInNode }, fx.node.privateKey, null);
        assert.deepStrictEqual(bytes(one), bytes(other));
        assert.deepStrictEqual(bytes(one), bytes(theirs));
      });
    }
  });

  describe("deriveKey: derived keys work as Node's derived keys do", () => {
    for (const curve of CURVES) {
      for (const extractable of [false, true]) {
        // The derived key encrypts with AES-GCM: where the token lacks ECDH it is never made.
        itDerives(`${curve}: AES-GCM 256, extractable ${extractable}: same shape, same ciphertext, each decrypts the other's`, async () => {
          const fx = fixture(curve);
          const target = { name: "AES-GCM", length: 256 };
          const usages: KeyUsage[] = ["encrypt", "decrypt"];
          const mine = await crypto.subtle.deriveKey({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.generated.privateKey, target, extractable, usages);
          const theirs = await native.deriveKey({ name: "ECDH", public: fx.generatedPublicInNode }, fx.peer.privateKey, target, extractable, usages);
          assertSameShape(mine, theirs, "derived AES key");
          const params = { name: "AES-GCM", iv: IV };
          const myCiphertext = await crypto.subtle.encrypt(params, mine, PLAINTEXT);
          const theirCiphertext = await native.encrypt(params, theirs, PLAINTEXT);
          assert.deepStrictEqual(bytes(myCiphertext), bytes(theirCiphertext));
          assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(params, mine, theirCiphertext)), bytes(PLAINTEXT));
          if (extractable) {
            assert.deepStrictEqual(bytes(await crypto.subtle.exportKey("raw", mine)), bytes(await native.exportKey("raw", theirs)));
            assert.deepStrictEqual(await crypto.subtle.exportKey("jwk", mine), await native.exportKey("jwk", theirs));
          }
        });
      }

      for (const length of [undefined, 256, SIZE[curve] * 8]) {
        const target = length === undefined ? { name: "HMAC", hash: "SHA-256" } : { name: "HMAC", hash: "SHA-256", length };
        const usages: KeyUsage[] = ["sign", "verify"];
        const deriveMine = () => {
          const fx = fixture(curve);
          return crypto.subtle.deriveKey({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.generated.privateKey, target, false, usages);
        };
        // The default length is the hash's block, 512 bits: longer than the secret of P-256 and
        // P-384, an OperationError before any token call; the others reach the token.
        const tooLong = length === undefined && curve !== "P-521";
        (tooLong ? it : (title: string, body: () => Promise<void>) => itDerives(title, body, deriveMine))(`${curve}: HMAC SHA-256, length ${length}: same outcome; if derived, the same shape and MACs`, async () => {
          const fx = fixture(curve);
          const deriveTheirs = () => native.deriveKey({ name: "ECDH", public: fx.generatedPublicInNode }, fx.peer.privateKey, target, false, usages);
          const result = await assertSameOutcome("deriveKey", deriveMine, deriveTheirs);
          assert.equal(result, tooLong ? "OperationError" : "ok");
          if (result !== "ok") return;
          const [mine, theirs] = [await deriveMine(), await deriveTheirs()];
          assertSameShape(mine, theirs, "derived HMAC key");
          const myMac = await crypto.subtle.sign("HMAC", mine, PLAINTEXT);
          assert.deepStrictEqual(bytes(myMac), bytes(await native.sign("HMAC", theirs, PLAINTEXT)));
          assert.equal(await crypto.subtle.verify("HMAC", mine, myMac, PLAINTEXT), true);
        });
      }
    }
  });

  describe("a key derived on the token stays there", () => {
    const flag = (value: Buffer) => value.length > 0 && value[0] !== 0;
    const {
      CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VALUE,
    } = pkcs11js;
    const attributes = (key: CryptoKey, types: number[]) => {
      const ref = keyObjectOf(key)!;
      return readAttributes(ref.token, ref.handle, types).map(flag);
    };
    const assertValueRefused = (key: CryptoKey) => {
      const ref = keyObjectOf(key)!;
      assert.throws(() => readAttributes(ref.token, ref.handle, [CKA_VALUE]), /CKR_ATTRIBUTE_SENSITIVE/);
    };

    /** Runs `derive`, counting the token's C_DeriveKey and C_CreateObject calls meanwhile. */
    async function counting<T>(derive: () => Promise<T>): Promise<{ result: T; derived: number; created: number }> {
      const pkcs11 = keyObjectOf(fixture("P-256").generated.privateKey)!.token.module.pkcs11;
      const counts = { derived: 0, created: 0 };
      const spy = <K extends "C_DeriveKey" | "C_CreateObject">(name: K, count: keyof typeof counts) => {
        const own = Object.prototype.hasOwnProperty.call(pkcs11, name);
        const original = pkcs11[name];
        pkcs11[name] = function (this: unknown, ...args: unknown[]) {
          counts[count]++;
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        } as (typeof pkcs11)[K];
        // The module is shared by every connection: leave its object as it was.
        return () => {
          if (own) pkcs11[name] = original;
          else delete (pkcs11 as unknown as Record<string, unknown>)[name];
        };
      };
      const restore = [spy("C_DeriveKey", "derived"), spy("C_CreateObject", "created")];
      try {
        return { result: await derive(), ...counts };
      } finally {
        restore.forEach((undo) => undo());
      }
    }

    /**
     * CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE of a key made by C_DeriveKey are the token's
     * to set, and never more than the base key's. SoftHSM carries over the base key's (true: the
     * base is generated non-extractable on the token); NSS softokn sets both false on every key it
     * derives (PKCS#11 would carry them over).
     */
    const assertDerivedFlags = (key: CryptoKey, base: CryptoKey) => {
      const [alwaysSensitive, neverExtractable] = attributes(key, [CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE]);
      assert.deepEqual(attributes(base, [CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE]), [true, true], "the base key, generated non-extractable on the token");
      assert.equal(alwaysSensitive, neverExtractable, "CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE disagree");
    };

    itDerives("P-256 into AES-GCM 256, non-extractable: sensitive, never extractable, made by C_DeriveKey, value refused", async () => {
      const fx = fixture("P-256");
      const { result: key, derived, created } = await counting(() =>
        crypto.subtle.deriveKey({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.generated.privateKey, { name: "AES-GCM", length: 256 } as AesDerivedKeyParams, false, ["encrypt"]));
      assert.deepEqual({ derived, created }, { derived: 1, created: 0 }, "made by one C_DeriveKey, no C_CreateObject");
      assert.deepEqual(attributes(key, [CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ENCRYPT, CKA_DECRYPT]), [true, false, true, false]);
      assertDerivedFlags(key, fx.generated.privateKey);
      assertValueRefused(key);
      await assert.rejects(crypto.subtle.exportKey("raw", key), { name: "InvalidAccessError" });
    });

    for (const curve of CURVES) {
      itDerives(`${curve} into HMAC SHA-256 of the secret's full length, non-extractable: made on the token, value refused`, async () => {
        const fx = fixture(curve);
        const target = { name: "HMAC", hash: "SHA-256", length: SIZE[curve] * 8 };
        const { result: key, derived, created } = await counting(() =>
          crypto.subtle.deriveKey({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.generated.privateKey, target, false, ["sign"]));
        assert.deepEqual({ derived, created }, { derived: 1, created: 0 }, "made by one C_DeriveKey, no C_CreateObject");
        assert.deepEqual(attributes(key, [CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_SIGN]), [true, false, true]);
        assertDerivedFlags(key, fx.generated.privateKey);
        assertValueRefused(key);
      });
    }

    itDerives("P-384 into AES-GCM 256 (shorter than the secret): imported from derived bits, since the token truncates from the other end", async () => {
      const fx = fixture("P-384");
      const { result: key, created } = await counting(() =>
        crypto.subtle.deriveKey({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.generated.privateKey, { name: "AES-GCM", length: 256 } as AesDerivedKeyParams, false, ["encrypt"]));
      assert.equal(created, 1, "imported with C_CreateObject");
      // Still non-extractable on the token, but its value passed through JavaScript on the way in.
      assert.deepEqual(attributes(key, [CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE]), [true, false, false, false]);
      assertValueRefused(key);
    });

    itIfSupported(() => mechanismHas(crypto, DERIVE, pkcs11js.CKF_DERIVE), "why: with CKA_VALUE_LEN shorter than Z, the token keeps Z's last bytes; Web Crypto keeps the first", async () => {
      const fx = fixture("P-384");
      const ref = keyObjectOf(fx.ours.privateKey)!;
      const point = Buffer.from(await native.exportKey("raw", fx.peer.publicKey));
      const mechanism = { mechanism: pkcs11js.CKM_ECDH1_DERIVE, parameter: { type: pkcs11js.CK_PARAMS_EC_DH, kdf: pkcs11js.CKD_NULL, publicData: point } };
      const template = (length: number) => [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_VALUE_LEN, value: length },
      ];
      const z = bytes(await native.deriveBits({ name: "ECDH", public: fx.peer.publicKey }, fx.node.privateKey, null));
      const truncated = await deriveSecretOnToken(ref.token, mechanism as never, ref.handle, template(32));
      assert.deepStrictEqual(truncated, z.subarray(z.length - 32));
      assert.notDeepStrictEqual(truncated, z.subarray(0, 32));
      assert.deepStrictEqual(await deriveSecretOnToken(ref.token, mechanism as never, ref.handle, template(48)), z);
    }, {
      mechanism: DERIVE,
      // The token cannot be asked directly; ours refuses the same derivation.
      call: () => crypto.subtle.deriveBits({ name: "ECDH", public: fixture("P-384").peerPublicInOurs } as EcdhKeyDeriveParams, fixture("P-384").ours.privateKey, 256),
    });
  });

  describe("import and export round trips: our exports equal Node's", () => {
    async function roundTrip(curve: CurveName, format: KeyFormat, data: BufferSource | JsonWebKey, usages: KeyUsage[], extractable = true) {
      const ourKey = (await ours.importKey(format, data, ecdh(curve), extractable, usages)) as CryptoKey;
      const nodeKey = (await loose(native).importKey(format, data, ecdh(curve), extractable, usages)) as CryptoKey;
      assertSameShape(ourKey, nodeKey, `${format} import`);
      const formats: KeyFormat[] = nodeKey.type === "public" ? ["spki", "raw", "jwk"] : ["pkcs8", "jwk"];
      for (const out of formats) {
        const mine = await crypto.subtle.exportKey(out, ourKey);
        const theirs = await native.exportKey(out, nodeKey);
        if (out === "jwk") assert.deepStrictEqual(mine, theirs, `jwk export after ${format} import`);
        else assert.deepStrictEqual(bytes(mine as ArrayBuffer), bytes(theirs as ArrayBuffer), `${out} export after ${format} import`);
      }
    }

    for (const curve of CURVES) {
      it(`${curve}: spki`, () => roundTrip(curve, "spki", fixture(curve).spki, []));
      it(`${curve}: raw (uncompressed point)`, () => roundTrip(curve, "raw", fixture(curve).raw, []));
      it(`${curve}: raw compressed point`, () => {
        const compressed = ECDH.convertKey(bytes(fixture(curve).raw), OPENSSL_CURVE[curve], undefined, undefined, "compressed") as Buffer;
        return roundTrip(curve, "raw", new Uint8Array(compressed), []);
      });
      it(`${curve}: pkcs8`, () => roundTrip(curve, "pkcs8", fixture(curve).pkcs8, BOTH));
      it(`${curve}: pkcs8 with deriveBits only`, () => roundTrip(curve, "pkcs8", fixture(curve).pkcs8, ["deriveBits"]));
      it(`${curve}: jwk public`, () => roundTrip(curve, "jwk", fixture(curve).jwkPublic, []));
      it(`${curve}: jwk private`, () => roundTrip(curve, "jwk", fixture(curve).jwkPrivate, BOTH));
      it(`${curve}: jwk private with use enc and an alg Node ignores for ECDH`, () =>
        roundTrip(curve, "jwk", { ...fixture(curve).jwkPrivate, use: "enc", alg: "ECDH-ES" }, ["deriveKey"]));
      it(`${curve}: a pair generated on the token exports what Node exports after importing that export`, async () => {
        const pair = (await crypto.subtle.generateKey(ecdh(curve), true, BOTH)) as CryptoKeyPair;
        const pkcs8 = await crypto.subtle.exportKey("pkcs8", pair.privateKey);
        const nodePrivate = await native.importKey("pkcs8", pkcs8, ecdh(curve), true, BOTH);
        assert.deepStrictEqual(bytes(await native.exportKey("pkcs8", nodePrivate)), bytes(pkcs8));
        assert.deepStrictEqual(await crypto.subtle.exportKey("jwk", pair.privateKey), await native.exportKey("jwk", nodePrivate));
        const jwk = await native.exportKey("jwk", nodePrivate);
        const publicFromPrivate = await native.importKey("jwk", { kty: "EC", crv: curve, x: jwk.x, y: jwk.y }, ecdh(curve), true, []);
        assert.deepStrictEqual(bytes(await crypto.subtle.exportKey("raw", pair.publicKey)), bytes(await native.exportKey("raw", publicFromPrivate)));
      });
    }
  });

  describe("error names equal Node's on the same bad inputs", () => {
    /** One side's keys: ours imported from the same Node material as Node's, so inputs are equal. */
    interface Side {
      subtle: Loose;
      privateKey: CryptoKey;
      publicKey: CryptoKey;
      peer: CryptoKey;
      otherCurvePeer: CryptoKey;
      peerPrivate: CryptoKey;
      ecdsaPublic: CryptoKey;
      ecdsaPrivate: CryptoKey;
      bitsOnly: CryptoKey;
      keyOnly: CryptoKey;
      nonExtractable: CryptoKey;
      /** Node's X25519 public key, on both sides (our token has no X25519). */
      x25519Public: CryptoKey;
      fx: CurveFixture;
    }

    interface ErrorCase {
      label: string;
      call: (side: Side) => unknown;
      mismatch?: true;
      /**
       * Whether the call passes every check made before the token derives: where the token lacks
       * CKM_ECDH1_DERIVE, ours then answers NotSupportedError. A derived key shorter than the
       * secret is imported from derived bits, and its import checks (usages) come after them.
       */
      derives?: boolean;
    }

    function errorCases(curve: CurveName): ErrorCase[] {
      const algorithm = ecdh(curve);
      const full = SIZE[curve] * 8;
      const params = (s: Side, publicKey: CryptoKey = s.peer) => ({ name: "ECDH", public: publicKey });
      const aes256 = { name: "AES-GCM", length: 256 };
      const hmacFull = { name: "HMAC", hash: "SHA-256", length: full };
      const rawPoint = (s: Side) => new Uint8Array(s.fx.raw);
      const importedFromBits = SIZE[curve] > 32;
      return [
        // generateKey
        { label: "generateKey, usages [sign]", call: (s) => s.subtle.generateKey(algorithm, true, ["sign"]) },
        { label: "generateKey, usages [deriveBits, verify]", call: (s) => s.subtle.generateKey(algorithm, true, ["deriveBits", "verify"]) },
        { label: "generateKey, usages []", call: (s) => s.subtle.generateKey(algorithm, true, []) },
        { label: "generateKey, unknown curve P-192", call: (s) => s.subtle.generateKey({ name: "ECDH", namedCurve: "P-192" }, true, BOTH) },
        { label: "generateKey, curve in lower case", call: (s) => s.subtle.generateKey({ name: "ECDH", namedCurve: curve.toLowerCase() }, true, BOTH) },
        { label: "generateKey, missing namedCurve", call: (s) => s.subtle.generateKey({ name: "ECDH" }, true, BOTH) },
        // importKey
        { label: "importKey spki, usages [deriveBits] (a public key has none)", call: (s) => s.subtle.importKey("spki", s.fx.spki, algorithm, true, ["deriveBits"]) },
        { label: "importKey raw, usages [deriveKey]", call: (s) => s.subtle.importKey("raw", s.fx.raw, algorithm, true, ["deriveKey"]) },
        { label: "importKey pkcs8, usages [sign]", call: (s) => s.subtle.importKey("pkcs8", s.fx.pkcs8, algorithm, true, ["sign"]) },
        { label: "importKey pkcs8, usages []", call: (s) => s.subtle.importKey("pkcs8", s.fx.pkcs8, algorithm, true, []) },
        { label: "importKey pkcs8 as another curve", call: (s) => s.subtle.importKey("pkcs8", s.fx.pkcs8, ecdh(nextCurve(curve)), true, BOTH) },
        { label: "importKey raw point cut short", call: (s) => s.subtle.importKey("raw", rawPoint(s).slice(0, -1), algorithm, true, []) },
        { label: "importKey spki of an Ed25519 key", call: (s) => s.subtle.importKey("spki", edSpki, algorithm, true, []) },
        { label: "importKey jwk public, usages [deriveBits]", call: (s) => s.subtle.importKey("jwk", s.fx.jwkPublic, algorithm, true, ["deriveBits"]) },
        { label: "importKey jwk, use sig", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, use: "sig" }, algorithm, true, BOTH) },
        { label: "importKey jwk, use sig with no usages (not checked then)", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, use: "sig" }, algorithm, true, []) },
        { label: "importKey jwk, alg ES256", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, alg: "ES256" }, algorithm, true, BOTH) },
        { label: "importKey jwk, crv of another curve", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, crv: nextCurve(curve) }, algorithm, true, BOTH) },
        { label: "importKey jwk, kty OKP", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, kty: "OKP" }, algorithm, true, BOTH) },
        { label: "importKey jwk, ext false and extractable true", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, ext: false }, algorithm, true, BOTH) },
        { label: "importKey jwk, key_ops without deriveBits", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, key_ops: ["deriveKey"] }, algorithm, true, BOTH) },
        { label: "importKey jwk, sign usages and use sig (usages first)", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, use: "sig" }, algorithm, true, ["sign"]) },
        // deriveBits
        { label: "deriveBits with a key that has only deriveKey", call: (s) => s.subtle.deriveBits(params(s), s.keyOnly, 128) },
        { label: "deriveBits with the public key as base key", call: (s) => s.subtle.deriveBits(params(s), s.publicKey, 128) },
        { label: "deriveBits, public key of another curve", call: (s) => s.subtle.deriveBits(params(s, s.otherCurvePeer), s.privateKey, 128) },
        { label: "deriveBits, a private key as public", call: (s) => s.subtle.deriveBits(params(s, s.peerPrivate), s.privateKey, 128) },
        { label: "deriveBits, an ECDSA public key as public", call: (s) => s.subtle.deriveBits(params(s, s.ecdsaPublic), s.privateKey, 128) },
        { label: "deriveBits, an X25519 public key as public", call: (s) => s.subtle.deriveBits(params(s, s.x25519Public), s.privateKey, 128) },
        { label: "deriveBits with an ECDSA private key and ECDH parameters", call: (s) => s.subtle.deriveBits(params(s), s.ecdsaPrivate, 128) },
        { label: "deriveBits, length one byte too long", call: (s) => s.subtle.deriveBits(params(s), s.privateKey, full + 8) },
        { label: "deriveBits, length one bit too long", call: (s) => s.subtle.deriveBits(params(s), s.privateKey, full + 1) },
        { label: "deriveBits, length 4096", call: (s) => s.subtle.deriveBits(params(s), s.privateKey, 4096) },
        { label: "deriveBits, length 0", call: (s) => s.subtle.deriveBits(params(s), s.privateKey, 0), derives: true },
        { label: "deriveBits, length as the string '128'", call: (s) => s.subtle.deriveBits(params(s), s.privateKey, "128"), derives: true },
        { label: "deriveBits, length omitted", call: (s) => s.subtle.deriveBits(params(s), s.privateKey), derives: true },
        { label: "deriveBits, missing public", call: (s) => s.subtle.deriveBits({ name: "ECDH" }, s.privateKey, 128) },
        { label: "deriveBits, algorithm as the bare string ECDH", call: (s) => s.subtle.deriveBits("ECDH", s.privateKey, 128) },
        { label: "deriveBits, public a plain object", call: (s) => s.subtle.deriveBits({ name: "ECDH", public: { type: "public" } }, s.privateKey, 128) },
        { label: "deriveBits, public null", call: (s) => s.subtle.deriveBits({ name: "ECDH", public: null }, s.privateKey, 128) },
        { label: "deriveBits, non-extractable base key (fine)", call: (s) => s.subtle.deriveBits(params(s), s.nonExtractable, null), derives: true },
        // deriveKey
        { label: "deriveKey with a key that has only deriveBits", call: (s) => s.subtle.deriveKey(params(s), s.bitsOnly, aes256, false, ["encrypt"]) },
        { label: "deriveKey AES-GCM length 100", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { name: "AES-GCM", length: 100 }, false, ["encrypt"]) },
        { label: "deriveKey AES-GCM 256, usages [sign]", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, aes256, false, ["sign"]), derives: importedFromBits },
        { label: "deriveKey AES-GCM 256, usages []", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, aes256, false, []), derives: importedFromBits },
        { label: "deriveKey AES-KW 256, usages [encrypt]", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { name: "AES-KW", length: 256 }, false, ["encrypt"]), derives: importedFromBits },
        { label: "deriveKey AES-KW 256, usages [wrapKey]", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { name: "AES-KW", length: 256 }, false, ["wrapKey"]), derives: true },
        { label: "deriveKey AES-GCM 256, other curve and usages [sign] (derivation errors first)", call: (s) => s.subtle.deriveKey(params(s, s.otherCurvePeer), s.privateKey, aes256, false, ["sign"]) },
        { label: "deriveKey HMAC of the full length, usages [encrypt]", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, hmacFull, false, ["encrypt"]) },
        { label: "deriveKey HMAC of the full length, usages []", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, hmacFull, false, []) },
        { label: "deriveKey HMAC one byte longer than the secret", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { ...hmacFull, length: full + 8 }, false, ["sign"]) },
        { label: "deriveKey HMAC of 255 bits", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { ...hmacFull, length: 255 }, false, ["sign"]), derives: true },
        { label: "deriveKey HMAC length 0", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { ...hmacFull, length: 0 }, false, ["sign"]) },
        { label: "deriveKey HMAC SHA-512 of 256 bits", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { name: "HMAC", hash: "SHA-512", length: 256 }, false, ["sign"]), derives: true },
        { label: "deriveKey into an unknown algorithm", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { name: "AES-XYZ", length: 256 }, false, ["encrypt"]) },
        { label: "deriveKey into ECDSA", call: (s) => s.subtle.deriveKey(params(s), s.privateKey, { name: "ECDSA", namedCurve: curve }, false, ["sign"]) },
        { label: "deriveKey, a private key as public", call: (s) => s.subtle.deriveKey(params(s, s.peerPrivate), s.privateKey, aes256, false, ["encrypt"]) },
        { label: "deriveKey, an ECDSA public key as public", call: (s) => s.subtle.deriveKey(params(s, s.ecdsaPublic), s.privateKey, aes256, false, ["encrypt"]) },
        // exportKey
        { label: "exportKey raw of a private key", call: (s) => s.subtle.exportKey("raw", s.privateKey) },
        { label: "exportKey spki of a private key", call: (s) => s.subtle.exportKey("spki", s.privateKey) },
        { label: "exportKey pkcs8 of a public key", call: (s) => s.subtle.exportKey("pkcs8", s.publicKey) },
        { label: "exportKey jwk of a non-extractable private key", call: (s) => s.subtle.exportKey("jwk", s.nonExtractable) },
      ];
    }

    let edSpki: Buffer;
    before(() => {
      edSpki = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    });

    for (const curve of CURVES) {
      describe(curve, () => {
        let oursSide: Side;
        let nodeSide: Side;
        before(async () => {
          const fx = fixture(curve);
          const other = fixture(nextCurve(curve));
          const algorithm = ecdh(curve);
          const ecdsa = { name: "ECDSA", namedCurve: curve };
          const peerPkcs8 = await native.exportKey("pkcs8", fx.peer.privateKey);
          const ecdsaPair = (await native.generateKey(ecdsa, true, ["sign", "verify"])) as CryptoKeyPair;
          const ecdsaSpki = await native.exportKey("spki", ecdsaPair.publicKey);
          const ecdsaPkcs8 = await native.exportKey("pkcs8", ecdsaPair.privateKey);
          const x25519Public = ((await native.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair).publicKey;
          const side = async (subtle: SubtleCrypto, pair: CryptoKeyPair, peer: CryptoKey, otherCurvePeer: CryptoKey): Promise<Side> => ({
            subtle: loose(subtle),
            privateKey: pair.privateKey,
            publicKey: pair.publicKey,
            peer,
            otherCurvePeer,
            peerPrivate: await subtle.importKey("pkcs8", peerPkcs8, algorithm, true, BOTH),
            ecdsaPublic: await subtle.importKey("spki", ecdsaSpki, ecdsa, true, ["verify"]),
            ecdsaPrivate: await subtle.importKey("pkcs8", ecdsaPkcs8, ecdsa, true, ["sign"]),
            bitsOnly: await subtle.importKey("pkcs8", fx.pkcs8, algorithm, true, ["deriveBits"]),
            keyOnly: await subtle.importKey("pkcs8", fx.pkcs8, algorithm, true, ["deriveKey"]),
            nonExtractable: await subtle.importKey("pkcs8", fx.pkcs8, algorithm, false, BOTH),
            x25519Public,
            fx,
          });
          oursSide = await side(crypto.subtle as unknown as SubtleCrypto, fx.ours, fx.peerPublicInOurs, await crypto.subtle.importKey("spki", other.spki, ecdh(other.curve), true, []));
          nodeSide = await side(native, fx.node, fx.peer.publicKey, other.node.publicKey);
        });
        for (const { label, call, mismatch, derives: reachesToken } of errorCases(curve)) {
          const body = async () => {
            await assertSameOutcome(`${curve}, ${label}`, () => call(oursSide), () => call(nodeSide));
          };
          if (mismatch) it.skip(label, body);
          else if (reachesToken) itDerives(label, body, () => call(oursSide));
          else it(label, body);
        }
      });
    }
  });

  it("outcome() sees a real difference (the comparisons above can fail)", async () => {
    const fx = fixture("P-256");
    assert.equal(await outcome(() => crypto.subtle.deriveBits({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.ours.privateKey, 264)), "OperationError");
    // Where the token lacks CKM_ECDH1_DERIVE, the well-formed call is NotSupportedError: still not "ok".
    assert.equal(await outcome(() => crypto.subtle.deriveBits({ name: "ECDH", public: fx.peerPublicInOurs } as EcdhKeyDeriveParams, fx.ours.privateKey, 256)), derives() ? "ok" : "NotSupportedError");
  });
});
