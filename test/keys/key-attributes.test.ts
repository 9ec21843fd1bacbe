// What our keys are on the token: the attributes that keep secrets secret, the usage attributes,
// persistent keys through the { token, label, id } extension, and session keys destroyed when
// their CryptoKey is garbage-collected.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { destroyObject, findObjects, readAttributes } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import type { Token } from "../../src/token/token.js";
import { config } from "../support/tokens.js";

const flag = (value: Buffer) => value.length > 0 && value[0] !== 0;

function attributes(key: CryptoKey, types: number[]): boolean[] {
  const ref = keyObjectOf(key)!;
  return readAttributes(ref.token, ref.handle, types).map(flag);
}

describe("keys on the token", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  it("a non-extractable key is CKA_SENSITIVE and not CKA_EXTRACTABLE; an extractable one the opposite", async () => {
    const locked = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 } as AesKeyGenParams, false, ["encrypt"])) as CryptoKey;
    const open = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 } as AesKeyGenParams, true, ["encrypt"])) as CryptoKey;
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const { SENSITIVE, EXTRACTABLE, TOKEN, PRIVATE } = { SENSITIVE: pkcs11js.CKA_SENSITIVE, EXTRACTABLE: pkcs11js.CKA_EXTRACTABLE, TOKEN: pkcs11js.CKA_TOKEN, PRIVATE: pkcs11js.CKA_PRIVATE };
    assert.deepEqual(attributes(locked, [SENSITIVE, EXTRACTABLE, TOKEN, PRIVATE]), [true, false, false, true]);
    assert.deepEqual(attributes(open, [SENSITIVE, EXTRACTABLE, TOKEN, PRIVATE]), [false, true, false, true]);
    assert.deepEqual(attributes(pair.privateKey, [SENSITIVE, EXTRACTABLE]), [true, false]);
    // The token itself refuses to reveal the value of a sensitive key.
    const ref = keyObjectOf(locked)!;
    assert.throws(() => readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]), /CKR_ATTRIBUTE_SENSITIVE/);
    await assert.rejects(crypto.subtle.exportKey("raw", locked), { name: "InvalidAccessError" });
  });

  it("usages map onto exactly the usage attributes asked for", async () => {
    const aes = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["decrypt"])) as CryptoKey;
    const { CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VERIFY, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE } = pkcs11js;
    assert.deepEqual(attributes(aes, [CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VERIFY, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE]), [false, true, false, false, false, false, false]);
    const rsa = (await crypto.subtle.generateKey(
      { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams,
      false,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    assert.deepEqual(attributes(rsa.privateKey, [CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE]), [true, false, false, false]);
    assert.deepEqual(attributes(rsa.publicKey, [CKA_VERIFY, CKA_ENCRYPT, CKA_WRAP]), [true, false, false]);
    // And the token enforces them: the AES key cannot encrypt, which the face refuses first.
    await assert.rejects(crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, new Uint8Array(1)), { name: "InvalidAccessError" });
  });

  it("a key pair shares one CKA_ID; { token: true, label, id } makes persistent objects", async () => {
    const id = "c0ffee01";
    const pair = (await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256", token: true, label: "persistent test key", id } as EcKeyGenParams,
      false,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const token = keyObjectOf(pair.privateKey)!.token;
    try {
      const [privateId, label, isToken] = readAttributes(token, keyObjectOf(pair.privateKey)!.handle, [pkcs11js.CKA_ID, pkcs11js.CKA_LABEL, pkcs11js.CKA_TOKEN]);
      const [publicId] = readAttributes(token, keyObjectOf(pair.publicKey)!.handle, [pkcs11js.CKA_ID]);
      assert.equal(privateId.toString("hex"), id);
      assert.equal(publicId.toString("hex"), id);
      assert.equal(label.toString(), "persistent test key");
      assert.equal(flag(isToken), true);
      // Searching the token by id finds both halves, as another tool would.
      const found = await findObjects(token, [{ type: pkcs11js.CKA_ID, value: Buffer.from(id, "hex") }, { type: pkcs11js.CKA_TOKEN, value: true }]);
      assert.equal(found.length, 2);
    } finally {
      for (const key of [pair.privateKey, pair.publicKey]) destroyObject(token, keyObjectOf(key)!.handle);
    }
  });

  it("session keys are destroyed on the token when their CryptoKey is garbage-collected", async function () {
    this.timeout(120_000);
    const gc = (globalThis as { gc?: () => void }).gc!;
    const probe = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    const token: Token = keyObjectOf(probe)!.token;
    const sessionKeys = () => findObjects(token, [{ type: pkcs11js.CKA_TOKEN, value: false }]).then((found) => found.length);
    const before = await sessionKeys();
    const batches = 10;
    for (let batch = 0; batch < batches; batch++) {
      await Promise.all(
        Array.from({ length: 200 }, () => crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"])),
      );
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const after = await sessionKeys();
    // 2,000 keys were made; nearly all must be gone (the collector may keep the last few alive).
    assert.ok(after - before < 200, `session objects grew from ${before} to ${after}`);
    assert.ok(probe.type === "secret");
  });

  it("close() destroys the connection's session keys", async () => {
    const other = new Crypto(config());
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => other.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"]) as Promise<CryptoKey>),
    );
    const probe = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"])) as CryptoKey;
    const token = keyObjectOf(probe)!.token;
    const handles = keys.map((key) => keyObjectOf(key)!.handle);
    await other.close();
    for (const handle of handles) {
      assert.throws(() => readAttributes(token, handle, [pkcs11js.CKA_CLASS]), /CKR_OBJECT_HANDLE_INVALID/);
    }
  });
});
