// The `software` setting: "never" (the default) runs everything on the token; "public" runs
// digests and public-key verification in Node's crypto. Results are the same; which path ran is
// seen by counting the operations that lease a token session. On a token without the digest
// (NSS's "NSS Certificate DB" lists no CKM_SHA384), digesting on the token is NotSupportedError;
// with software "public" the digest never needs the token.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import type { Token } from "../../src/token/token.js";
import { itIfSupported } from "../support/capability.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

/** Counts calls to the token's operation sessions from now on. */
function countTokenOperations(token: Token): () => number {
  let count = 0;
  const original = token.withOperationSession.bind(token);
  token.withOperationSession = ((fn: never) => {
    count++;
    return original(fn);
  }) as typeof token.withOperationSession;
  return () => count;
}

for (const software of [undefined, "never", "public"] as const) {
  describe(`software: ${software ?? "(default)"}`, () => {
    let crypto: Crypto;
    let ec: CryptoKeyPair;
    let rsa: CryptoKeyPair;
    let operations: () => number;
    const data = randomBytes(100);
    const onToken = software !== "public";

    before(async () => {
      crypto = new Crypto(config("main", software ? { software } : {}));
      ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      rsa = (await crypto.subtle.generateKey(
        { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams,
        false,
        ["sign", "verify"],
      )) as CryptoKeyPair;
      operations = countTokenOperations(keyObjectOf(ec.privateKey)!.token);
    });
    after(() => crypto.close());

    itIfSupported(() => !onToken || crypto.supports("SHA-384", "digest"), `digests ${onToken ? "on the token" : "in Node"}, with the same result`, async () => {
      const before = operations();
      assert.deepEqual(Buffer.from(await crypto.subtle.digest("SHA-384", data)), createHash("sha384").update(data).digest());
      assert.equal(operations() - before, onToken ? 1 : 0);
    }, { mechanism: "CKM_SHA384" });

    it(`verifies ECDSA and RSA-PSS ${onToken ? "on the token" : "in Node"}, with the same answers`, async () => {
      const ecdsa = { name: "ECDSA", hash: "SHA-512" };
      const pss = { name: "RSA-PSS", saltLength: 32 };
      const ecSignature = await crypto.subtle.sign(ecdsa, ec.privateKey, data);
      const rsaSignature = await crypto.subtle.sign(pss, rsa.privateKey, data);
      const before = operations();
      const tampered = Buffer.from(data);
      tampered[0] ^= 1;
      assert.equal(await crypto.subtle.verify(ecdsa, ec.publicKey, ecSignature, data), true);
      assert.equal(await crypto.subtle.verify(ecdsa, ec.publicKey, ecSignature, tampered), false);
      assert.equal(await crypto.subtle.verify(pss, rsa.publicKey, rsaSignature, data), true);
      assert.equal(await crypto.subtle.verify(pss, rsa.publicKey, rsaSignature, tampered), false);
      assert.equal(operations() - before, onToken ? 4 : 0);
      // Node agrees on the same public key.
      const spki = await crypto.subtle.exportKey("spki", ec.publicKey);
      const nodeKey = await native.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-384" }, false, ["verify"]);
      assert.equal(await native.verify(ecdsa, nodeKey, ecSignature, data), true);
    });

    it("always signs on the token", async () => {
      const before = operations();
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ec.privateKey, data);
      assert.equal(operations() - before, 1);
    });
  });
}

describe("software setting validation", () => {
  it("rejects anything but \"public\" and \"never\"", () => {
    assert.throws(() => new Crypto(config("main", { software: "all" as never })), TypeError);
  });
});
