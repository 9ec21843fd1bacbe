// Password-protected PKCS#12 with pkijs on our Crypto (issue #9): PBKDF2, AES-256-CBC and the
// HMAC integrity check through our SubtleCrypto. OpenSSL must read the file we write (the same
// certificate, the token key's public half, and a wrong password refused); we must read the file
// OpenSSL writes, refuse it with a wrong password, and use its key from the token.
import assert from "node:assert/strict";
import { pkcs12 } from "../../examples/pkcs12.mjs";
import { exampleContext, runExampleScript, type ExampleContext } from "./support.js";

describe("clients: PKCS#12 files with pkijs on our Crypto, read and written by OpenSSL", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let result: any;

  before(async () => {
    context = await scratch.open();
    result = await pkcs12(context);
  });
  after(() => scratch.close());

  it("writes PBES2 (PBKDF2 with HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC, as openssl pkcs12 -info reports", () => {
    assert.equal(result.info.status, 0, result.info.output);
    assert.match(result.info.output, /MAC: sha256, Iteration 2048/);
    assert.match(result.info.output, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
    assert.match(result.info.output, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
  });

  it("openssl pkcs12 -nokeys / -nocerts reads our certificate and our key", () => {
    assert.equal(result.certificatesOut.status, 0, result.certificatesOut.output);
    assert.equal(result.certificateMatches, true, "the certificate OpenSSL read is the one we wrote");
    assert.equal(result.keysOut.status, 0, result.keysOut.output);
    assert.match(result.keysOut.stdout, /-----BEGIN PRIVATE KEY-----/);
    assert.equal(result.keyMatches, true, "the key OpenSSL read has the token key's public key");
  });

  it("openssl refuses our file with a wrong password", () => {
    assert.notEqual(result.wrongPassword.status, 0);
    assert.match(result.wrongPassword.output, /Mac verify error/);
  });

  it("reads OpenSSL's file: one key and its certificate, the key usable from the token", () => {
    assert.equal(result.read.privateKeys.length, 1);
    assert.equal(result.read.certificates.length, 1);
    assert.equal(result.read.certificates[0].subject.typesAndValues[0].value.valueBlock.value, "OpenSSL PKCS#12 example");
    assert.equal(result.tokenKey.extractable, false);
    assert.equal(result.signatureValid, true);
  });

  it("refuses OpenSSL's file with a wrong password", () => {
    assert.ok(result.wrongPasswordError instanceof Error);
    assert.match(result.wrongPasswordError.message, /Integrity for the PKCS#12 data is broken/);
  });

  it("runs as `node examples/pkcs12.mjs`", () => {
    const output = runExampleScript("pkcs12.mjs");
    assert.match(output, /openssl pkcs12 -nokeys read our certificate: the same certificate/);
    assert.match(output, /Node verified with the certificate's public key: valid/);
  });
});
