// A detached CMS SignedData over a file, built by pkijs on our Crypto and signed by a
// non-extractable token key (ECDSA P-256, RSA 2048); `openssl cms -verify` must accept it with the
// document and the CA certificate, and reject it over a changed document.
import assert from "node:assert/strict";
import { pkijsCms, verifyCms } from "../../examples/pkijs-cms.mjs";
import { run } from "../../examples/lib/tools.mjs";
import { exampleContext, flippedCopy, runExampleScript, tamperedCopy, type ExampleContext } from "./support.js";

describe("clients: pkijs CMS SignedData on the token, checked by openssl cms -verify", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];

  before(async () => {
    context = await scratch.open();
    results = await pkijsCms(context);
  });
  after(() => scratch.close());

  it("openssl cms -verify accepts each signature with the document and the CA certificate", () => {
    assert.equal(results.length, 2);
    for (const { profile, check } of results) {
      assert.equal(check.status, 0, `${profile.name}: ${check.output}`);
      assert.match(check.stderr, /^CMS Verification successful$/m);
    }
  });

  it("is detached and signs its attributes with SHA-256", () => {
    for (const { profile, signaturePath } of results) {
      const dump = run("openssl", ["cms", "-cmsout", "-print", "-inform", "DER", "-in", signaturePath]);
      assert.equal(dump.status, 0, dump.output);
      assert.match(dump.stdout, /eContent: <ABSENT>/);
      assert.match(dump.stdout, /algorithm: sha256/);
      assert.match(dump.stdout, /object: messageDigest/);
      assert.match(dump.stdout, profile.name.startsWith("ECDSA") ? /algorithm: ecdsa-with-SHA256/ : /algorithm: (sha256WithRSAEncryption|rsaEncryption)/);
    }
  });

  it("openssl cms -verify rejects a signature over a changed document, and a spoiled signature", () => {
    for (const { signaturePath, documentPath, caPath } of results) {
      const changed = tamperedCopy(documentPath, "contract", "Contract");
      const overChanged = verifyCms({ signaturePath, documentPath: changed, caPath });
      assert.notEqual(overChanged.status, 0);
      assert.match(overChanged.output, /Verification failure/);
      assert.doesNotMatch(overChanged.output, /Verification successful/);

      const spoiled = verifyCms({ signaturePath: flippedCopy(signaturePath, -1), documentPath, caPath });
      assert.notEqual(spoiled.status, 0);
      assert.doesNotMatch(spoiled.output, /Verification successful/);
    }
  });

  it("runs as `node examples/pkijs-cms.mjs`", () => {
    const output = runExampleScript("pkijs-cms.mjs");
    assert.equal(output.match(/-> CMS Verification successful$/gm)?.length, 2, output);
  });
});
