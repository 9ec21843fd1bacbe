// The token says what it can do: a request it cannot meet fails before any token call, with
// NotSupportedError naming the PKCS#11 mechanism and its limits. This is one place where we
// deliberately differ from Node, which has no token: for an RSA modulus outside the token's range
// Node answers OperationError (its OpenSSL refuses), we answer NotSupportedError (this token
// cannot do it; another might). The range is the token's own (C_GetMechanismInfo): SoftHSM says
// 512 to 16384 bits, NSS softokn 128 to 4294967295.
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { Crypto, type OperationName } from "../../src/index.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { assertNotSupported, mechanismInfo, mechanismNumber, tokenOf } from "../support/capability.js";
import { native, outcome } from "../support/oracle.js";
import { config } from "../support/tokens.js";

describe("capabilities", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  const RSA_GEN = "CKM_RSA_PKCS_KEY_PAIR_GEN";
  const rsaAlgorithm = (modulusLength: number) => ({ name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" });

  /** The token's range for RSA key generation, as C_GetMechanismInfo gives it. */
  async function rsaRange(): Promise<{ min: number; max: number }> {
    const info = await mechanismInfo(crypto, RSA_GEN);
    assert.ok(info, `the token lists no ${RSA_GEN}`);
    return { min: info.minKeySize, max: info.maxKeySize };
  }

  /** Outside the token's range: NotSupportedError naming the mechanism and the range, before any token call. */
  async function assertOutOfRange(modulusLength: number): Promise<void> {
    const { min, max } = await rsaRange();
    assert.ok(modulusLength < min || modulusLength > max, `${modulusLength} is inside the token's range ${min} to ${max}`);
    await assertNotSupported(
      crypto.subtle.generateKey(rsaAlgorithm(modulusLength), false, ["sign"]),
      new RegExp(`${RSA_GEN} takes sizes ${min} to ${max}, not ${modulusLength}$`),
      `modulusLength ${modulusLength}`,
    );
  }

  // SoftHSM takes 512 to 16384 bits, so all three sizes are outside its range. NSS softokn says
  // 128 to 4294967295: 0 is outside; 256 and 504 go to the token, which makes a 256-bit key and
  // refuses 504 bits (CKR_ARGUMENTS_BAD; it takes multiples of 16 bits), an OperationError as in Node.
  for (const modulusLength of [0, 256, 504]) {
    it(`RSA modulusLength ${modulusLength}: NotSupportedError naming ${RSA_GEN} and its range where the token's range excludes it, else the token's own answer (Node: OperationError)`, async () => {
      const algorithm = rsaAlgorithm(modulusLength);
      const { min, max } = await rsaRange();
      if (modulusLength < min || modulusLength > max) {
        await assertOutOfRange(modulusLength);
      } else {
        // Inside the token's range: the token decides. Either a key of exactly that size, or the
        // token's refusal as an OperationError naming the PKCS#11 return value; never NotSupportedError.
        try {
          const pair = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
          assert.equal((pair.publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength, modulusLength);
          const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
          assert.equal(createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).asymmetricKeyDetails?.modulusLength, modulusLength);
        } catch (error) {
          assert.equal((error as Error).name, "OperationError", String(error));
          assert.match((error as Error).message, /C_GenerateKeyPair returned CKR_/);
        }
      }
      assert.equal(await outcome(() => native.generateKey(algorithm, false, ["sign"])), "OperationError");
    });
  }

  it(`RSA modulusLength just under the token's minimum: NotSupportedError naming ${RSA_GEN} and its range`, async () => {
    const { min } = await rsaRange();
    assert.ok(min > 0, "the token reports no minimum RSA size");
    await assertOutOfRange(min - 8);
  });
});

describe("what the token says it can do", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  /** The token's mechanism list read afresh with C_GetMechanismList, not from what Crypto cached. */
  async function listedNow(): Promise<number[]> {
    const token = await tokenOf(crypto);
    return token.module.pkcs11.C_GetMechanismList(token.slot);
  }

  it("lists the token's mechanisms by name", async () => {
    const mechanisms = crypto.mechanisms;
    const listed = await listedNow();
    assert.equal(mechanisms.length, listed.length);
    assert.equal(new Set(mechanisms).size, mechanisms.length, "a name listed twice");
    // Every test token (SoftHSM, NSS softokn, SoftHSM through p11-kit) has these.
    for (const name of ["CKM_ECDSA", "CKM_EC_KEY_PAIR_GEN", "CKM_RSA_PKCS_KEY_PAIR_GEN", "CKM_AES_KEY_GEN"]) {
      assert.ok(mechanisms.includes(name), name);
    }
    // These differ between tokens (SoftHSM 2.6 has no hash-and-sign ECDSA, NSS's "NSS Certificate
    // DB" no digests and no EdDSA, p11-kit 0.24 drops AES-GCM and ECDH): each name is there exactly
    // where the token lists its number.
    for (const name of ["CKM_SHA256", "CKM_SHA_1", "CKM_AES_GCM", "CKM_ECDSA_SHA256", "CKM_ECDH1_DERIVE", "CKM_EDDSA", "CKM_EC_EDWARDS_KEY_PAIR_GEN", "CKM_RSA_PKCS_OAEP"]) {
      assert.equal(mechanisms.includes(name), listed.includes(mechanismNumber(name)), name);
    }
  });

  it("lists, per algorithm, the operations whose mechanisms the token has; and each listed one works", async () => {
    const algorithms = crypto.algorithms;
    const listed = await listedNow();
    assert.deepEqual(algorithms.ECDSA, ["generateKey", "importKey", "exportKey", "sign", "verify"]);
    // SHA-256 is there where the token lists CKM_SHA256 (not on NSS's "NSS Certificate DB").
    assert.deepEqual(algorithms["SHA-256"], listed.includes(pkcs11js.CKM_SHA256) ? ["digest"] : undefined);
    assert.equal(crypto.supports("SHA-256", "digest"), listed.includes(pkcs11js.CKM_SHA256));
    assert.ok(algorithms.HMAC.includes("sign"));
    assert.equal(crypto.supports("ecdsa", "sign"), true);
    assert.equal(crypto.supports("ECDSA", "encrypt"), false);
    assert.equal(crypto.supports("NO-SUCH-ALGORITHM", "sign"), false);
    // What is listed really works on this token.
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(4));
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, keys.publicKey, signature, new Uint8Array(4)), true);
    // And what is not listed is refused with NotSupportedError naming the mechanism.
    if (!crypto.supports("SHA-256", "digest")) await assertNotSupported(crypto.subtle.digest("SHA-256", new Uint8Array(4)), "CKM_SHA256");
    else assert.equal((await crypto.subtle.digest("SHA-256", new Uint8Array(4))).byteLength, 32);
  });
});

