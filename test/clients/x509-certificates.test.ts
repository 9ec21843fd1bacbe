// @peculiar/x509 with our Crypto as its provider: a self-signed certificate and a PKCS#10 request
// for non-extractable token keys (ECDSA, RSASSA-PKCS1-v1_5, RSA-PSS); `openssl verify` and
// `openssl req -verify` must accept them and reject spoiled copies.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { verifyCertificate, verifyRequest, x509Certificates } from "../../examples/x509-certificates.mjs";
import { run, toPem } from "../../examples/lib/tools.mjs";
import { assertNotExtractable, exampleContext, runExampleScript, type ExampleContext } from "./support.js";

describe("clients: @peculiar/x509 certificates and requests on the token, checked by openssl", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];

  before(async () => {
    context = await scratch.open();
    results = await x509Certificates(context);
  });
  after(() => scratch.close());

  it("makes a certificate and a request for ECDSA, RSASSA-PKCS1-v1_5 and RSA-PSS keys that stay on the token", async () => {
    assert.deepEqual(results.map((result) => result.profile.signingAlgorithm.name), ["ECDSA", "RSASSA-PKCS1-v1_5", "RSA-PSS"]);
    for (const { keys } of results) await assertNotExtractable(context.crypto, keys.privateKey);
  });

  it("openssl verify accepts each self-signed certificate, and @peculiar/x509 on our Crypto does too", () => {
    for (const { profile, certificatePath, certificateCheck, selfCheck } of results) {
      assert.equal(certificateCheck.status, 0, `${profile.name}: ${certificateCheck.output}`);
      assert.equal(certificateCheck.stdout.trim(), `${certificatePath}: OK`);
      assert.equal(selfCheck, true);
    }
  });

  it("openssl req -verify accepts each request", () => {
    for (const { profile, requestCheck } of results) {
      assert.equal(requestCheck.status, 0, `${profile.name}: ${requestCheck.output}`);
      assert.match(requestCheck.output, /self-signature verify OK/);
      assert.equal(requestCheck.verified, true);
    }
  });

  it("signs with the algorithm asked for, over the token's public key", async () => {
    const expected: Record<string, RegExp> = { ECDSA: /ecdsa-with-SHA256/, "RSASSA-PKCS1-v1_5": /sha256WithRSAEncryption/, "RSA-PSS": /rsassaPss[\s\S]*Hash Algorithm: sha256[\s\S]*Salt Length: 0x20/ };
    for (const { profile, keys, certificatePath, requestPath } of results) {
      const pattern = expected[profile.signingAlgorithm.name];
      const certificateText = run("openssl", ["x509", "-in", certificatePath, "-noout", "-text"]).stdout;
      const requestText = run("openssl", ["req", "-in", requestPath, "-noout", "-text"]).stdout;
      assert.match(certificateText, pattern, profile.name);
      assert.match(requestText, pattern, profile.name);
      const spki = Buffer.from(await context.crypto.subtle.exportKey("spki", keys.publicKey));
      assert.equal(run("openssl", ["x509", "-in", certificatePath, "-noout", "-pubkey"]).stdout, toPem(spki, "PUBLIC KEY"));
    }
  });

  it("openssl rejects a certificate and a request with one bit of the signature flipped", () => {
    for (const { certificate, request, certificatePath, requestPath } of results) {
      const spoiledCertificate = Buffer.from(new Uint8Array(certificate.rawData)); // a copy: Buffer.from(ArrayBuffer) would share it
      spoiledCertificate[spoiledCertificate.length - 1] ^= 0x01;
      writeFileSync(`${certificatePath}.spoiled`, toPem(spoiledCertificate, "CERTIFICATE"));
      const certificateCheck = verifyCertificate(`${certificatePath}.spoiled`);
      assert.notEqual(certificateCheck.status, 0);
      assert.match(certificateCheck.output, /signature failure/);

      const spoiledRequest = Buffer.from(new Uint8Array(request.rawData));
      spoiledRequest[spoiledRequest.length - 1] ^= 0x01;
      writeFileSync(`${requestPath}.spoiled`, toPem(spoiledRequest, "CERTIFICATE REQUEST"));
      // OpenSSL 3.0 exits 0 here too: its words are the verdict.
      const requestCheck = verifyRequest(`${requestPath}.spoiled`);
      assert.equal(requestCheck.verified, false);
      assert.match(requestCheck.output, /self-signature verify failure/);
    }
  });

  it("stores the keys and the certificate on the token, linked by CKA_ID, and reads them back", async () => {
    const { crypto } = context;
    for (const { profile, certificate, stored } of results) {
      const item = await crypto.certStorage.getItem(stored.certificateId);
      assert.ok(item, `${profile.name}: certificate ${stored.certificateId} not found`);
      assert.deepEqual(Buffer.from(await crypto.certStorage.exportCert("raw", item)), Buffer.from(certificate.rawData));
      // A token object does not say PSS or PKCS#1 v1.5 for an RSA key: the algorithm is given.
      const privateKey = await crypto.certStorage.getPrivateKey(item, profile.algorithm, ["sign"]);
      assert.ok(privateKey, `${profile.name}: no private key found for the stored certificate`);
      assert.equal(privateKey.extractable, false);
      assert.equal(privateKey.algorithm.name, profile.algorithm.name);
      assert.ok((await crypto.keyStorage.keys()).includes(stored.privateKeyId));
      if (stored.requestId) {
        const request = await crypto.certStorage.getItem(stored.requestId);
        assert.ok(request, `${profile.name}: request ${stored.requestId} not found`);
      } else {
        // Only a token that keeps no data objects (NSS softokn) may refuse the request.
        assert.match(stored.requestRefusal, /^NotSupportedError: .*data objects/);
      }
    }
  });

  it("runs as `node examples/x509-certificates.mjs`", () => {
    const output = runExampleScript("x509-certificates.mjs");
    assert.equal(output.match(/openssl verify .* -> .*: OK$/gm)?.length, 3, output);
    assert.equal(output.match(/-> Certificate request self-signature verify OK$/gm)?.length, 3, output);
  });
});
