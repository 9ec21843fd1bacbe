// jose with token keys: JWTs signed on the token (ES256, ES384, RS256, PS256) and verified by jose
// on Node's own crypto with the exported public key.
import assert from "node:assert/strict";
import * as jose from "jose";
import { joseJwt, jwtProfiles, verifyWithNodeCrypto } from "../../examples/jose-jwt.mjs";
import { withGlobalCrypto } from "../../examples/lib/global-crypto.mjs";
import { assertNotExtractable, exampleContext, runExampleScript, type ExampleContext } from "./support.js";

describe("clients: jose JWTs signed on the token, verified by jose on Node's crypto", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];
  const nodeCrypto = globalThis.crypto;

  before(async () => {
    context = await scratch.open();
    results = await joseJwt(context);
  });
  after(() => scratch.close());

  it("signs ES256, ES384, RS256 and PS256 with non-extractable token keys", async () => {
    assert.deepEqual(results.map((result) => result.alg), ["ES256", "ES384", "RS256", "PS256"]);
    for (const { alg, jwt, privateKey } of results) {
      assert.equal(jose.decodeProtectedHeader(jwt).alg, alg);
      await assertNotExtractable(context.crypto, privateKey);
    }
  });

  it("jose on Node's own crypto verifies each JWT with the exported public key", async () => {
    for (const { alg, jwt, publicKeyPem } of results) {
      const { payload, protectedHeader } = await verifyWithNodeCrypto(jwt, publicKeyPem, alg);
      assert.equal(protectedHeader.alg, alg);
      assert.equal(payload.sub, "alice");
      assert.equal(payload.scope, "documents:sign");
    }
  });

  it("jose on Node's crypto rejects a JWT whose payload was changed, or signed by another token key", async () => {
    for (const [index, { alg, jwt, publicKeyPem }] of results.entries()) {
      const [header, payload, signature] = jwt.split(".");
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const forged = [header, Buffer.from(JSON.stringify({ ...claims, sub: "mallory" })).toString("base64url"), signature].join(".");
      await assert.rejects(verifyWithNodeCrypto(forged, publicKeyPem, alg), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
      // Same algorithm, another key: the other ES/RS/PS entry is no help, so sign afresh.
      const other = (await context.crypto.subtle.generateKey(jwtProfiles[index].algorithm, false, ["sign", "verify"])) as CryptoKeyPair;
      const foreign = await withGlobalCrypto(context.crypto, () => new jose.SignJWT(claims).setProtectedHeader({ alg }).sign(other.privateKey));
      await assert.rejects(verifyWithNodeCrypto(foreign, publicKeyPem, alg), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
    }
  });

  it("puts Node's own crypto back after each call, also when the call fails", async () => {
    assert.equal(globalThis.crypto, nodeCrypto);
    await assert.rejects(withGlobalCrypto(context.crypto, async () => {
      assert.equal(globalThis.crypto, context.crypto);
      throw new Error("inside");
    }), /inside/);
    assert.equal(globalThis.crypto, nodeCrypto);
  });

  it("needs the global swap: jose with Node's crypto as the global cannot sign with a token key", async () => {
    // jose accepts our key (its check is Symbol.toStringTag), but Node's subtle.sign cannot use a
    // key whose material is on a token. If this ever passes, the swap can go.
    const { privateKey } = results[0];
    await assert.rejects(new jose.SignJWT({}).setProtectedHeader({ alg: "ES256" }).sign(privateKey));
  });

  it("runs as `node examples/jose-jwt.mjs`", () => {
    const output = runExampleScript("jose-jwt.mjs");
    assert.equal(output.match(/jose on Node's own crypto verified it/g)?.length, 4, output);
  });
});
