// RSA signatures on a token without the hash-and-sign mechanisms (as the remote token through
// p11-kit 0.24 is for PSS): Node hashes and the token signs the digest with CKM_RSA_PKCS or
// CKM_RSA_PKCS_PSS. The combined mechanisms are hidden from the connection here to take that path
// on SoftHSM; RSASSA signatures are deterministic, so they must equal Node's byte for byte.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { allHashes } from "../../src/mechanisms/common/hashes.js";
import type { Token } from "../../src/token/token.js";
import { bytes, native } from "../support/oracle.js";
import { softHsmConfig } from "../support/tokens.js";

/** Makes the token look as if it lacked every hash-and-sign RSA mechanism. */
function hideCombinedMechanisms(token: Token): void {
  const hidden = new Set(allHashes.flatMap((hash) => [hash.rsaPkcs, hash.rsaPss]));
  const original = token.hasMechanism.bind(token);
  token.hasMechanism = (type: number) => !hidden.has(type) && original(type);
}

describe("RSA signatures where the token lacks the hash-and-sign mechanisms", () => {
  let crypto: Crypto;
  before(async () => {
    crypto = new Crypto(softHsmConfig("main"));
    const probe = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"])) as CryptoKey;
    hideCombinedMechanisms(keyObjectOf(probe)!.token);
  });
  after(() => crypto.close());

  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    it(`RSASSA-PKCS1-v1_5 ${hash}: CKM_RSA_PKCS over the DigestInfo gives Node's signature`, async () => {
      const algorithm = { name: "RSASSA-PKCS1-v1_5", hash };
      const pair = (await native.generateKey({ ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])) as CryptoKeyPair;
      const ours = await crypto.subtle.importKey("pkcs8", await native.exportKey("pkcs8", pair.privateKey), algorithm, false, ["sign"]);
      const oursPublic = await crypto.subtle.importKey("spki", await native.exportKey("spki", pair.publicKey), algorithm, true, ["verify"]);
      for (const data of [new Uint8Array(0), new Uint8Array(1000).fill(7)]) {
        const signature = await crypto.subtle.sign(algorithm, ours, data);
        assert.deepEqual(bytes(signature), bytes(await native.sign(algorithm, pair.privateKey, data)));
        assert.equal(await crypto.subtle.verify(algorithm, oursPublic, signature, data), true);
        assert.equal(await crypto.subtle.verify(algorithm, oursPublic, signature, new Uint8Array([1, ...data])), false);
      }
    });

    it(`RSA-PSS ${hash}: CKM_RSA_PKCS_PSS over the digest verifies in Node, and Node's verifies here`, async () => {
      const algorithm = { name: "RSA-PSS", hash };
      const pss = { name: "RSA-PSS", saltLength: 20 };
      const pair = (await native.generateKey({ ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])) as CryptoKeyPair;
      const ours = await crypto.subtle.importKey("pkcs8", await native.exportKey("pkcs8", pair.privateKey), algorithm, false, ["sign"]);
      const oursPublic = await crypto.subtle.importKey("spki", await native.exportKey("spki", pair.publicKey), algorithm, true, ["verify"]);
      const data = new Uint8Array(333).fill(3);
      assert.equal(await native.verify(pss, pair.publicKey, await crypto.subtle.sign(pss, ours, data), data), true);
      assert.equal(await crypto.subtle.verify(pss, oursPublic, await native.sign(pss, pair.privateKey, data), data), true);
    });
  }
});
