// wrapKey and unwrapKey: the argument checks the face makes, with Node's error names; and
// wrapping inside the token (C_WrapKey / C_UnwrapKey) where the token's mechanism can wrap.
// Where it cannot (p11-kit 0.24's remote token lists no CKM_AES_KEY_WRAP), wrapKey and unwrapKey
// must answer NotSupportedError naming the mechanism.
import { randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import assert from "node:assert/strict";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { readAttributes } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { assertNotSupported, itIfSupported, mechanismHas } from "../support/capability.js";
import { assertSameOutcome, bytes, native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

describe("wrapKey and unwrapKey argument checks", () => {
  let crypto: Crypto;
  const kek = randomBytes(32);
  let ourKek: CryptoKey;
  let nodeKek: CryptoKey;
  const gcm = { name: "AES-GCM", iv: randomBytes(12) };

  before(async () => {
    crypto = new Crypto(config());
    ourKek = await crypto.subtle.importKey("raw", kek, "AES-GCM", false, ["wrapKey", "unwrapKey"]);
    nodeKek = await native.importKey("raw", kek, "AES-GCM", false, ["wrapKey", "unwrapKey"]);
  });
  after(() => crypto.close());

  it("error names equal Node's", async () => {
    const hmac = { name: "HMAC", hash: "SHA-256" };
    const sealed = (await crypto.subtle.generateKey(hmac, false, ["sign"])) as CryptoKey;
    const nodeSealed = (await native.generateKey(hmac, false, ["sign"])) as CryptoKey;
    const open = (await crypto.subtle.generateKey(hmac, true, ["sign"])) as CryptoKey;
    const nodeOpen = (await native.generateKey(hmac, true, ["sign"])) as CryptoKey;
    const encryptOnly = await crypto.subtle.importKey("raw", kek, "AES-GCM", false, ["encrypt"]);
    const nodeEncryptOnly = await native.importKey("raw", kek, "AES-GCM", false, ["encrypt"]);
    await assertSameOutcome("non-extractable key", () => crypto.subtle.wrapKey("raw", sealed, ourKek, gcm), () => native.wrapKey("raw", nodeSealed, nodeKek, gcm));
    await assertSameOutcome("wrapping key without wrapKey usage", () => crypto.subtle.wrapKey("raw", open, encryptOnly, gcm), () => native.wrapKey("raw", nodeOpen, nodeEncryptOnly, gcm));
    await assertSameOutcome("unknown wrap algorithm", () => crypto.subtle.wrapKey("raw", open, ourKek, { name: "FOO" }), () => native.wrapKey("raw", nodeOpen, nodeKek, { name: "FOO" }));
    await assertSameOutcome("wrong format for the key", () => crypto.subtle.wrapKey("spki", open, ourKek, gcm), () => native.wrapKey("spki", nodeOpen, nodeKek, gcm));
    await assertSameOutcome("bad format", () => crypto.subtle.wrapKey("foo" as never, open, ourKek, gcm), () => native.wrapKey("foo" as never, nodeOpen, nodeKek, gcm));
    await assertSameOutcome("unwrapping key without unwrapKey usage", () => crypto.subtle.unwrapKey("raw", randomBytes(48), encryptOnly, gcm, hmac, true, ["sign"]), () => native.unwrapKey("raw", randomBytes(48), nodeEncryptOnly, gcm, hmac, true, ["sign"]));
  });
});

describe("wrapKey and unwrapKey inside the token", () => {
  let crypto: Crypto;
  const kekBytes = randomBytes(32);
  let ourKek: CryptoKey;
  let nodeKek: CryptoKey;
  const kw = { name: "AES-KW" };
  const KW = "CKM_AES_KEY_WRAP";
  const canWrap = () => crypto.supports("AES-KW", "wrapKey");
  const canUnwrap = () => crypto.supports("AES-KW", "unwrapKey");

  before(async () => {
    crypto = new Crypto(config());
    ourKek = await crypto.subtle.importKey("raw", kekBytes, kw, false, ["wrapKey", "unwrapKey"]);
    nodeKek = await native.importKey("raw", kekBytes, kw, false, ["wrapKey", "unwrapKey"]);
  });
  after(() => crypto.close());

  itIfSupported(canWrap, "AES-KW: what ours wraps equals Node's wrapping, for AES and HMAC keys", async () => {
    for (const [algorithm, usages] of [
      [{ name: "AES-GCM", length: 256 }, ["encrypt"]],
      [{ name: "AES-CBC", length: 128 }, ["decrypt"]],
      [{ name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"]],
    ] as Array<[AesKeyGenParams | HmacKeyGenParams, KeyUsage[]]>) {
      const key = (await crypto.subtle.generateKey(algorithm, true, usages)) as CryptoKey;
      const raw = await crypto.subtle.exportKey("raw", key);
      const nodeKey = await native.importKey("raw", raw, algorithm, true, usages);
      const ours = await crypto.subtle.wrapKey("raw", key, ourKek, kw);
      assert.deepEqual(bytes(ours), bytes(await native.wrapKey("raw", nodeKey, nodeKek, kw)), algorithm.name);
    }
  }, { mechanism: KW });

  itIfSupported(canUnwrap, "AES-KW: unwrapKey('raw') into a non-extractable AES key creates it on the token, sensitive, never readable", async () => {
    const aesBytes = randomBytes(32);
    const nodeAes = await native.importKey("raw", aesBytes, "AES-GCM", true, ["encrypt"]);
    const wrapped = await native.wrapKey("raw", nodeAes, nodeKek, kw);
    const key = await crypto.subtle.unwrapKey("raw", wrapped, ourKek, kw, "AES-GCM", false, ["encrypt", "decrypt"]);
    assert.deepEqual(key.algorithm, { name: "AES-GCM", length: 256 });
    assert.equal(key.extractable, false);
    const ref = keyObjectOf(key)!;
    const [sensitive, extractable] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE]);
    assert.deepEqual([sensitive[0], extractable[0]], [1, 0]);
    assert.throws(() => readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]), /CKR_ATTRIBUTE_SENSITIVE/);
    // It is the key Node wrapped: both encrypt alike.
    const iv = randomBytes(12);
    const data = randomBytes(33);
    assert.deepEqual(bytes(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, data)), bytes(await native.encrypt({ name: "AES-GCM", iv }, nodeAes, data)));
  }, { mechanism: KW });

  itIfSupported(canUnwrap, "AES-KW: an HMAC key and a JWK unwrap through the token into working keys", async () => {
    const hmac = { name: "HMAC", hash: "SHA-384" };
    const nodeHmac = (await native.generateKey(hmac, true, ["sign"])) as CryptoKey;
    const wrappedRaw = await native.wrapKey("raw", nodeHmac, nodeKek, kw);
    const key = await crypto.subtle.unwrapKey("raw", wrappedRaw, ourKek, kw, hmac, false, ["sign"]);
    const data = randomBytes(50);
    assert.deepEqual(bytes(await crypto.subtle.sign("HMAC", key, data)), bytes(await native.sign("HMAC", nodeHmac, data)));
    // A JWK is wrapped as its JSON text, which AES-KW takes only in whole 8-byte blocks: same answer as Node's either way.
    await assertSameOutcome(
      "AES-KW wrapping a JWK",
      async () => crypto.subtle.wrapKey("jwk", await crypto.subtle.unwrapKey("raw", wrappedRaw, ourKek, kw, hmac, true, ["sign"]), ourKek, kw),
      () => native.wrapKey("jwk", nodeHmac, nodeKek, kw),
    );
  }, { mechanism: KW });

  /** A wrapping by Node with one bit flipped, and its first 20 bytes (not whole blocks). */
  async function badWrappings(): Promise<{ corrupted: Uint8Array<ArrayBuffer>; short: Uint8Array<ArrayBuffer> }> {
    const aes = (await native.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"])) as CryptoKey;
    const corrupted = new Uint8Array(await native.wrapKey("raw", aes, nodeKek, kw));
    corrupted[3] ^= 1;
    return { corrupted, short: corrupted.slice(0, 20) };
  }

  itIfSupported(canUnwrap, "AES-KW: error names equal Node's for a corrupted wrapping and a wrong length", async () => {
    const { corrupted: wrapped, short } = await badWrappings();
    await assertSameOutcome("corrupted", () => crypto.subtle.unwrapKey("raw", wrapped, ourKek, kw, "AES-GCM", true, ["encrypt"]), () => native.unwrapKey("raw", wrapped, nodeKek, kw, "AES-GCM", true, ["encrypt"]));
    await assertSameOutcome("not whole blocks", () => crypto.subtle.unwrapKey("raw", short, ourKek, kw, "AES-GCM", true, ["encrypt"]), () => native.unwrapKey("raw", short, nodeKek, kw, "AES-GCM", true, ["encrypt"]));
  }, {
    mechanism: KW,
    // Node answers OperationError to both; a token that cannot unwrap refuses both before looking at them.
    call: async () => {
      const { corrupted, short } = await badWrappings();
      await assertNotSupported(crypto.subtle.unwrapKey("raw", short, ourKek, kw, "AES-GCM", true, ["encrypt"]), KW, "not whole blocks");
      return crypto.subtle.unwrapKey("raw", corrupted, ourKek, kw, "AES-GCM", true, ["encrypt"]);
    },
  });

  it("where the token's mechanism cannot wrap (AES-GCM: no CKF_WRAP on SoftHSM and NSS, not listed remotely), NotSupportedError names it", async () => {
    const gcmKek = await crypto.subtle.importKey("raw", kekBytes, "AES-GCM", false, ["wrapKey", "unwrapKey"]);
    const key = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, true, ["encrypt"])) as CryptoKey;
    await assert.rejects(crypto.subtle.wrapKey("raw", key, gcmKek, { name: "AES-GCM", iv: randomBytes(12) } as AesGcmParams), (error: DOMException) => {
      assert.equal(error.name, "NotSupportedError");
      assert.match(error.message, /CKM_AES_GCM cannot wrap/);
      return true;
    });
    assert.equal(crypto.supports("AES-GCM", "wrapKey"), false);
    // AES-KW wraps where the token's CKM_AES_KEY_WRAP has CKF_WRAP (SoftHSM, NSS; not the remote token).
    const { CKF_WRAP } = pkcs11js;
    assert.equal(crypto.supports("AES-KW", "wrapKey"), await mechanismHas(crypto, KW, CKF_WRAP));
    assert.equal(await mechanismHas(crypto, "CKM_AES_GCM", CKF_WRAP), false, "this test needs a token whose CKM_AES_GCM cannot wrap");
  });
});
