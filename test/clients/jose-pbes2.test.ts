// jose on our Crypto with a password: PBES2-HS256+A128KW (PBKDF2 in Node's crypto, the AES-KW key
// and the content encryption on the token); jose on Node's crypto decrypts what ours encrypted,
// and the reverse (issue #9).
import assert from "node:assert/strict";
import * as jose from "jose";
import { josePbes2 } from "../../examples/jose-pbes2.mjs";
import { withGlobalCrypto } from "../../examples/lib/global-crypto.mjs";
import { exampleContext, runExampleScript, type ExampleContext } from "./support.js";

describe("clients: jose PBES2-HS256+A128KW on our Crypto", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];

  before(async () => {
    context = await scratch.open();
    results = await josePbes2(context);
  });
  after(() => scratch.close());

  it("encrypts with a password on our Crypto, and both ours and Node's decrypt", () => {
    assert.deepEqual(results.map((result) => result.enc), ["A128GCM", "A128CBC-HS256"]);
    for (const { enc, message, jwe, onToken, onNode } of results) {
      const header = jose.decodeProtectedHeader(jwe);
      assert.equal(header.alg, "PBES2-HS256+A128KW");
      assert.equal(header.enc, enc);
      assert.equal(header.p2c, 10_000);
      assert.equal(new TextDecoder().decode(onToken.plaintext), message);
      assert.equal(new TextDecoder().decode(onNode.plaintext), message);
    }
  });

  it("decrypts on our Crypto what jose on Node's crypto encrypted", () => {
    for (const { message, nodeOnToken } of results) assert.equal(new TextDecoder().decode(nodeOnToken.plaintext), `${message} (from Node)`);
  });

  it("refuses a wrong password on our Crypto", async () => {
    for (const { jwe } of results) {
      const wrong = new TextEncoder().encode("not the password");
      await assert.rejects(withGlobalCrypto(context.crypto, () => jose.compactDecrypt(jwe, wrong, { keyManagementAlgorithms: ["PBES2-HS256+A128KW"] })), { code: "ERR_JWE_DECRYPTION_FAILED" });
    }
  });

  it("runs as `node examples/jose-pbes2.mjs`", () => {
    const output = runExampleScript("jose-pbes2.mjs");
    assert.equal(output.match(/ours decrypted it/g)?.length, 2, output);
  });
});
