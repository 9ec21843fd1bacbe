// Always-authenticate keys (CKA_ALWAYS_AUTHENTICATE): every signature or decryption logs in again
// with CKU_CONTEXT_SPECIFIC right after its Init, asking the pin function each time. Signatures
// are checked with Node's own crypto. Runs on the TEST_TOKEN token; where a token does not keep
// the attribute, the test asserts that instead.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { createCryptoKey, keyObjectOf } from "../../src/keys/crypto-key.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { readAttributes } from "../../src/token/operations.js";
import { itIfSupported } from "../support/capability.js";
import { native } from "../support/oracle.js";
import { config, USER_PIN } from "../support/tokens.js";

const ecdsa = { name: "ECDSA", namedCurve: "P-256" };
const ecdsaSign = { name: "ECDSA", hash: "SHA-256" };
const rsa = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

function alwaysAuthenticateOf(key: CryptoKey): boolean {
  const ref = keyObjectOf(key)!;
  return readAttributes(ref.token, ref.handle, [pkcs11js.CKA_ALWAYS_AUTHENTICATE])[0][0] === 1;
}

/** Verifies with Node's own crypto, on the public key exported from the token. */
async function verifiesInNode(
  crypto: Crypto,
  publicKey: CryptoKey,
  algorithm: EcKeyImportParams | RsaHashedImportParams,
  sign: AlgorithmIdentifier | EcdsaParams,
  signature: ArrayBuffer,
  data: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  const imported = await native.importKey("spki", await crypto.subtle.exportKey("spki", publicKey), algorithm, true, ["verify"]);
  return native.verify(sign, imported, signature, data);
}

/** Signs with raw PKCS#11 calls and no per-use login: true if the token allows it, false if it says CKR_USER_NOT_LOGGED_IN. */
function signsWithoutContextLogin(privateKey: CryptoKey): boolean {
  const { token, handle } = keyObjectOf(privateKey)!;
  const pkcs11 = token.module.pkcs11;
  const session = pkcs11.C_OpenSession(token.slot, pkcs11js.CKF_SERIAL_SESSION);
  try {
    pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, handle);
    pkcs11.C_Sign(session, Buffer.alloc(32), Buffer.alloc(132));
    return true;
  } catch (error) {
    assert.equal((error as { code: number }).code, pkcs11js.CKR_USER_NOT_LOGGED_IN);
    return false;
  } finally {
    pkcs11.C_CloseSession(session);
  }
}

