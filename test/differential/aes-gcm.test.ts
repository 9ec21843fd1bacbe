/**
 * Differential tests for AES-GCM (128/192/256-bit keys) on the token against Node's WebCrypto:
 * generateKey shapes; with the same raw key in both, ciphertexts byte-for-byte equal to Node's for
 * IV lengths 12 to 128 bytes, every tag length, with and without (and with empty) additional data,
 * plaintexts of 1 byte to 1 MiB; each side decrypts the other's output; tampered ciphertext, tag,
 * IV or AAD fail alike; raw and JWK import/export round trips; and the same error names as Node
 * for bad key lengths, tag lengths, IVs, short ciphertexts, usages, JWK members and key misuse.
 *
 * A token without CKM_AES_GCM (p11-kit 0.24's remote token drops it) still generates, imports and
 * exports AES-GCM keys and checks arguments as Node does; every test that encrypts or decrypts
 * must there fail with NotSupportedError naming CKM_AES_GCM (`itGcm`).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { itIfSupported } from "../support/capability.js";
import { assertSameOutcome, bytes, native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

/** Lets the error tests pass arguments the typings would refuse, to both implementations alike. */
type LooseSubtle = Record<"generateKey" | "importKey" | "exportKey" | "encrypt" | "decrypt" | "sign", (...args: unknown[]) => Promise<unknown>>;
const loose = (subtle: object): LooseSubtle => subtle as unknown as LooseSubtle;

const KEY_LENGTHS = [128, 192, 256] as const;
const TAG_LENGTHS = [32, 64, 96, 104, 112, 120, 128];
/** IV lengths (bytes) both accept: the usual 12, one block, a long one, and Node's largest (128). */
const IV_LENGTHS = [12, 16, 64, 128];
/** Bytes in an ordinary (not shared) ArrayBuffer: what the BufferSource typings accept. */
type Bytes = Uint8Array<ArrayBuffer>;
const random = (length: number): Bytes => new Uint8Array(randomBytes(length));

const MIB = 1 << 20;
const BIG_PLAINTEXT = random(MIB);

type Keys = { ours: CryptoKey; theirs: CryptoKey };
const ALL_USAGES: KeyUsage[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];

const shape = (key: CryptoKey) => ({ type: key.type, extractable: key.extractable, algorithm: key.algorithm, usages: key.usages });

const aes = (length: number): AesKeyGenParams => ({ name: "AES-GCM", length });

function gcm(iv: Bytes, tagLength?: number, additionalData?: Bytes): AesGcmParams {
  const params: AesGcmParams = { name: "AES-GCM", iv };
  if (tagLength !== undefined) params.tagLength = tagLength;
  if (additionalData !== undefined) params.additionalData = additionalData;
  return params;
}

/** A copy with one bit flipped at `index` (negative counts from the end). */
function flipBit(data: Uint8Array, index: number): Bytes {
  const copy = new Uint8Array(data);
  copy[(index + copy.length) % copy.length] ^= 0x01;
  return copy;
}

