// The token says what it can do: a request it cannot meet fails before any token call, with
// NotSupportedError naming the PKCS#11 mechanism and its limits. This is one place where we
// deliberately differ from Node, which has no token: for an RSA modulus outside the token's range
// Node answers OperationError (its OpenSSL refuses), we answer NotSupportedError (this token
// cannot do it; another might).
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { native, outcome } from "../support/oracle.js";
import { config } from "../support/tokens.js";

describe("capabilities", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  for (const modulusLength of [0, 256, 504]) {
    it(`RSA modulusLength ${modulusLength}: NotSupportedError naming CKM_RSA_PKCS_KEY_PAIR_GEN and its range (Node: OperationError)`, async () => {
      const algorithm = { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
      await assert.rejects(crypto.subtle.generateKey(algorithm, false, ["sign"]), (error: DOMException) => {
        assert.equal(error.name, "NotSupportedError");
        assert.match(error.message, /CKM_RSA_PKCS_KEY_PAIR_GEN takes sizes 512 to 16384, not \d+/);
        return true;
      });
      assert.equal(await outcome(() => native.generateKey(algorithm, false, ["sign"])), "OperationError");
    });
  }
});

describe("what the token says it can do", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  it("lists the token's mechanisms by name", () => {
    const mechanisms = crypto.mechanisms;
    for (const name of ["CKM_ECDSA", "CKM_EC_KEY_PAIR_GEN", "CKM_SHA256", "CKM_AES_GCM", "CKM_RSA_PKCS_KEY_PAIR_GEN"]) {
      assert.ok(mechanisms.includes(name), name);
    }
    assert.ok(!mechanisms.includes("CKM_ECDSA_SHA256"), "SoftHSM 2.6 has no hash-and-sign ECDSA");
  });

  it("lists, per algorithm, the operations whose mechanisms the token has; and each listed one works", async () => {
    const algorithms = crypto.algorithms;
    assert.deepEqual(algorithms.ECDSA, ["generateKey", "importKey", "exportKey", "sign", "verify"]);
    assert.deepEqual(algorithms["SHA-256"], ["digest"]);
    assert.ok(algorithms.HMAC.includes("sign"));
    assert.equal(crypto.supports("ecdsa", "sign"), true);
    assert.equal(crypto.supports("ECDSA", "encrypt"), false);
    assert.equal(crypto.supports("NO-SUCH-ALGORITHM", "sign"), false);
    // What is listed really works on this token.
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(4));
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, keys.publicKey, signature, new Uint8Array(4)), true);
  });
});

describe("where we follow WebIDL rather than Node 20", () => {
  it("ECDH deriveBits with length -1 is 4294967295 bits, too long: OperationError (Node 20's ECDH returns nothing)", async () => {
    const crypto = new Crypto(config());
    try {
      const ours = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
      await assert.rejects(crypto.subtle.deriveBits({ name: "ECDH", public: ours.publicKey } as EcdhKeyDeriveParams, ours.privateKey, -1), { name: "OperationError" });
      const theirs = (await native.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
      assert.equal(await outcome(() => native.deriveBits({ name: "ECDH", public: theirs.publicKey }, theirs.privateKey, -1)), "ok");
    } finally {
      await crypto.close();
    }
  });
});
