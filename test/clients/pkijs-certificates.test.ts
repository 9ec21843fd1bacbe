// pkijs with our Crypto as its engine issues a CA certificate and a signing certificate with
// non-extractable token keys (ECDSA P-256, RSA 2048); `openssl verify` must accept both and must
// reject a certificate whose signature was spoiled.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { certificateDer, pkijsCertificates } from "../../examples/pkijs-certificates.mjs";
import { run, toPem } from "../../examples/lib/tools.mjs";
import { assertNotExtractable, exampleContext, runExampleScript, type ExampleContext } from "./support.js";

describe("clients: pkijs certificates on the token, checked by openssl verify", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];

  before(async () => {
    context = await scratch.open();
    results = await pkijsCertificates(context);
  });
  after(() => scratch.close());

  it("issues for ECDSA P-256 and RSA 2048", () => {
    assert.deepEqual(results.map((result) => result.profile.name), ["ECDSA P-256", "RSA 2048"]);
  });

  it("keeps every private key non-extractable on the token", async () => {
    for (const result of results) {
      await assertNotExtractable(context.crypto, result.caKeys.privateKey);
      await assertNotExtractable(context.crypto, result.leafKeys.privateKey);
    }
  });

  it("openssl verify accepts the CA certificate and the certificate it issued", () => {
    for (const { profile, caCheck, leafCheck, caPath, leafPath } of results) {
      assert.equal(caCheck.status, 0, `${profile.name} CA: ${caCheck.output}`);
      assert.equal(caCheck.stdout.trim(), `${caPath}: OK`);
      assert.equal(leafCheck.status, 0, `${profile.name} signer: ${leafCheck.output}`);
      assert.equal(leafCheck.stdout.trim(), `${leafPath}: OK`);
    }
  });

  it("puts the token's public keys in the certificates, with the CA's name as issuer", async () => {
    for (const { caKeys, leafKeys, caPath, leafPath } of results) {
      for (const [path, keys] of [[caPath, caKeys], [leafPath, leafKeys]] as const) {
        const spki = Buffer.from(await context.crypto.subtle.exportKey("spki", keys.publicKey));
        const fromCertificate = run("openssl", ["x509", "-in", path, "-noout", "-pubkey"]);
        assert.equal(fromCertificate.stdout, toPem(spki, "PUBLIC KEY"));
      }
      const names = run("openssl", ["x509", "-in", leafPath, "-noout", "-issuer", "-ext", "basicConstraints,keyUsage"]);
      assert.match(names.stdout, /issuer=CN = Example CA/);
      assert.match(names.stdout, /CA:FALSE/);
      assert.match(names.stdout, /Digital Signature, Non Repudiation/);
    }
  });

  it("openssl verify rejects a certificate with one bit of its signature flipped", () => {
    for (const { caCertificate, leafCertificate, caPath, leafPath } of results) {
      const caDer = Buffer.from(certificateDer(caCertificate));
      caDer[caDer.length - 1] ^= 0x01;
      const spoiledCa = `${caPath}.spoiled.pem`;
      writeFileSync(spoiledCa, toPem(caDer, "CERTIFICATE"));
      const caCheck = run("openssl", ["verify", "-check_ss_sig", "-CAfile", spoiledCa, spoiledCa]);
      assert.notEqual(caCheck.status, 0);
      assert.match(caCheck.output, /signature failure/);

      const der = Buffer.from(certificateDer(leafCertificate));
      der[der.length - 1] ^= 0x01;
      const spoiled = `${leafPath}.spoiled.pem`;
      writeFileSync(spoiled, toPem(der, "CERTIFICATE"));
      const check = run("openssl", ["verify", "-CAfile", caPath, spoiled]);
      assert.notEqual(check.status, 0);
      assert.match(check.output, /certificate signature failure/);
    }
  });

  it("runs as `node examples/pkijs-certificates.mjs`", () => {
    const output = runExampleScript("pkijs-certificates.mjs");
    assert.equal(output.match(/openssl verify .* -> .*: OK$/gm)?.length, 4, output);
  });
});
