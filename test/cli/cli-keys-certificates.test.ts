// The CLI's work on a token, checked by verifiers that are not ours: signatures by Node's crypto
// and `openssl dgst`, requests by `openssl req -verify`, certificates by `openssl verify`, HMACs by
// Node's createHmac; key files made by Node's crypto.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, verify as nodeVerify, X509Certificate, constants } from "node:crypto";
import { readFileSync } from "node:fs";
import { tokenKind } from "../support/tokens.js";
import { CliToken, ensureBuilt, LABEL, PIN } from "./cli-support.js";

const openssl = (args: string[]) => spawnSync("openssl", args, { encoding: "utf8" });

if (tokenKind() === "softhsm") describe("CLI: keys, signatures, requests and certificates on a token", function () {
  let cli: CliToken;
  let document: string;
  let tampered: string;
  let ec: { ids: string[]; keyId: string };
  let rsa: { ids: string[]; keyId: string };

  before(() => {
    ensureBuilt();
    cli = CliToken.create();
    document = cli.file("document.txt", randomBytes(3000));
    tampered = cli.file("tampered.txt", Buffer.concat([readFileSync(document), Buffer.from("!")]));
  });

  after(() => {
    const leaked = cli.outputs.filter((output) => output.includes(PIN));
    cli.remove();
    assert.deepEqual(leaked, [], "the PIN appeared in the CLI's output");
  });

  const publicKeyOf = (keyId: string) => {
    const pem = cli.run(["keys", "export", keyId, ...cli.token]);
    assert.equal(pem.code, 0, pem.stderr);
    return createPublicKey(pem.stdout);
  };

  it("keys generate makes persistent, non-extractable pairs that keys list shows", () => {
    ec = cli.json(["keys", "generate", "ECDSA", "--curve", "P-384", "--label", "cli-ec", ...cli.login]);
    rsa = cli.json(["keys", "generate", "RSA", "--modulus", "2048", "--label", "cli-rsa", ...cli.login]);
    assert.deepEqual(ec.ids, [`private-${ec.keyId}`, `public-${ec.keyId}`]);
    const listed = cli.json(["keys", "list", ...cli.login]);
    const privateEc = listed.find((key: any) => key.id === `private-${ec.keyId}`);
    const escapedId = Buffer.from(ec.keyId, "hex").reduce((text: string, byte: number) => text + (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, "0")}`), "");
    assert.deepEqual(privateEc, {
      id: `private-${ec.keyId}`, type: "private", label: "cli-ec", keyId: ec.keyId,
      uri: `pkcs11:token=${LABEL};object=cli-ec;id=${escapedId};type=private`,
      algorithm: { name: "ECDSA", namedCurve: "P-384" }, usages: ["sign"], extractable: false,
    });
    const privateRsa = listed.find((key: any) => key.id === `private-${rsa.keyId}`);
    assert.deepEqual(privateRsa.algorithm, { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: 65537, hash: { name: "SHA-256" } });
    // --type filters: the public halves only.
    const publicOnly = cli.json(["keys", "list", "--type", "public", ...cli.login]).map((key: any) => key.id).sort();
    assert.deepEqual(publicOnly, [`public-${ec.keyId}`, `public-${rsa.keyId}`].sort());
    const table = cli.run(["keys", "list", "--label", "cli-ec", ...cli.login]);
    assert.match(table.stdout, new RegExp(`^ID\\s+TYPE\\s+LABEL\\s+ALGORITHM\\s+USAGES\\s+EXTRACTABLE\\nprivate-${ec.keyId}\\s+private\\s+cli-ec\\s+ECDSA P-384\\s+sign\\s+no\\n`));
  });

  it("sign: ECDSA signatures verify with Node's crypto (r||s) and openssl dgst (--der); verify exits 0 or 1", () => {
    const signed = cli.run(["sign", document, "--key", ec.keyId, ...cli.login]);
    assert.equal(signed.code, 0, signed.stderr);
    const signature = Buffer.from(signed.stdout.trim(), "base64");
    assert.equal(signature.length, 96);
    const publicKey = publicKeyOf(ec.keyId);
    const data = readFileSync(document);
    assert.equal(nodeVerify("sha384", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature), true);
    assert.equal(nodeVerify("sha384", readFileSync(tampered), { key: publicKey, dsaEncoding: "ieee-p1363" }, signature), false);

    // The same key named by an RFC 7512 URI, as p11tool and OpenSSL name it.
    const byUri = cli.run(["sign", document, "--key", "pkcs11:object=cli-ec;type=private", ...cli.login]);
    assert.equal(byUri.code, 0, byUri.stderr);
    assert.equal(nodeVerify("sha384", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(byUri.stdout.trim(), "base64")), true);

    const signatureFile = cli.file("ec.sig", signed.stdout);
    const good = cli.run(["verify", document, signatureFile, "--key", ec.keyId, ...cli.token]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout, "Signature valid\n");
    const bad = cli.run(["verify", tampered, signatureFile, "--key", ec.keyId, ...cli.token, "--json"]);
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.stdout), { key: `public-${ec.keyId}`, valid: false });

    const der = cli.path("ec.der.sig");
    assert.equal(cli.run(["sign", document, "--key", `private-${ec.keyId}`, "--der", "--out", der, ...cli.login]).code, 0);
    const pem = cli.path("ec.pub.pem");
    assert.equal(cli.run(["keys", "export", ec.keyId, "--out", pem, ...cli.token]).code, 0);
    const checked = openssl(["dgst", "-sha384", "-verify", pem, "-signature", der, document]);
    assert.equal(checked.stdout.trim(), "Verified OK", checked.stderr);
    assert.notEqual(openssl(["dgst", "-sha384", "-verify", pem, "-signature", der, tampered]).status, 0);
    assert.equal(cli.run(["verify", document, der, "--der", "--key", ec.keyId, ...cli.token]).code, 0);
  });

  it("sign: RSASSA-PKCS1-v1_5 and RSA-PSS (--pss, raw --out) verify with Node's crypto", () => {
    const publicKey = publicKeyOf(rsa.keyId);
    const data = readFileSync(document);
    const pkcs1 = cli.json(["sign", document, "--key", rsa.keyId, "--hash", "SHA-512", ...cli.login]);
    assert.equal(nodeVerify("sha512", data, publicKey, Buffer.from(pkcs1.signature, "base64")), true);
    const raw = cli.path("rsa-pss.sig");
    assert.equal(cli.run(["sign", document, "--key", rsa.keyId, "--pss", "--out", raw, ...cli.login]).code, 0);
    const signature = readFileSync(raw);
    assert.equal(signature.length, 256);
    const pss = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    assert.equal(nodeVerify("sha256", data, pss, signature), true);
    assert.equal(nodeVerify("sha256", readFileSync(tampered), pss, signature), false);
    assert.equal(cli.run(["verify", document, raw, "--pss", "--key", rsa.keyId, ...cli.token]).code, 0);
    // The same signature read as PKCS#1 v1.5 is not valid: the scheme is what --pss says.
    assert.equal(cli.run(["verify", document, raw, "--key", rsa.keyId, ...cli.token]).code, 1);
  });

  it("keys import: PKCS#8 PEM, SEC 1 DER, SPKI and JWK from Node's crypto; the token signs what Node verifies", () => {
    const rsaPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pkcs8 = cli.file("rsa.pk8.pem", rsaPair.privateKey.export({ format: "pem", type: "pkcs8" }));
    const imported = cli.json(["keys", "import", pkcs8, "--label", "imported-rsa", ...cli.login]);
    assert.equal(imported.ids.length, 2);
    const signature = cli.json(["sign", document, "--key", imported.keyId, ...cli.login]).signature;
    assert.equal(nodeVerify("sha256", readFileSync(document), rsaPair.publicKey, Buffer.from(signature, "base64")), true);
    // The key is stored non-extractable and its public half is the one Node made.
    const listed = cli.json(["keys", "list", "--label", "imported-rsa", ...cli.login]);
    assert.deepEqual(listed.map((key: any) => [key.type, key.extractable]).sort(), [["private", false], ["public", true]]);
    assert.ok(publicKeyOf(imported.keyId).equals(rsaPair.publicKey));
    // Importing the same key again changes nothing.
    const again = cli.run(["keys", "import", pkcs8, ...cli.login]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has private-/);

    const ecPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const sec1 = cli.file("ec.sec1.der", ecPair.privateKey.export({ format: "der", type: "sec1" }));
    const ecImported = cli.json(["keys", "import", sec1, ...cli.login]);
    const ecSignature = Buffer.from(cli.json(["sign", document, "--key", ecImported.keyId, ...cli.login]).signature, "base64");
    assert.equal(nodeVerify("sha256", readFileSync(document), { key: ecPair.publicKey, dsaEncoding: "ieee-p1363" }, ecSignature), true);

    const edPair = generateKeyPairSync("ed25519");
    const edPublic = cli.file("ed.pub.pem", edPair.publicKey.export({ format: "pem", type: "spki" }));
    const publicOnly = cli.json(["keys", "import", edPublic, ...cli.login]);
    assert.deepEqual(publicOnly.ids, [`public-${publicOnly.keyId}`]);
    // The private key arriving later joins its public half (same CKA_ID, no second public key).
    const edJwk = cli.file("ed.jwk", JSON.stringify(edPair.privateKey.export({ format: "jwk" })));
    const edPrivate = cli.json(["keys", "import", edJwk, ...cli.login]);
    assert.deepEqual(edPrivate.ids, [`private-${publicOnly.keyId}`]);
    const edSignature = cli.path("ed.sig");
    assert.equal(cli.run(["sign", document, "--key", edPrivate.keyId, "--out", edSignature, ...cli.login]).code, 0);
    assert.equal(nodeVerify(null, readFileSync(document), edPair.publicKey, readFileSync(edSignature)), true);

    const secret = randomBytes(32);
    const hmacJwk = cli.file("hmac.jwk", JSON.stringify({ kty: "oct", k: secret.toString("base64url"), alg: "HS256" }));
    const hmac = cli.json(["keys", "import", hmacJwk, ...cli.login]);
    assert.deepEqual(hmac.ids, [`secret-${hmac.keyId}`]);
    const mac = cli.json(["sign", document, "--key", hmac.keyId, ...cli.login]).signature;
    assert.equal(mac, createHmac("sha256", secret).update(readFileSync(document)).digest("base64"));
    const macFile = cli.file("hmac.sig", mac);
    assert.equal(cli.run(["verify", document, macFile, "--key", hmac.keyId, ...cli.login]).code, 0);
    assert.equal(cli.run(["verify", tampered, macFile, "--key", hmac.keyId, ...cli.login]).code, 1);

    const encrypted = cli.file("encrypted.pem", rsaPair.privateKey.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "x" }));
    const refused = cli.run(["keys", "import", encrypted, ...cli.login]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /encrypted private key/);
    const garbage = cli.run(["keys", "import", cli.file("garbage.bin", randomBytes(64)), ...cli.login]);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /not a key in PEM/);
  });

  it("csr: a PKCS#10 request signed on the token passes openssl req -verify (ECDSA, RSA-PSS)", () => {
    const request = cli.path("ec.csr");
    const made = cli.run(["csr", "--key", ec.keyId, "--subject", "CN=CLI Test,O=Example\\, Inc.,C=nl", "--out", request, ...cli.login]);
    assert.equal(made.code, 0, made.stderr);
    const checked = openssl(["req", "-in", request, "-verify", "-noout", "-subject"]);
    assert.equal(checked.status, 0, checked.stderr);
    assert.match(checked.stderr + checked.stdout, /self-signature verify OK/);
    assert.match(checked.stdout, /subject=CN = CLI Test, O = "Example, Inc.", C = NL/);
    const text = openssl(["req", "-in", request, "-noout", "-text"]).stdout;
    assert.match(text, /ecdsa-with-SHA384/);
    assert.ok(createPublicKey(openssl(["req", "-in", request, "-noout", "-pubkey"]).stdout).equals(publicKeyOf(ec.keyId)));

    const pss = cli.json(["csr", "--key", `private-${rsa.keyId}`, "--pss", "--hash", "SHA-384", "--subject", "CN=PSS", ...cli.login]);
    const pssFile = cli.file("pss.csr", pss.pem);
    const pssChecked = openssl(["req", "-in", pssFile, "-verify", "-noout", "-text"]);
    assert.equal(pssChecked.status, 0, pssChecked.stderr);
    assert.match(pssChecked.stderr + pssChecked.stdout, /self-signature verify OK/);
    assert.match(pssChecked.stdout, /rsassaPss[\s\S]*Hash Algorithm: sha384/);
    // A request whose signature is spoiled must fail the same check.
    const der = Buffer.from(pss.pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5] ^= 1;
    const spoiled = cli.file("spoiled.csr", der);
    // OpenSSL 3.0 exits 0 even then, so its words are what tell (3.2 and later also exit 1).
    const rejected = openssl(["req", "-in", spoiled, "-inform", "DER", "-verify", "-noout"]);
    assert.doesNotMatch(rejected.stdout + rejected.stderr, /verify OK/);
    assert.match(rejected.stdout + rejected.stderr, /verify failure/);
  });

  it("self-signed: openssl verify accepts the certificate as its own root; --store puts it in certs list", () => {
    const pem = cli.path("self.pem");
    const made = cli.run(["self-signed", "--key", ec.keyId, "--subject", "CN=CLI Root,O=Example", "--days", "30", "--store", "--label", "cli-root", "--out", pem, ...cli.login]);
    assert.equal(made.code, 0, made.stderr);
    const verified = openssl(["verify", "-CAfile", pem, pem]);
    assert.equal(verified.stdout.trim(), `${pem}: OK`, verified.stderr);
    const certificate = new X509Certificate(readFileSync(pem));
    assert.equal(certificate.subject, "CN=CLI Root\nO=Example");
    assert.equal(certificate.ca, true);
    assert.ok(certificate.publicKey.equals(publicKeyOf(ec.keyId)));
    const days = (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000;
    assert.equal(days, 30);

    const listed = cli.json(["certs", "list", ...cli.token]);
    const stored = listed.find((item: any) => item.label === "cli-root");
    assert.equal(stored.subject, "CN=CLI Root, O=Example");
    assert.equal(stored.serialNumber.toUpperCase(), certificate.serialNumber.replace(/^0+/, "").padStart(stored.serialNumber.length, "0").toUpperCase());
    assert.equal(made.stderr, `Stored as ${stored.id}\n`);
    // Exported as PEM it is the file; as DER, the same bytes.
    assert.equal(cli.run(["certs", "export", stored.id, ...cli.token]).stdout, readFileSync(pem, "utf8"));
    const der = cli.path("self.der");
    assert.equal(cli.run(["certs", "export", stored.id, "--der", "--out", der, ...cli.token]).code, 0);
    assert.ok(readFileSync(der).equals(Buffer.from(certificate.raw)));

    const rsaPem = cli.path("rsa-self.pem");
    assert.equal(cli.run(["self-signed", "--key", rsa.keyId, "--subject", "CN=RSA Root", "--out", rsaPem, ...cli.login]).code, 0);
    assert.equal(openssl(["verify", "-CAfile", rsaPem, rsaPem]).status, 0);
    assert.match(openssl(["x509", "-in", rsaPem, "-noout", "-text"]).stdout, /sha256WithRSAEncryption/);
  });

  it("certs import (PEM and DER, certificate and request), export, delete", () => {
    const key = cli.file("ossl.key", generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }));
    const certificate = cli.path("ossl.der");
    execFileSync("openssl", ["req", "-x509", "-key", key, "-subj", "/CN=From OpenSSL", "-days", "2", "-outform", "DER", "-out", certificate], { stdio: "pipe" });
    const request = cli.path("ossl.csr");
    execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/CN=Request", "-out", request], { stdio: "pipe" });

    const importedCertificate = cli.json(["certs", "import", certificate, "--label", "ossl", ...cli.login]);
    assert.equal(importedCertificate.type, "x509");
    assert.equal(importedCertificate.subject, "CN=From OpenSSL");
    const importedRequest = cli.json(["certs", "import", request, ...cli.login]);
    assert.equal(importedRequest.type, "request");
    const ids = cli.json(["certs", "list", ...cli.token]).map((item: any) => item.id);
    assert.ok(ids.includes(importedCertificate.id) && ids.includes(importedRequest.id));
    const table = cli.run(["certs", "list", ...cli.token]).stdout;
    assert.match(table, new RegExp(`\\n${importedCertificate.id}\\s+x509\\s+ossl\\s+CN=From OpenSSL\\s+CN=From OpenSSL\\s+\\d{4}-\\d\\d-\\d\\d\\n`));
    const exported = cli.run(["certs", "export", importedRequest.id, "--der", ...cli.token]);
    assert.equal(exported.code, 0);
    const requestDer = execFileSync("openssl", ["req", "-in", request, "-outform", "DER"]);
    assert.ok(Buffer.from(exported.stdout, "latin1").length > 0);
    assert.equal(cli.json(["certs", "export", importedRequest.id, "--der", ...cli.token]).der, requestDer.toString("base64"));

    assert.deepEqual(cli.json(["certs", "delete", importedCertificate.id, ...cli.login]), { deleted: [importedCertificate.id] });
    assert.ok(!cli.json(["certs", "list", ...cli.token]).some((item: any) => item.id === importedCertificate.id));
    const missing = cli.run(["certs", "delete", importedCertificate.id, ...cli.login]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no certificate or request x509-/);
    const notCertificate = cli.run(["certs", "import", cli.file("junk.der", randomBytes(50)), ...cli.login]);
    assert.equal(notCertificate.code, 1);
    assert.match(notCertificate.stderr, /DataError: The data is not an X.509 certificate or PKCS#10 certificate request/);
  });

  it("keys delete: a pair's CKA_ID deletes both halves; an unknown id deletes nothing (exit 1)", () => {
    const pair = cli.json(["keys", "generate", "Ed25519", "--label", "doomed", ...cli.login]);
    const before = cli.json(["keys", "list", ...cli.login]).length;
    const missing = cli.run(["keys", "delete", pair.keyId, "00ff00ff", ...cli.login]);
    assert.equal(missing.code, 1);
    assert.equal(cli.json(["keys", "list", ...cli.login]).length, before);
    const deleted = cli.json(["keys", "delete", pair.keyId, ...cli.login]);
    assert.deepEqual(deleted.deleted.sort(), pair.ids.sort());
    assert.equal(cli.json(["keys", "list", "--label", "doomed", ...cli.login]).length, 0);
    const signWithDeleted = cli.run(["sign", document, "--key", pair.keyId, ...cli.login]);
    assert.equal(signWithDeleted.code, 1);
    assert.match(signWithDeleted.stderr, new RegExp(`no private or secret key ${pair.keyId} on token "${LABEL}"`));
  });
});
