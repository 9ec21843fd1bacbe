// xmldsigjs with our Crypto as its engine signs an XML document (enveloped XML-DSig) with a
// non-extractable token key (RSASSA-PKCS1-v1_5, ECDSA P-256); xmlsec1 must verify it with the public
// key as PEM, and reject a changed document and a spoiled signature value.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { toPem } from "../../examples/lib/tools.mjs";
import { verifyXml, xmlSignature } from "../../examples/xmldsig.mjs";
import { assertNotExtractable, exampleContext, runExampleScript, tamperedCopy, type ExampleContext } from "./support.js";

describe("clients: xmldsigjs signatures on the token, checked by xmlsec1", function () {
  const scratch = exampleContext();
  let context: ExampleContext;
  let results: any[];

  before(async () => {
    context = await scratch.open();
    results = await xmlSignature(context);
  });
  after(() => scratch.close());

  it("signs with RSASSA-PKCS1-v1_5 and ECDSA keys that stay on the token", async () => {
    assert.deepEqual(results.map((result) => result.profile.signing.name), ["RSASSA-PKCS1-v1_5", "ECDSA"]);
    for (const { privateKey, signedPath, profile } of results) {
      await assertNotExtractable(context.crypto, privateKey);
      const method = profile.signing.name === "ECDSA" ? "xmldsig-more#ecdsa-sha256" : "xmldsig-more#rsa-sha256";
      assert.ok(readFileSync(signedPath, "utf8").includes(`SignatureMethod Algorithm="http://www.w3.org/2001/04/${method}"`));
    }
  });

  it("xmlsec1 --verify accepts each signed document with the public key", () => {
    for (const { profile, check } of results) {
      assert.equal(check.status, 0, `${profile.name}: ${check.output}`);
      assert.match(check.output, /^OK$/m);
      assert.match(check.output, /SignedInfo References \(ok\/all\): 1\/1/);
    }
  });

  it("xmlsec1 rejects a changed document, a spoiled signature value and another key", async () => {
    for (const { profile, signedPath, publicKeyPath } of results) {
      const changed = verifyXml(tamperedCopy(signedPath, "1200.00</total>", "1300.00</total>"), publicKeyPath);
      assert.notEqual(changed.status, 0);
      assert.match(changed.output, /^FAIL$/m);

      const text = readFileSync(signedPath, "utf8");
      const value = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(text)![1];
      const bytes = Buffer.from(value, "base64");
      bytes[bytes.length - 1] ^= 0x01;
      const spoiledPath = `${signedPath}.spoiled.xml`;
      writeFileSync(spoiledPath, text.replace(value, bytes.toString("base64")));
      const spoiled = verifyXml(spoiledPath, publicKeyPath);
      assert.notEqual(spoiled.status, 0);
      assert.doesNotMatch(spoiled.output, /^OK$/m);

      // Another key of the same kind: only the key given as PEM may make the signature valid.
      const other = (await context.crypto.subtle.generateKey(profile.algorithm, false, ["sign", "verify"])) as CryptoKeyPair;
      const otherPath = `${publicKeyPath}.other.pem`;
      writeFileSync(otherPath, toPem(await context.crypto.subtle.exportKey("spki", other.publicKey), "PUBLIC KEY"));
      const otherKey = verifyXml(signedPath, otherPath);
      assert.notEqual(otherKey.status, 0);
      assert.match(otherKey.output, /^FAIL$/m);
    }
  });

  it("runs as `node examples/xmldsig.mjs`", () => {
    const output = runExampleScript("xmldsig.mjs");
    assert.equal(output.match(/xmlsec1 --verify .* -> OK$/gm)?.length, 2, output);
  });
});
