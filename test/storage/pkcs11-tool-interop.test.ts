// Interop with OpenSC's pkcs11-tool (and GnuTLS's p11tool, for URIs) on one throwaway SoftHSM
// token: what pkcs11-tool makes we list and use; what we store pkcs11-tool lists as it lists its
// own objects, and signs with. SoftHSM
// only (defined in the SoftHSM run, not repeated on the other token kinds): pkcs11-tool reaches
// the token through the same module and SOFTHSM2_CONF as this process.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createPublicKey, webcrypto } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Crypto, type CryptoX509Certificate } from "../../src/index.js";
import { SO_PIN, SOFTHSM_LIBRARY, USER_PIN } from "../support/softhsm.js";
import { throwawayToken } from "../support/throwaway-token.js";
import { OpenSslWorkspace, type Authority } from "../support/openssl-certificates.js";
import { tokenKind } from "../support/tokens.js";

let LABEL = "";
const data = Buffer.from("signed by one tool, verified by another");

function pkcs11Tool(...args: string[]): string {
  return execFileSync("pkcs11-tool", ["--module", SOFTHSM_LIBRARY, "--token-label", LABEL, "--login", "--pin", USER_PIN, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
}

/** pkcs11-tool --list-objects, one entry per object: its heading line and its "name: value" lines. */
function listObjects(): { heading: string; fields: Record<string, string> }[] {
  const blocks = pkcs11Tool("--list-objects").split(/\n(?=\S)/).filter((block) => /Object;/.test(block));
  return blocks.map((block) => {
    const [heading, ...lines] = block.split("\n");
    const fields: Record<string, string> = {};
    for (const line of lines) {
      const match = /^\s+([^:]+):\s*(.*)$/.exec(line);
      if (match) fields[match[1].trim()] = match[2].trim();
    }
    return { heading: heading.trim(), fields };
  });
}

const spkiPem = async (crypto: Crypto, key: CryptoKey) =>
  createPublicKey({ key: Buffer.from(await crypto.subtle.exportKey("spki", key)), format: "der", type: "spki" }).export({ type: "spki", format: "pem" }) as string;

if (tokenKind() === "softhsm") describe("pkcs11-tool interop (SoftHSM)", () => {
  let crypto: Crypto;
  let openssl: OpenSslWorkspace;
  let root: Authority;

  before(function () {
    this.timeout(60_000);
    // Made with C_InitToken in SoftHSM's free slot: a loaded SoftHSM does not see tokens that
    // softhsm2-util makes, and earlier test files have loaded it.
    LABEL = throwawayToken("interop").label;
    crypto = new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: LABEL });
    crypto.initPin(SO_PIN, USER_PIN);
    crypto.login(USER_PIN);
    openssl = new OpenSslWorkspace();
    root = openssl.rootAuthority("/CN=Interop Root");
  });
  after(async () => {
    await crypto?.close();
    openssl?.remove();
  });

  it("an EC key pair and certificate pkcs11-tool wrote are listed, linked and usable", async function () {
    this.timeout(60_000);
    pkcs11Tool("--keypairgen", "--key-type", "EC:prime256v1", "--id", "0a01", "--label", "tool-ec", "--usage-sign");
    const ids = await crypto.keyStorage.keys();
    assert.ok(ids.includes("private-0a01") && ids.includes("public-0a01"), ids.join(" "));
    const privateKey = (await crypto.keyStorage.getItem("private-0a01"))!;
    const publicKey = (await crypto.keyStorage.getItem("public-0a01"))!;
    assert.deepEqual([privateKey.algorithm, privateKey.usages], [{ name: "ECDSA", namedCurve: "P-256" }, ["sign"]]);
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data);
    const nodePublic = await webcrypto.subtle.importKey("spki", await crypto.subtle.exportKey("spki", publicKey), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    assert.equal(await webcrypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data), true);
    assert.deepEqual((await crypto.keyStorage.find({ label: "tool-ec" })).map((entry) => entry.id).sort(), ["private-0a01", "public-0a01"]);

    const issued = openssl.issue("/CN=Tool Key Holder", root, { publicKeyPem: await spkiPem(crypto, publicKey) });
    const certificatePath = openssl.path("tool.der");
    writeFileSync(certificatePath, openssl.der(issued.certificate));
    pkcs11Tool("--write-object", certificatePath, "--type", "cert", "--id", "0a01", "--label", "tool-cert");
    const certificateIds = await crypto.certStorage.keys();
    assert.equal(certificateIds.length, 1);
    const certificate = (await crypto.certStorage.getItem(certificateIds[0])) as CryptoX509Certificate;
    assert.equal(certificate.subjectName, "CN=Tool Key Holder");
    assert.equal(certificate.label, "tool-cert");
    const signer = (await crypto.certStorage.getPrivateKey(certificate))!;
    assert.equal(await crypto.keyStorage.indexOf(signer), "private-0a01");
  });

  it("an RSA key pkcs11-tool made signs RSA-PSS when the caller names the algorithm", async function () {
    this.timeout(60_000);
    pkcs11Tool("--keypairgen", "--key-type", "RSA:2048", "--id", "0a02", "--label", "tool-rsa", "--usage-sign");
    const algorithm = { name: "RSA-PSS", hash: "SHA-256" };
    const privateKey = (await crypto.keyStorage.getItem("private-0a02", algorithm))!;
    assert.equal((privateKey.algorithm as RsaHashedKeyAlgorithm).modulusLength, 2048);
    const signature = await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, privateKey, data);
    const publicKey = (await crypto.keyStorage.getItem("public-0a02", algorithm))!;
    const nodePublic = await webcrypto.subtle.importKey("spki", await crypto.subtle.exportKey("spki", publicKey), algorithm, false, ["verify"]);
    assert.equal(await webcrypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, nodePublic, signature, data), true);
  });

  it("what we store, pkcs11-tool lists (class, label, id, key type, certificate beside its key) and signs with", async function () {
    this.timeout(60_000);
    const ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const ecId = await crypto.keyStorage.setItem(ec.privateKey, { label: "ours-ec" });
    await crypto.keyStorage.setItem(ec.publicKey, { label: "ours-ec" });
    const hex = ecId.slice("private-".length);
    const issued = openssl.issue("/CN=Our Key Holder", root, { publicKeyPem: await spkiPem(crypto, ec.publicKey) });
    await crypto.certStorage.setItem(await crypto.certStorage.importCert("pem", issued.certificate), { label: "ours-cert" });
    const rsa = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams,
      false,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const rsaId = await crypto.keyStorage.setItem(rsa.privateKey, { label: "ours-rsa" });

    const objects = listObjects();
    const withId = objects.filter((object) => object.fields.ID === hex);
    assert.deepEqual(withId.map((object) => object.heading.replace(/\s+EC_POINT.*$/, "")).sort(), [
      "Certificate Object; type = X.509 cert", "Private Key Object; EC", "Public Key Object; EC",
    ]);
    assert.equal(withId.find((object) => object.heading.startsWith("Private"))!.fields.label, "ours-ec");
    assert.match(withId.find((object) => object.heading.startsWith("Private"))!.fields.Access, /never extractable/);
    assert.equal(withId.find((object) => object.heading.startsWith("Certificate"))!.fields.label, "ours-cert");
    assert.match(withId.find((object) => object.heading.startsWith("Certificate"))!.fields.subject, /CN=Our Key Holder/);
    const rsaObject = objects.find((object) => object.fields.ID === rsaId.slice("private-".length))!;
    assert.match(rsaObject.heading, /^Private Key Object; RSA/);
    assert.equal(rsaObject.fields.label, "ours-rsa");

    // pkcs11-tool reads back the certificate we wrote, byte for byte.
    const readBack = openssl.path("read-back.der");
    pkcs11Tool("--read-object", "--type", "cert", "--id", hex, "--output-file", readBack);
    assert.deepEqual(readFileSync(readBack), openssl.der(issued.certificate));

    // pkcs11-tool signs with our stored keys; our API verifies. CKM_ECDSA signs a digest, raw r||s.
    const digestPath = openssl.path("digest.bin");
    const dataPath = openssl.path("data.bin");
    const signaturePath = openssl.path("signature.bin");
    writeFileSync(digestPath, createHash("sha256").update(data).digest());
    writeFileSync(dataPath, data);
    pkcs11Tool("--sign", "--mechanism", "ECDSA", "--id", hex, "--input-file", digestPath, "--output-file", signaturePath);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ec.publicKey, readFileSync(signaturePath), data), true);
    pkcs11Tool("--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", rsaId.slice("private-".length), "--input-file", dataPath, "--output-file", signaturePath);
    assert.equal(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", rsa.publicKey, readFileSync(signaturePath), data), true);
  });

  it("URIs agree with GnuTLS's p11tool: we open the URL it prints, it exports the key our URI names", async function () {
    this.timeout(60_000);
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const privateId = await crypto.keyStorage.setItem(pair.privateKey, { label: "uri key" });
    await crypto.keyStorage.setItem(pair.publicKey, { label: "uri key" });
    const p11tool = (...args: string[]) =>
      execFileSync("p11tool", ["--provider", SOFTHSM_LIBRARY, ...args], { encoding: "utf8", env: { ...process.env, GNUTLS_PIN: USER_PIN } });
    // Its URL (model, manufacturer, serial, token, id with upper-case escapes, object, type) opens our key.
    const url = p11tool("--list-privkeys", "--login", `pkcs11:token=${encodeURIComponent(LABEL)}`).split("\n").map((line) => line.trim().replace(/^URL: /, "")).find((line) => line.startsWith("pkcs11:") && line.includes("object=uri%20key"));
    assert.ok(url, "p11tool lists the private key we stored");
    assert.equal(await crypto.keyStorage.indexOf((await crypto.keyStorage.getItem(url))!), privateId);
    // Our URI names the public key for it.
    const [publicEntry] = await crypto.keyStorage.find({ label: "uri key", type: "public" });
    const exported = p11tool("--export-pubkey", publicEntry.uri);
    const ours = Buffer.from(await crypto.subtle.exportKey("spki", pair.publicKey));
    assert.deepEqual(createPublicKey(exported).export({ type: "spki", format: "der" }), ours);
  });

  it("clear() empties both storages; pkcs11-tool then lists no objects", async () => {
    await crypto.keyStorage.clear();
    await crypto.certStorage.clear();
    assert.deepEqual(await crypto.keyStorage.keys(), []);
    assert.deepEqual(await crypto.certStorage.keys(), []);
    assert.deepEqual(listObjects(), []);
  });
});
