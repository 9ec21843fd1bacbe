// crypto.certStorage on the token under test, with certificates and requests that OpenSSL made:
// fields as Node's X509Certificate reads them, token objects with the attributes other tools
// expect, links between certificates and keys, chains, and bad input that writes nothing.
import assert from "node:assert/strict";
import { createHash, createPublicKey, webcrypto, X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { Crypto, type CryptoX509Certificate } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { findObjects, readAttributes } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import type { Token } from "../../src/token/token.js";
import { OpenSslWorkspace, type Authority } from "../support/openssl-certificates.js";
import { config, tokenKind } from "../support/tokens.js";

const ulong = (value: Buffer) => Number(value.readBigUInt64LE(0));

describe("certStorage", () => {
  let crypto: Crypto;
  let token: Token;
  let openssl: OpenSslWorkspace;
  let root: Authority;
  const stored: string[] = [];

  before(async function () {
    this.timeout(60_000);
    crypto = new Crypto(config());
    const probe = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    token = keyObjectOf(probe)!.token;
    openssl = new OpenSslWorkspace();
    root = openssl.rootAuthority("/CN=Storage Test Root/O=Example/C=NL");
  });
  after(async () => {
    for (const id of stored) await crypto.certStorage.removeItem(id).catch(() => crypto.keyStorage.removeItem(id));
    await crypto.close();
    openssl.remove();
  });

  /** Certificate and data objects on the token: what bad input must leave unchanged. */
  async function certificateObjects(): Promise<number> {
    const certificates = await findObjects(token, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }]);
    const data = await findObjects(token, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA }]);
    return certificates.length + data.length;
  }

  it("importCert reads PEM and DER certificates as Node's X509Certificate does", async () => {
    const node = new X509Certificate(root.certificate);
    const fromPem = (await crypto.certStorage.importCert("pem", root.certificate)) as CryptoX509Certificate;
    const fromDer = (await crypto.certStorage.importCert("raw", openssl.der(root.certificate))) as CryptoX509Certificate;
    for (const item of [fromPem, fromDer]) {
      assert.equal(item.type, "x509");
      assert.equal(item.subjectName, node.subject.split("\n").join(", "));
      assert.equal(item.issuerName, node.issuer.split("\n").join(", "));
      assert.equal(BigInt(`0x${item.serialNumber}`), BigInt(`0x${node.serialNumber}`));
      assert.equal(item.notBefore.getTime(), new Date(node.validFrom).getTime());
      assert.equal(item.notAfter.getTime(), new Date(node.validTo).getTime());
      assert.deepEqual(Buffer.from(item.value), node.raw);
      assert.equal(item.label, "Storage Test Root");
      assert.deepEqual(item.publicKey.algorithm, { name: "ECDSA", namedCurve: "P-256" });
      assert.deepEqual(item.publicKey.usages, ["verify"]);
      assert.deepEqual(Buffer.from(await crypto.subtle.exportKey("spki", item.publicKey)), node.publicKey.export({ type: "spki", format: "der" }));
    }
    assert.equal(fromPem.id, fromDer.id);
    assert.equal(await crypto.certStorage.exportCert("pem", fromDer), node.toString());
  });

  it("setItem writes a CKO_CERTIFICATE with DER subject, issuer and serial; once only; getItem reads it back", async () => {
    const item = await crypto.certStorage.importCert("pem", root.certificate);
    const before = await certificateObjects();
    const id = await crypto.certStorage.setItem(item);
    stored.push(id);
    assert.equal(id, item.id);
    assert.equal(await crypto.certStorage.setItem(item), id);
    assert.equal(await certificateObjects(), before + 1);
    assert.ok((await crypto.certStorage.keys()).includes(id));
    assert.equal(await crypto.certStorage.indexOf(item), id);

    const [handle] = await findObjects(token, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
      { type: pkcs11js.CKA_VALUE, value: openssl.der(root.certificate) },
    ]);
    const { CKA_CERTIFICATE_TYPE, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER } = pkcs11js;
    const [type, persistent, isPrivate, label, subject, issuer, serial] = readAttributes(token, handle, [
      CKA_CERTIFICATE_TYPE, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER,
    ]);
    const parsed = AsnConvert.parse(openssl.der(root.certificate), Certificate).tbsCertificate;
    assert.equal(ulong(type), pkcs11js.CKC_X_509);
    assert.deepEqual([persistent[0], isPrivate[0]], [1, 0]);
    assert.equal(label.toString(), "Storage Test Root");
    assert.deepEqual(subject, Buffer.from(AsnConvert.serialize(parsed.subject)));
    assert.deepEqual(issuer, Buffer.from(AsnConvert.serialize(parsed.issuer)));
    assert.equal(serial[0], 0x02);
    assert.deepEqual(serial.subarray(2), Buffer.from(parsed.serialNumber));

    const again = (await crypto.certStorage.getItem(id)) as CryptoX509Certificate;
    assert.deepEqual(Buffer.from(again.value), openssl.der(root.certificate));
    assert.equal(again.subjectName, item.subjectName);
    const exported = openssl.path("exported.pem");
    writeFileSync(exported, await crypto.certStorage.exportCert("pem", again));
    assert.match(openssl.openssl("x509", "-in", exported, "-noout", "-subject"), /CN = Storage Test Root/);
  });

  it("a certificate for a key pair on the token shares the pair's CKA_ID; each finds the other", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const privateId = await crypto.keyStorage.setItem(pair.privateKey);
    stored.push(privateId, await crypto.keyStorage.setItem(pair.publicKey));
    const spki = Buffer.from(await crypto.subtle.exportKey("spki", pair.publicKey));
    const publicKeyPem = createPublicKey({ key: spki, format: "der", type: "spki" }).export({ type: "spki", format: "pem" }) as string;
    const issued = openssl.issue("/CN=Token Signer", root, { publicKeyPem });
    const item = await crypto.certStorage.importCert("pem", issued.certificate);
    const certificateId = await crypto.certStorage.setItem(item);
    stored.push(certificateId);

    const [handle] = await findObjects(token, [{ type: pkcs11js.CKA_VALUE, value: openssl.der(issued.certificate) }]);
    assert.equal(readAttributes(token, handle, [pkcs11js.CKA_ID])[0].toString("hex"), privateId.slice("private-".length));

    const signer = (await crypto.certStorage.getPrivateKey(item))!;
    assert.equal(await crypto.keyStorage.indexOf(signer), privateId);
    const data = Buffer.from("signed with the certificate's key");
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signer, data);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, item.publicKey, signature, data), true);
    const nodeKey = await webcrypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    assert.equal(await webcrypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, nodeKey, signature, data), true);

    const certificates = await crypto.certStorage.getCertificates(signer);
    assert.deepEqual(certificates.map((certificate) => certificate.id), [certificateId]);
  });

  it("a certificate with no key on the token gets the SHA-1 of its public key as CKA_ID, and no private key", async () => {
    const issued = openssl.issue("/CN=Somebody Else", root);
    const item = await crypto.certStorage.importCert("pem", issued.certificate);
    stored.push(await crypto.certStorage.setItem(item));
    const point = new X509Certificate(issued.certificate).publicKey.export({ type: "spki", format: "der" }).subarray(-65);
    const [handle] = await findObjects(token, [{ type: pkcs11js.CKA_VALUE, value: openssl.der(issued.certificate) }]);
    assert.deepEqual(readAttributes(token, handle, [pkcs11js.CKA_ID])[0], createHash("sha1").update(point).digest());
    assert.equal(await crypto.certStorage.getPrivateKey(item), null);
  });

  it("getChain follows issuers among the stored certificates up to the root", async function () {
    this.timeout(30_000);
    const intermediate = openssl.issue("/CN=Storage Test Intermediate", root, { ca: true });
    const leaf = openssl.issue("/CN=Storage Test Leaf", intermediate);
    const orphan = openssl.issue("/CN=Orphan Leaf", openssl.issue("/CN=Unstored Intermediate", root, { ca: true }));
    const items = await Promise.all([root, intermediate, leaf, orphan].map((entry) => crypto.certStorage.importCert("pem", entry.certificate)));
    for (const item of items) stored.push(await crypto.certStorage.setItem(item));
    const [rootItem, intermediateItem, leafItem, orphanItem] = items as CryptoX509Certificate[];
    assert.deepEqual((await crypto.certStorage.getChain(leafItem)).map((item) => item.subjectName), [
      "CN=Storage Test Leaf", "CN=Storage Test Intermediate", "CN=Storage Test Root, O=Example, C=NL",
    ]);
    assert.deepEqual((await crypto.certStorage.getChain(rootItem)).map((item) => item.id), [rootItem.id]);
    assert.deepEqual((await crypto.certStorage.getChain(orphanItem)).map((item) => item.id), [orphanItem.id]);
    assert.equal(intermediateItem.issuerName, rootItem.subjectName);
  });

  it("PKCS#10 requests: read, stored as PKCS#10 data objects, exported so that OpenSSL verifies them", async () => {
    const pem = openssl.request("/CN=Requester/O=Example");
    const item = await crypto.certStorage.importCert("pem", pem);
    assert.equal(item.type, "request");
    assert.equal(item.subjectName, "CN=Requester, O=Example");
    assert.match(item.id, /^request-[0-9a-f]{32}$/);
    if (tokenKind() === "nss") {
      // NSS softokn stores no data objects on its token.
      await assert.rejects(crypto.certStorage.setItem(item), { name: "NotSupportedError", message: /data objects/ });
      return;
    }
    const id = await crypto.certStorage.setItem(item, { label: "my request" });
    stored.push(id);
    const [handle] = await findObjects(token, [{ type: pkcs11js.CKA_VALUE, value: openssl.der(pem) }]);
    const [objectClass, objectId, label] = readAttributes(token, handle, [pkcs11js.CKA_CLASS, pkcs11js.CKA_OBJECT_ID, pkcs11js.CKA_LABEL]);
    assert.equal(ulong(objectClass), pkcs11js.CKO_DATA);
    assert.equal(objectId.toString("hex"), "06082a864886f70d010a");
    assert.equal(label.toString(), "my request");
    const again = (await crypto.certStorage.getItem(id))!;
    assert.equal(again.label, "my request");
    const exported = openssl.path("request.pem");
    writeFileSync(exported, await crypto.certStorage.exportCert("pem", again));
    // OpenSSL 3.0's `req -verify` exits 0 even when the signature is wrong: its words are the verdict.
    assert.match(openssl.opensslOutput("req", "-in", exported, "-verify", "-noout").output, /self-signature verify OK/);
    const spoiled = Buffer.from(openssl.der(pem));
    spoiled[spoiled.length - 5] ^= 1;
    writeFileSync(exported, spoiled);
    assert.doesNotMatch(openssl.opensslOutput("req", "-in", exported, "-inform", "DER", "-verify", "-noout").output, /verify OK/);
  });

  it("bad certificates, formats, algorithms and ids: errors of the right type, nothing written", async () => {
    const before = await certificateObjects();
    const der = openssl.der(root.certificate);
    const bad: [string, () => Promise<unknown>, string][] = [
      ["random bytes", () => crypto.certStorage.importCert("raw", Buffer.from("not a certificate at all")), "DataError"],
      ["truncated DER", () => crypto.certStorage.importCert("raw", der.subarray(0, der.length - 10)), "DataError"],
      ["trailing bytes", () => crypto.certStorage.importCert("raw", Buffer.concat([der, Buffer.from([0])])), "DataError"],
      ["empty", () => crypto.certStorage.importCert("raw", new Uint8Array(0)), "DataError"],
      ["PEM of a key", () => crypto.certStorage.importCert("pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "DataError"],
      ["PEM with broken base64", () => crypto.certStorage.importCert("pem", "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n"), "DataError"],
      ["no PEM at all", () => crypto.certStorage.importCert("pem", "hello"), "DataError"],
      ["request as certificate PEM", () => crypto.certStorage.importCert("pem", openssl.request("/CN=x").replace(/CERTIFICATE REQUEST/g, "CERTIFICATE")), "DataError"],
      ["RSA algorithm for an EC key", () => crypto.certStorage.importCert("pem", root.certificate, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm, ["verify"]), "DataError"],
      ["wrong curve", () => crypto.certStorage.importCert("pem", root.certificate, { name: "ECDSA", namedCurve: "P-384" } as Algorithm, ["verify"]), "DataError"],
      ["format der", () => crypto.certStorage.importCert("der" as "raw", der), "TypeError"],
      ["raw given a string", () => crypto.certStorage.importCert("raw", "abc"), "TypeError"],
      ["setItem of something else", () => crypto.certStorage.setItem({} as CryptoX509Certificate), "TypeError"],
      ["a key id", () => crypto.certStorage.getItem("private-00"), "TypeError"],
      ["a malformed id", () => crypto.certStorage.removeItem("x509-zz"), "TypeError"],
    ];
    for (const [what, call, name] of bad) {
      await assert.rejects(call(), (error: Error) => {
        assert.equal(error.name, name, `${what}: ${error.name} ${error.message}`);
        return true;
      });
    }
    assert.equal(await crypto.certStorage.getItem("x509-00000000000000000000000000000000"), null);
    const item = await crypto.certStorage.importCert("pem", openssl.issue("/CN=Removed Twice", root).certificate);
    assert.equal(await certificateObjects(), before);
    const id = await crypto.certStorage.setItem(item);
    assert.equal(await crypto.certStorage.removeItem(id), true);
    assert.equal(await crypto.certStorage.removeItem(id), false);
    assert.equal(await crypto.certStorage.indexOf(item), null);
    assert.equal(await certificateObjects(), before);
  });
});