describe("always-authenticate keys", () => {
  let calls = 0;
  let crypto: Crypto;
  let supported = true;
  /** Whether the token refuses the key's operation without the per-use login. */
  let enforced = false;
  before(async () => {
    crypto = new Crypto(config("main", { pin: async () => (calls++, USER_PIN) }));
    const probe = (await crypto.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    supported = alwaysAuthenticateOf(probe.privateKey);
    enforced = supported && signsWithoutContextLogin(probe.privateKey) === false;
  });
  after(() => crypto.close());

  it("ECDSA: the attribute is set, and each signature asks the pin function once, also 50 at once", async function () {
    const keys = (await crypto.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    if (!supported) {
      // Recorded per token in the report: the token dropped CKA_ALWAYS_AUTHENTICATE.
      assert.equal(alwaysAuthenticateOf(keys.privateKey), false);
      this.skip();
    }
    assert.equal(alwaysAuthenticateOf(keys.privateKey), true);
    const data = new Uint8Array([1, 2, 3]);
    const before = calls;
    const one = await crypto.subtle.sign(ecdsaSign, keys.privateKey, data);
    assert.equal(calls, before + 1);
    assert.equal(await verifiesInNode(crypto, keys.publicKey, ecdsa, ecdsaSign, one, data), true);
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => crypto.subtle.sign(ecdsaSign, keys.privateKey, new Uint8Array([i]))));
    assert.equal(calls, before + 51);
    const verified = await Promise.all(many.map((signature, i) => verifiesInNode(crypto, keys.publicKey, ecdsa, ecdsaSign, signature, new Uint8Array([i]))));
    assert.deepEqual(verified, many.map(() => true));
    // Verification uses the public key: no PIN.
    assert.equal(await crypto.subtle.verify(ecdsaSign, keys.publicKey, one, data), true);
    assert.equal(calls, before + 51);
  });

  it("RSA: signatures (worker-thread path) each ask once, and verify in Node", async function () {
    if (!supported) this.skip();
    const keys = (await crypto.subtle.generateKey({ ...rsa, alwaysAuthenticate: true } as RsaHashedKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    assert.equal(alwaysAuthenticateOf(keys.privateKey), true);
    const before = calls;
    const signatures = await Promise.all(Array.from({ length: 8 }, (_, i) => crypto.subtle.sign(rsa.name, keys.privateKey, new Uint8Array([i, i]))));
    assert.equal(calls, before + 8);
    for (const [i, signature] of signatures.entries()) {
      assert.equal(await verifiesInNode(crypto, keys.publicKey, rsa, rsa.name, signature, new Uint8Array([i, i])), true);
    }
  });

  // PKCS#11 asks the per-use login for signing and decryption; SoftHSM does not ask it for
  // C_DeriveKey, so a derivation with such a key just works, without asking the pin function.
  itIfSupported(() => crypto.supports("ECDH", "deriveBits"), "ECDH with an always-authenticate key derives Node's secret and asks no PIN for it", async function () {
    if (!supported) this.skip();
    const curve = { name: "ECDH", namedCurve: "P-256" };
    const ours = (await crypto.subtle.generateKey({ ...curve, alwaysAuthenticate: true } as EcKeyGenParams, false, ["deriveBits"])) as CryptoKeyPair;
    assert.equal(alwaysAuthenticateOf(ours.privateKey), true);
    const peer = (await native.generateKey(curve, true, ["deriveBits"])) as CryptoKeyPair;
    const peerOnToken = await crypto.subtle.importKey("spki", await native.exportKey("spki", peer.publicKey), curve, true, []);
    const before = calls;
    const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: peerOnToken } as EcdhKeyDeriveParams, ours.privateKey, 256);
    assert.equal(calls, before);
    const ourPublicInNode = await native.importKey("spki", await crypto.subtle.exportKey("spki", ours.publicKey), curve, true, []);
    const expected = await native.deriveBits({ name: "ECDH", public: ourPublicInNode }, peer.privateKey, 256);
    assert.deepEqual(Buffer.from(secret), Buffer.from(expected));
  }, { mechanism: "CKM_ECDH1_DERIVE" });

  it("an imported private key with alwaysAuthenticate, and RSA-OAEP decryption, ask for each use", async function () {
    if (!supported) this.skip();
    const oaep = { name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" };
    const pair = (await native.generateKey(oaep, true, ["encrypt", "decrypt"])) as CryptoKeyPair;
    const privateKey = await crypto.subtle.importKey("pkcs8", await native.exportKey("pkcs8", pair.privateKey), { ...oaep, alwaysAuthenticate: true } as RsaHashedImportParams, false, ["decrypt"]);
    assert.equal(alwaysAuthenticateOf(privateKey), true);
    const before = calls;
    const message = new Uint8Array([7, 7, 7]);
    for (let i = 0; i < 3; i++) {
      const ciphertext = await native.encrypt({ name: "RSA-OAEP" }, pair.publicKey, message);
      assert.deepEqual(new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, privateKey, ciphertext)), message);
    }
    assert.equal(calls, before + 3);
  });

  it("a key made on the token by someone else with the attribute is handled too", async function () {
    if (!supported) this.skip();
    const ours = (await crypto.subtle.generateKey(ecdsa, false, ["sign", "verify"])) as CryptoKeyPair;
    const token = keyObjectOf(ours.privateKey)!.token;
    // Made with raw PKCS#11 calls, as another application would; wrapped in a CryptoKey by handle.
    const { privateKey } = token.module.pkcs11.C_GenerateKeyPair(
      token.syncSession,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [{ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from("06082a8648ce3d030107", "hex") }, { type: pkcs11js.CKA_TOKEN, value: false }, { type: pkcs11js.CKA_VERIFY, value: true }],
      [{ type: pkcs11js.CKA_TOKEN, value: false }, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_ALWAYS_AUTHENTICATE, value: true }],
    );
    const key = createCryptoKey({ token, handle: privateKey, persistent: false }, "private", false, { name: "ECDSA", namedCurve: "P-256" } as EcKeyAlgorithm, ["sign"]);
    const before = calls;
    await crypto.subtle.sign(ecdsaSign, key, new Uint8Array(1));
    await crypto.subtle.sign(ecdsaSign, key, new Uint8Array(2));
    assert.equal(calls, before + 2);
  });

  it("the token refuses such a key's operation without the per-use login (SoftHSM), or has no per-use login at all (NSS)", async function () {
    if (!supported) this.skip();
    const keys = (await crypto.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign"])) as CryptoKeyPair;
    if (enforced) {
      // SoftHSM (also behind p11-kit): C_Sign without the per-use login is CKR_USER_NOT_LOGGED_IN.
      assert.equal(signsWithoutContextLogin(keys.privateKey), false);
      return;
    }
    // A token that signs without it must be one that has no context-specific login: NSS softokn
    // answers CKR_USER_ALREADY_LOGGED_IN to it (and then signs), which is what contextLogin accepts.
    assert.equal(signsWithoutContextLogin(keys.privateKey), true);
    const { token, handle } = keyObjectOf(keys.privateKey)!;
    const pkcs11 = token.module.pkcs11;
    const session = pkcs11.C_OpenSession(token.slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, handle);
      assert.throws(() => pkcs11.C_Login(session, pkcs11js.CKU_CONTEXT_SPECIFIC, "00000000"), { code: pkcs11js.CKR_USER_ALREADY_LOGGED_IN });
    } finally {
      pkcs11.C_CloseSession(session);
    }
  });

  it("a string PIN is reused for every use; a wrong PIN for one use fails it with the PIN state, and the next use works", async function () {
    if (!supported) this.skip();
    const withString = new Crypto(config("main", { pin: USER_PIN }));
    try {
      const keys = (await withString.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign"])) as CryptoKeyPair;
      for (let i = 0; i < 3; i++) assert.equal((await withString.subtle.sign(ecdsaSign, keys.privateKey, new Uint8Array(1))).byteLength, 64);
    } finally {
      await withString.close();
    }
    if (!enforced) return; // a token without per-use login cannot refuse a wrong per-use PIN
    // The first answer logs in; the second (the first signature's) is wrong; then right again.
    const answers = [USER_PIN, "00000000", USER_PIN];
    const fresh = new Crypto(config("main", { pin: () => answers.shift() ?? "unexpected" }));
    try {
      const keys = (await fresh.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign"])) as CryptoKeyPair;
      const error = await fresh.subtle.sign(ecdsaSign, keys.privateKey, new Uint8Array(1)).then(
        () => assert.fail("a wrong PIN must fail the signature"),
        (e: DOMException) => e,
      );
      assert.equal(error.name, "OperationError");
      const cause = error.cause as { code: string; method: string; pinCountLow: boolean };
      assert.equal(cause.code, "CKR_PIN_INCORRECT");
      assert.equal(cause.method, "C_Login");
      assert.equal(typeof cause.pinCountLow, "boolean");
      assert.doesNotMatch(error.message + String(error.stack), /00000000/);
      assert.equal((await fresh.subtle.sign(ecdsaSign, keys.privateKey, new Uint8Array(1))).byteLength, 64);
      assert.equal(answers.length, 0);
    } finally {
      await fresh.close();
    }
  });

  it("a connection with no PIN, logged in through another, says a PIN is needed", async function () {
    if (!supported) this.skip();
    const keys = (await crypto.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign"])) as CryptoKeyPair;
    const pinless = new Crypto(config("main", { pin: undefined }));
    try {
      assert.equal(pinless.isLoggedIn, true, "the login belongs to the token, shared with `crypto`");
      // The key belongs to `crypto`'s connection; a key of the pinless connection shows the case.
      const own = (await pinless.subtle.generateKey({ ...ecdsa, alwaysAuthenticate: true } as EcKeyGenParams, false, ["sign"])) as CryptoKeyPair;
      await assert.rejects(pinless.subtle.sign(ecdsaSign, own.privateKey, new Uint8Array(1)), (error: DOMException) => {
        assert.equal(error.name, "OperationError");
        assert.equal((error.cause as { code: string }).code, "PIN_REQUIRED");
        return true;
      });
      assert.equal((await crypto.subtle.sign(ecdsaSign, keys.privateKey, new Uint8Array(1))).byteLength, 64);
    } finally {
      await pinless.close();
    }
  });
});