describe("the capabilities the tests decide by agree with the token's own mechanism list", () => {
  // Tests of something a token may lack (test/support/capability.ts) run where crypto.supports
  // says so and expect NotSupportedError elsewhere; this checks that word against the token's
  // C_GetMechanismList and C_GetMechanismInfo, read afresh (SoftHSM, NSS and the remote token
  // differ in most of these rows).
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  const rows: Array<[string, OperationName, string, number?]> = [
    ["SHA-1", "digest", "CKM_SHA_1"],
    ["SHA-256", "digest", "CKM_SHA256"],
    ["SHA-384", "digest", "CKM_SHA384"],
    ["SHA-512", "digest", "CKM_SHA512"],
    ["AES-GCM", "encrypt", "CKM_AES_GCM"],
    ["AES-CBC", "encrypt", "CKM_AES_CBC_PAD"],
    ["AES-CTR", "encrypt", "CKM_AES_CTR"],
    ["AES-KW", "wrapKey", "CKM_AES_KEY_WRAP", pkcs11js.CKF_WRAP],
    ["AES-KW", "unwrapKey", "CKM_AES_KEY_WRAP", pkcs11js.CKF_UNWRAP],
    ["ECDH", "deriveBits", "CKM_ECDH1_DERIVE"],
    ["Ed25519", "sign", "CKM_EDDSA"],
    ["Ed25519", "generateKey", "CKM_EC_EDWARDS_KEY_PAIR_GEN"],
    ["RSA-OAEP", "encrypt", "CKM_RSA_PKCS_OAEP"],
  ];
  for (const [algorithm, operation, mechanism, flag = 0] of rows) {
    it(`${algorithm} ${operation}: supported exactly where the token lists ${mechanism}${flag ? " with the flag" : ""}`, async () => {
      const token = await tokenOf(crypto);
      const pkcs11 = token.module.pkcs11;
      const number = mechanismNumber(mechanism);
      const listed = pkcs11.C_GetMechanismList(token.slot).includes(number) && (pkcs11.C_GetMechanismInfo(token.slot, number).flags & flag) === flag;
      assert.equal(crypto.supports(algorithm, operation), listed);
    });
  }
});

describe("where we follow WebIDL rather than Node 20", () => {
  it("ECDH deriveBits with length -1 is 4294967295 bits, too long: OperationError (Node 20's ECDH returns nothing)", async () => {
    const crypto = new Crypto(config());
    try {
      const ours = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" } as EcKeyGenParams, false, ["deriveBits"])) as CryptoKeyPair;
      await assert.rejects(crypto.subtle.deriveBits({ name: "ECDH", public: ours.publicKey } as EcdhKeyDeriveParams, ours.privateKey, -1), { name: "OperationError" });
      const theirs = (await native.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
      assert.equal(await outcome(() => native.deriveBits({ name: "ECDH", public: theirs.publicKey }, theirs.privateKey, -1)), "ok");
    } finally {
      await crypto.close();
    }
  });
});
