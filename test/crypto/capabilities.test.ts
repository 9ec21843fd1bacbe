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