describe("differential: AES-GCM", () => {
  let crypto: Crypto;

  before(() => {
    crypto = new Crypto(config());
  });

  after(async () => {
    await crypto.close();
  });

  /** A test that encrypts or decrypts on the token: NotSupportedError naming CKM_AES_GCM where the token lacks it. */
  const itGcm = (title: string, body: () => Promise<void>, call?: () => unknown) =>
    itIfSupported(() => crypto.supports("AES-GCM", "encrypt") && crypto.supports("AES-GCM", "decrypt"), title, body, { mechanism: "CKM_AES_GCM", call });

  async function importBoth(raw: Bytes, usages: KeyUsage[] = ["encrypt", "decrypt"], extractable = true): Promise<Keys> {
    return {
      ours: await crypto.subtle.importKey("raw", raw, "AES-GCM", extractable, usages),
      theirs: await native.importKey("raw", raw, "AES-GCM", extractable, usages),
    };
  }

  /**
   * Encrypts with both and asserts equal ciphertexts; each side decrypts the other's ciphertext
   * back to the plaintext. Returns the ciphertext.
   */
  async function sameCiphertext(keys: Keys, params: AesGcmParams, plaintext: Bytes, label: string): Promise<Bytes> {
    const ours = new Uint8Array(await crypto.subtle.encrypt(params, keys.ours, plaintext));
    const theirs = new Uint8Array(await native.encrypt(params, keys.theirs, plaintext));
    assert.deepEqual(ours, theirs, `${label}: ciphertext differs from Node's`);
    assert.equal(ours.length, plaintext.length + (params.tagLength ?? 128) / 8, `${label}: ciphertext length`);
    assert.deepEqual(bytes(await crypto.subtle.decrypt(params, keys.ours, theirs)), Buffer.from(plaintext), `${label}: ours decrypting Node's`);
    assert.deepEqual(bytes(await native.decrypt(params, keys.theirs, ours)), Buffer.from(plaintext), `${label}: Node decrypting ours`);
    return ours;
  }

  describe("generateKey", () => {
    const usageSets: KeyUsage[][] = [["encrypt", "decrypt"], ["decrypt"], ["wrapKey", "unwrapKey"], ALL_USAGES];
    for (const length of KEY_LENGTHS) {
      it(`AES-GCM ${length}: key shapes equal Node's`, async () => {
        for (const usages of usageSets) {
          for (const extractable of [true, false]) {
            const ours = (await crypto.subtle.generateKey(aes(length), extractable, usages)) as CryptoKey;
            const theirs = (await native.generateKey(aes(length), extractable, usages)) as CryptoKey;
            assert.deepEqual(shape(ours), shape(theirs), `${usages.join()}, extractable ${extractable}`);
          }
        }
      });

      itGcm(`AES-GCM ${length}: a generated key encrypts as Node does with its bytes`, async () => {
        const ours = (await crypto.subtle.generateKey({ ...aes(length), name: "aes-gcm" }, true, ["encrypt", "decrypt"])) as CryptoKey;
        const raw = new Uint8Array(await crypto.subtle.exportKey("raw", ours));
        assert.equal(raw.length * 8, length);
        const theirs = await native.importKey("raw", raw, "AES-GCM", true, ["encrypt", "decrypt"]);
        await sameCiphertext({ ours, theirs }, gcm(random(12)), Buffer.from("generated key"), `generated ${length}`);
      });
    }

    it("two generated keys differ", async () => {
      const a = (await crypto.subtle.generateKey(aes(256), true, ["encrypt"])) as CryptoKey;
      const b = (await crypto.subtle.generateKey(aes(256), true, ["encrypt"])) as CryptoKey;
      assert.notDeepEqual(bytes(await crypto.subtle.exportKey("raw", a)), bytes(await crypto.subtle.exportKey("raw", b)));
    });

    // Deliberately the spec's behaviour, not Node 20's: usages in the KeyUsage enumeration's order
    // without duplicates; Node 20 keeps their given order (without duplicates).
    it("usages given out of order and with duplicates are reported in the spec's order (Node 20 keeps their given order)", async () => {
      const usages: KeyUsage[] = ["decrypt", "encrypt", "encrypt"];
      const ours = (await crypto.subtle.generateKey(aes(128), true, usages)) as CryptoKey;
      const theirs = (await native.generateKey(aes(128), true, usages)) as CryptoKey;
      assert.deepEqual(ours.usages, ["encrypt", "decrypt"]);
      assert.deepEqual(theirs.usages, [...new Set(usages)], "Node 20 changed: this test can now compare with it directly");
      const imported = await importBoth(random(16), usages);
      assert.deepEqual((await crypto.subtle.exportKey("jwk", imported.ours)).key_ops, ["encrypt", "decrypt"]);
    });
  });

  describe("encrypt and decrypt with the same raw key", () => {
    const additionalDatas: Array<[string, Bytes | undefined]> = [
      ["no AAD", undefined],
      ["empty AAD", new Uint8Array(0)],
      ["20-byte AAD", random(20)],
    ];
    const plaintexts: Array<[string, Bytes]> = [
      ["1-byte plaintext", random(1)],
      ["17-byte plaintext", random(17)],
      ["100-byte plaintext", random(100)],
    ];

    for (const length of KEY_LENGTHS) {
      for (const tagLength of TAG_LENGTHS) {
        itGcm(`AES-GCM ${length}, tagLength ${tagLength}: IVs of ${IV_LENGTHS.join("/")} bytes, with and without AAD`, async () => {
          const keys = await importBoth(random(length / 8));
          for (const ivLength of IV_LENGTHS) {
            const iv = random(ivLength);
            for (const [aadLabel, aad] of additionalDatas) {
              for (const [ptLabel, plaintext] of plaintexts) {
                await sameCiphertext(keys, gcm(iv, tagLength, aad), plaintext, `${length}/${tagLength}, ${ivLength}-byte IV, ${aadLabel}, ${ptLabel}`);
              }
            }
          }
        });
      }

      itGcm(`AES-GCM ${length}: tagLength omitted is 128, as in Node`, async () => {
        const keys = await importBoth(random(length / 8));
        const iv = random(12);
        const plaintext = Buffer.from("default tag length");
        const implicit = await sameCiphertext(keys, gcm(iv), plaintext, "no tagLength");
        assert.deepEqual(implicit, await sameCiphertext(keys, gcm(iv, 128), plaintext, "tagLength 128"));
      });

      itGcm(`AES-GCM ${length}: 1 MiB plaintext`, async () => {
        const keys = await importBoth(random(length / 8));
        for (const [tagLength, aad] of [[128, undefined], [96, random(33)]] as const) {
          await sameCiphertext(keys, gcm(random(12), tagLength, aad), BIG_PLAINTEXT, `${length}, 1 MiB, tag ${tagLength}`);
        }
      });

      itGcm(`AES-GCM ${length}: Node's encryption of an empty plaintext (a bare tag) decrypts to empty`, async () => {
        const keys = await importBoth(random(length / 8));
        for (const aad of [undefined, random(8)]) {
          const params = gcm(random(12), 128, aad);
          const tag = await native.encrypt(params, keys.theirs, new Uint8Array(0));
          assert.equal(tag.byteLength, 16);
          assert.equal((await crypto.subtle.decrypt(params, keys.ours, tag)).byteLength, 0);
          const tampered = flipBit(new Uint8Array(tag), 0);
          const result = await assertSameOutcome(
            "tampered bare tag",
            () => crypto.subtle.decrypt(params, keys.ours, tampered),
            () => native.decrypt(params, keys.theirs, tampered),
          );
          assert.notEqual(result, "ok", "a tampered bare tag decrypted");
        }
      });

      itGcm(`AES-GCM ${length}: empty plaintext`, async () => {
        const keys = await importBoth(random(length / 8));
        for (const aad of [undefined, random(8)]) {
          await sameCiphertext(keys, gcm(random(12), 128, aad), new Uint8Array(0), `${length}, empty plaintext`);
        }
      });

      // Node's WebCrypto rejects IVs shorter than 12 bytes with OperationError, and so do we.
      it(`AES-GCM ${length}: IVs of 1 and 11 bytes`, async () => {
        const keys = await importBoth(random(length / 8));
        for (const ivLength of [1, 11]) {
          for (const tagLength of TAG_LENGTHS) {
            const params = gcm(random(ivLength), tagLength);
            const plaintext = random(17);
            await assertSameOutcome(
              `${ivLength}-byte IV, tag ${tagLength}`,
              () => crypto.subtle.encrypt(params, keys.ours, plaintext),
              () => native.encrypt(params, keys.theirs, plaintext),
            );
          }
        }
      });
    }

    // Node rejects IVs over 128 bytes with OperationError, and so do we, before the token sees
    // them: SoftHSM would silently use only part of such an IV (nonce reuse) and leave an error on
    // the OpenSSL error queue it shares with Node, which aborts Node's next WebCrypto AES job.
    it("IVs longer than 128 bytes", async () => {
      const keys = await importBoth(random(16));
      for (const ivLength of [129, 1000]) {
        const params = gcm(random(ivLength));
        const plaintext = random(17);
        await assertSameOutcome(
          `${ivLength}-byte IV`,
          () => crypto.subtle.encrypt(params, keys.ours, plaintext),
          () => native.encrypt(params, keys.theirs, plaintext),
        );
      }
    });

    itGcm("different IVs, keys and AAD give different ciphertexts", async () => {
      const keys = await importBoth(random(16));
      const other = await importBoth(random(16));
      const plaintext = Buffer.from("same plaintext");
      const iv = random(12);
      const base = await sameCiphertext(keys, gcm(iv), plaintext, "base");
      assert.notDeepEqual(await sameCiphertext(keys, gcm(random(12)), plaintext, "other IV"), base);
      assert.notDeepEqual(await sameCiphertext(other, gcm(iv), plaintext, "other key"), base);
      assert.notDeepEqual(await sameCiphertext(keys, gcm(iv, 128, Buffer.of(1)), plaintext, "with AAD"), base);
    });

    itGcm("parameters and data as other BufferSource kinds, algorithm name in lower case", async () => {
      const keys = await importBoth(random(32));
      const backing = random(128);
      const arrayBuffer = new Uint8Array(backing).buffer;
      const params = { name: "aes-gcm", iv: new DataView(arrayBuffer, 3, 12), additionalData: new Uint8Array(arrayBuffer, 20, 9) };
      for (const data of [new Uint8Array(arrayBuffer, 40, 50), new DataView(arrayBuffer, 1, 70), arrayBuffer] as BufferSource[]) {
        const ours = await crypto.subtle.encrypt(params, keys.ours, data);
        const theirs = await native.encrypt(params, keys.theirs, data);
        assert.deepEqual(bytes(ours), bytes(theirs));
        assert.deepEqual(bytes(await crypto.subtle.decrypt(params, keys.ours, new DataView(theirs))), bytes(data as ArrayBuffer | ArrayBufferView));
      }
    });

    itGcm("the parameters and data are read at call time: changing them afterwards has no effect", async () => {
      const keys = await importBoth(random(16));
      const iv = random(12);
      const aad = random(10);
      const data = random(1000);
      const expected = bytes(await native.encrypt(gcm(iv, 128, aad), keys.theirs, data));
      const pending = crypto.subtle.encrypt(gcm(iv, 128, aad), keys.ours, data);
      iv.fill(0);
      aad.fill(0);
      data.fill(0);
      assert.deepEqual(bytes(await pending), expected);
    });
  });

  describe("tampering: decrypt fails alike", () => {
    for (const length of KEY_LENGTHS) {
      for (const tagLength of [128, 32]) {
        itGcm(`AES-GCM ${length}, tagLength ${tagLength}: tampered ciphertext, tag, IV or AAD`, async () => {
          const keys = await importBoth(random(length / 8));
          const iv = random(12);
          const aad = random(16);
          const plaintext = random(40);
          const params = gcm(iv, tagLength, aad);
          const ciphertext = await sameCiphertext(keys, params, plaintext, "untampered");
          const tagBytes = tagLength / 8;
          const cases: Array<[string, AesGcmParams, Bytes]> = [
            ["first ciphertext bit flipped", params, flipBit(ciphertext, 0)],
            ["last ciphertext byte before the tag flipped", params, flipBit(ciphertext, -tagBytes - 1)],
            ["first tag bit flipped", params, flipBit(ciphertext, -tagBytes)],
            ["last tag bit flipped", params, flipBit(ciphertext, -1)],
            ["last byte removed", params, ciphertext.subarray(0, -1)],
            ["a byte appended", params, Buffer.concat([ciphertext, Buffer.of(0)])],
            ["tag only", params, ciphertext.subarray(-tagBytes)],
            ["IV bit flipped", gcm(flipBit(iv, 5), tagLength, aad), ciphertext],
            ["IV one byte longer", gcm(Buffer.concat([iv, Buffer.of(0)]), tagLength, aad), ciphertext],
            ["AAD bit flipped", gcm(iv, tagLength, flipBit(aad, 0)), ciphertext],
            ["AAD removed", gcm(iv, tagLength), ciphertext],
            ["AAD empty", gcm(iv, tagLength, new Uint8Array(0)), ciphertext],
            ["other tag length", gcm(iv, tagLength === 128 ? 96 : 64, aad), ciphertext],
          ];
          for (const [label, decryptParams, data] of cases) {
            const result = await assertSameOutcome(
              label,
              () => crypto.subtle.decrypt(decryptParams, keys.ours, data),
              () => native.decrypt(decryptParams, keys.theirs, data),
            );
            assert.notEqual(result, "ok", `${label}: decrypted`);
          }
        });
      }
    }

    itGcm("AAD added where there was none", async () => {
      const keys = await importBoth(random(16));
      const iv = random(12);
      const ciphertext = await sameCiphertext(keys, gcm(iv), random(20), "no AAD");
      for (const aad of [Buffer.of(0), random(16)]) {
        const result = await assertSameOutcome(
          "AAD added",
          () => crypto.subtle.decrypt(gcm(iv, 128, aad), keys.ours, ciphertext),
          () => native.decrypt(gcm(iv, 128, aad), keys.theirs, ciphertext),
        );
        assert.notEqual(result, "ok");
      }
    });

    itGcm("another key of the same length", async () => {
      const keys = await importBoth(random(32));
      const other = await importBoth(random(32));
      const params = gcm(random(12));
      const ciphertext = await sameCiphertext(keys, params, random(20), "key");
      const result = await assertSameOutcome(
        "other key",
        () => crypto.subtle.decrypt(params, other.ours, ciphertext),
        () => native.decrypt(params, other.theirs, ciphertext),
      );
      assert.notEqual(result, "ok");
    });
  });

  describe("import and export", () => {
    for (const length of KEY_LENGTHS) {
      it(`AES-GCM ${length}: raw import; raw and jwk exports equal Node's`, async () => {
        const raw = random(length / 8);
        const keys = await importBoth(raw, ALL_USAGES);
        assert.deepEqual(shape(keys.ours), shape(keys.theirs));
        assert.deepEqual(bytes(await crypto.subtle.exportKey("raw", keys.ours)), Buffer.from(raw));
        const jwk = await crypto.subtle.exportKey("jwk", keys.ours);
        const nodeJwk = await native.exportKey("jwk", keys.theirs);
        assert.deepEqual(jwk, nodeJwk);
        assert.equal(jwk.alg, nodeJwk.alg, "alg"); // A128GCM, A192GCM, A256GCM
      });

      itGcm(`AES-GCM ${length}: jwk import (Node's JWK) round-trips and encrypts as Node`, async () => {
        const theirs = (await native.generateKey(aes(length), true, ["encrypt", "decrypt"])) as CryptoKey;
        const jwk = await native.exportKey("jwk", theirs);
        const ours = await crypto.subtle.importKey("jwk", jwk, "AES-GCM", true, ["encrypt", "decrypt"]);
        const nodeAgain = await native.importKey("jwk", jwk, "AES-GCM", true, ["encrypt", "decrypt"]);
        assert.deepEqual(shape(ours), shape(nodeAgain));
        assert.deepEqual(await crypto.subtle.exportKey("jwk", ours), await native.exportKey("jwk", nodeAgain));
        assert.deepEqual(bytes(await crypto.subtle.exportKey("raw", ours)), bytes(await native.exportKey("raw", theirs)));
        await sameCiphertext({ ours, theirs }, gcm(random(12)), Buffer.from("jwk"), `${length} jwk`);
      });
    }

    it("JWK variants Node accepts: no alg, use 'enc', key_ops wider than usages, ext", async () => {
      const k = randomBytes(16).toString("base64url");
      const variants: Array<[string, JsonWebKey, KeyUsage[], boolean]> = [
        ["no alg", { kty: "oct", k }, ["encrypt", "decrypt"], true],
        ["use enc", { kty: "oct", k, use: "enc", alg: "A128GCM" }, ["encrypt"], true],
        ["key_ops wider than usages", { kty: "oct", k, key_ops: ["encrypt", "decrypt", "wrapKey"] }, ["decrypt"], true],
        ["ext false, not extractable", { kty: "oct", k, ext: false }, ["encrypt"], false],
        ["wrapKey only", { kty: "oct", k, alg: "A128GCM" }, ["wrapKey"], true],
      ];
      for (const [label, jwk, usages, extractable] of variants) {
        const ours = await crypto.subtle.importKey("jwk", jwk, { name: "AES-GCM" }, extractable, usages);
        const theirs = await native.importKey("jwk", jwk, { name: "AES-GCM" }, extractable, usages);
        assert.deepEqual(shape(ours), shape(theirs), label);
        if (extractable) assert.deepEqual(await crypto.subtle.exportKey("jwk", ours), await native.exportKey("jwk", theirs), label);
      }
    });
  });

  describe("errors: the same names as Node's", () => {
    interface Side {
      subtle: LooseSubtle;
      /** AES-GCM 128, extractable, encrypt and decrypt. */
      key: CryptoKey;
      nonExtractable: CryptoKey;
      encryptOnly: CryptoKey;
      decryptOnly: CryptoKey;
      wrapOnly: CryptoKey;
      hmacKey: CryptoKey;
    }
    let ours: Side;
    let theirs: Side;
    const raw16 = random(16);
    const k16 = Buffer.from(raw16).toString("base64url");
    const iv = random(12);
    const data = random(20);

    async function makeSide(subtle: SubtleCrypto): Promise<Side> {
      return {
        subtle: loose(subtle),
        key: await subtle.importKey("raw", raw16, "AES-GCM", true, ["encrypt", "decrypt"]),
        nonExtractable: await subtle.importKey("raw", raw16, "AES-GCM", false, ["encrypt", "decrypt"]),
        encryptOnly: await subtle.importKey("raw", raw16, "AES-GCM", true, ["encrypt"]),
        decryptOnly: await subtle.importKey("raw", raw16, "AES-GCM", true, ["decrypt"]),
        wrapOnly: await subtle.importKey("raw", raw16, "AES-GCM", true, ["wrapKey", "unwrapKey"]),
        hmacKey: await subtle.importKey("raw", random(32), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]),
      };
    }

    before(async () => {
      ours = await makeSide(crypto.subtle as unknown as SubtleCrypto);
      theirs = await makeSide(native);
    });

    const gen = (algorithm: unknown, usages: unknown = ["encrypt", "decrypt"]) => (s: Side) => s.subtle.generateKey(algorithm, true, usages);
    const imp = (format: string, keyData: unknown, usages: unknown = ["encrypt", "decrypt"], extractable = true) =>
      (s: Side) => s.subtle.importKey(format, keyData, "AES-GCM", extractable, usages);
    const jwk = (members: Record<string, unknown>, usages: KeyUsage[] = ["encrypt", "decrypt"], extractable = true) =>
      imp("jwk", { kty: "oct", k: k16, ...members }, usages, extractable);
    const enc = (params: Record<string, unknown>, input: unknown = data, key: keyof Side = "key") =>
      (s: Side) => s.subtle.encrypt({ name: "AES-GCM", ...params }, s[key], input);
    const dec = (params: Record<string, unknown>, input: unknown, key: keyof Side = "key") =>
      (s: Side) => s.subtle.decrypt({ name: "AES-GCM", ...params }, s[key], input);

    const cases: Array<[string, (side: Side) => unknown]> = [
      // generateKey
      ["generateKey length 100", gen({ name: "AES-GCM", length: 100 })],
      ["generateKey length 0", gen({ name: "AES-GCM", length: 0 })],
      ["generateKey length 64", gen({ name: "AES-GCM", length: 64 })],
      ["generateKey length 512", gen({ name: "AES-GCM", length: 512 })],
      ["generateKey length 65536 (out of unsigned short range)", gen({ name: "AES-GCM", length: 65536 })],
      ["generateKey length missing", gen({ name: "AES-GCM" })],
      ["generateKey length not a number", gen({ name: "AES-GCM", length: "big" })],
      ["generateKey algorithm as a bare string", gen("AES-GCM")],
      ["generateKey usages ['sign']", gen({ name: "AES-GCM", length: 128 }, ["sign"])],
      ["generateKey usages ['encrypt', 'verify']", gen({ name: "AES-GCM", length: 128 }, ["encrypt", "verify"])],
      ["generateKey empty usages", gen({ name: "AES-GCM", length: 128 }, [])],
      ["generateKey unknown usage", gen({ name: "AES-GCM", length: 128 }, ["encrypt", "seal"])],
      // importKey
      ["import raw 10 bytes", imp("raw", random(10))],
      ["import raw 0 bytes", imp("raw", new Uint8Array(0))],
      ["import raw 15 bytes", imp("raw", random(15))],
      ["import raw 33 bytes", imp("raw", random(33))],
      ["import raw 64 bytes", imp("raw", random(64))],
      ["import usages ['sign']", imp("raw", raw16, ["sign"])],
      ["import usages ['decrypt', 'deriveKey']", imp("raw", raw16, ["decrypt", "deriveKey"])],
      ["import empty usages", imp("raw", raw16, [])],
      ["import as spki", imp("spki", raw16)],
      ["import as pkcs8", imp("pkcs8", raw16)],
      ["import key data a string", imp("raw", "0123456789abcdef")],
      // JWK
      ["jwk alg A256GCM for a 16-byte key", jwk({ alg: "A256GCM" })],
      ["jwk alg A192GCM for a 16-byte key", jwk({ alg: "A192GCM" })],
      ["jwk alg A128CBC", jwk({ alg: "A128CBC" })],
      ["jwk alg A128KW", jwk({ alg: "A128KW" })],
      ["jwk alg HS256", jwk({ alg: "HS256" })],
      ["jwk kty RSA", jwk({ kty: "RSA" })],
      ["jwk kty missing", jwk({ kty: undefined })],
      ["jwk use sig", jwk({ use: "sig" })],
      ["jwk key_ops ['encrypt'] for usages ['encrypt', 'decrypt']", jwk({ key_ops: ["encrypt"] })],
      ["jwk key_ops with duplicates", jwk({ key_ops: ["encrypt", "encrypt"] }, ["encrypt"])],
      ["jwk ext false for an extractable import", jwk({ ext: false })],
      ["jwk k of 10 bytes", jwk({ k: randomBytes(10).toString("base64url") })],
      ["jwk k of 10 bytes with alg A128GCM", jwk({ k: randomBytes(10).toString("base64url"), alg: "A128GCM" })],
      ["jwk k missing", jwk({ k: undefined })],
      ["jwk empty usages", jwk({}, [])],
      ["jwk wrong usages", jwk({}, ["sign"])],
      // exportKey
      ["export non-extractable as raw", (s) => s.subtle.exportKey("raw", s.nonExtractable)],
      ["export non-extractable as jwk", (s) => s.subtle.exportKey("jwk", s.nonExtractable)],
      ["export as spki", (s) => s.subtle.exportKey("spki", s.key)],
      ["export as pkcs8", (s) => s.subtle.exportKey("pkcs8", s.key)],
      ["export unknown format", (s) => s.subtle.exportKey("der", s.key)],
      // encrypt and decrypt parameters
      ["tagLength 33", enc({ iv, tagLength: 33 })],
      ["tagLength 0", enc({ iv, tagLength: 0 })],
      ["tagLength 8", enc({ iv, tagLength: 8 })],
      ["tagLength 136", enc({ iv, tagLength: 136 })],
      ["tagLength 256 (out of octet range)", enc({ iv, tagLength: 256 })],
      ["tagLength -1", enc({ iv, tagLength: -1 })],
      ["decrypt with tagLength 33", dec({ iv, tagLength: 33 }, random(40))],
      ["iv of length 0 (encrypt)", enc({ iv: new Uint8Array(0) })],
      ["iv of length 0 (decrypt)", dec({ iv: new Uint8Array(0) }, random(40))],
      ["missing iv (encrypt)", enc({})],
      ["missing iv (decrypt)", dec({}, random(40))],
      ["iv a string", enc({ iv: "0123456789ab" })],
      ["iv an array of numbers", enc({ iv: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] })],
      ["additionalData a string", enc({ iv, additionalData: "aad" })],
      ["ciphertext shorter than the tag (15 bytes, tag 128)", dec({ iv }, random(15))],
      ["ciphertext shorter than the tag (3 bytes, tag 32)", dec({ iv, tagLength: 32 }, random(3))],
      ["ciphertext empty", dec({ iv }, new Uint8Array(0))],
      ["ciphertext a bare random tag", dec({ iv }, random(16))],
      ["random ciphertext", dec({ iv }, random(64))],
      ["data a string", enc({ iv }, "plaintext")],
      ["data missing", (s) => s.subtle.encrypt({ name: "AES-GCM", iv }, s.key)],
      // key misuse
      ["encrypt with a key lacking 'encrypt'", enc({ iv }, data, "decryptOnly")],
      ["decrypt with a key lacking 'decrypt'", dec({ iv }, random(40), "encryptOnly")],
      ["encrypt with a wrapKey/unwrapKey-only key", enc({ iv }, data, "wrapOnly")],
      ["encrypt with an HMAC key", enc({ iv }, data, "hmacKey")],
      ["decrypt with an HMAC key", dec({ iv }, random(40), "hmacKey")],
      ["sign HMAC with an AES-GCM key", (s) => s.subtle.sign("HMAC", s.key, data)],
      ["encrypt with a non-key", (s) => s.subtle.encrypt({ name: "AES-GCM", iv }, { type: "secret" }, data)],
      ["encrypt with an unknown algorithm", (s) => s.subtle.encrypt({ name: "AES-XYZ", iv }, s.key, data)],
    ];

    // Well-formed calls that reach the token's decryption: NotSupportedError where it lacks CKM_AES_GCM.
    const reachTheToken = new Set(["ciphertext a bare random tag", "random ciphertext"]);
    for (const [label, call] of cases) {
      const body = async () => {
        const result = await assertSameOutcome(label, () => call(ours), () => call(theirs));
        assert.notEqual(result, "ok", `${label}: both accepted it`);
      };
      if (reachTheToken.has(label)) itGcm(label, body, () => call(ours));
      else it(label, body);
    }
  });
});
