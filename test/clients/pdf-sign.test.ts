// A PDF signed with a non-extractable token key: pdf-lib, @signpdf and a Signer whose CMS pkijs
// builds on our Crypto (adbe.pkcs7.detached and ETSI.CAdES.detached, ECDSA P-256 and RSA 2048).
// Poppler's pdfsig must find the signature valid over the whole document and the certificate
// trusted (through an NSS database that trusts the example CA), and must reject a changed PDF.
import assert from "node:assert/strict";
import { checkPdf, pdfSign } from "../../examples/pdf-sign.mjs";
import { assertNotExtractable, exampleContext, runExampleScript, tamperedCopy, type ExampleContext } from "./support.js";

describe("clients: PDF signed on the token (pdf-lib, @signpdf, pkijs), checked by pdfsig", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];

  before(async () => {
    context = await scratch.open();
    results = await pdfSign(context);
  });
  after(() => scratch.close());

  it("signs with both signature types and both key kinds", () => {
    assert.deepEqual(
      results.map((result) => `${result.profile.name} ${result.subFilter}`),
      ["ECDSA P-256 adbe.pkcs7.detached", "ECDSA P-256 ETSI.CAdES.detached", "RSA 2048 adbe.pkcs7.detached", "RSA 2048 ETSI.CAdES.detached"],
    );
  });

  it("pdfsig: Signature is Valid, the certificate trusted, the whole document signed", () => {
    for (const { profile, subFilter, check } of results) {
      const what = `${profile.name} ${subFilter}: ${check.output}`;
      assert.equal(check.status, 0, what);
      assert.equal(check.signatureValidation, "Signature is Valid.", what);
      assert.equal(check.certificateValidation, "Certificate is Trusted.", what);
      assert.equal(check.signatureType, subFilter, what);
      assert.equal(check.signerName, `Example signer (${profile.name})`, what);
      assert.equal(check.wholeDocument, true, what);
    }
  });

  it("pdfsig without the trusted CA still finds the signature valid, the issuer untrusted", () => {
    const check = checkPdf(results[0].pdfPath);
    assert.equal(check.signatureValidation, "Signature is Valid.", check.output);
    assert.equal(check.certificateValidation, "Certificate issuer isn't Trusted.", check.output);
  });

  it("pdfsig rejects a PDF changed after signing", () => {
    for (const { pdfPath, nssDirectory, profile } of results) {
      const changed = checkPdf(tamperedCopy(pdfPath, `(${profile.name}`, `(${profile.name.replace(/^./, "X")}`), nssDirectory);
      assert.ok(changed.signatureValidation, changed.output);
      assert.notEqual(changed.signatureValidation, "Signature is Valid.", changed.output);
    }
  });

  it("runs as `node examples/pdf-sign.mjs`", () => {
    const output = runExampleScript("pdf-sign.mjs");
    assert.equal(output.match(/pdfsig -> Signature is Valid\.; Certificate is Trusted\./g)?.length, 4, output);
  });
});
