// People move here from node-webcrypto-p11 with tokens full of what it stored. On one throwaway
// SoftHSM token: keys, a certificate and a certificate request that node-webcrypto-p11 stored (in
// a process of its own, as another application would) are listed and used by our storage; and
// what we store, node-webcrypto-p11 lists and signs with. SoftHSM only (the SoftHSM run).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, webcrypto } from "node:crypto";
import { Crypto, type CryptoX509Certificate } from "../../src/index.js";
import { OpenSslWorkspace } from "../support/openssl-certificates.js";
import { SO_PIN, SOFTHSM_LIBRARY, USER_PIN } from "../support/softhsm.js";
import { throwawayToken } from "../support/throwaway-token.js";
import { tokenKind } from "../support/tokens.js";

const P256 = { name: "ECDSA", namedCurve: "P-256" };
const data = Buffer.from("moved from node-webcrypto-p11");

/**
 * Runs `body` (the text of an async function taking node-webcrypto-p11's Crypto and `input`) in a
 * new Node process connected to the token, and returns what it returns, through JSON.
 */
function withNodeWebcryptoP11(label: string, body: string, input: unknown): any {
  const script = `
    const { Crypto } = require("node-webcrypto-p11");
    const input = JSON.parse(process.env.MIGRATION_INPUT);
    (async () => {
      let crypto;
      // node-webcrypto-p11 selects a slot by its index among slots with a token.
      for (let slot = 0; slot < 64 && !crypto; slot++) {
        const candidate = new Crypto({ library: ${JSON.stringify(SOFTHSM_LIBRARY)}, slot, readWrite: true, pin: ${JSON.stringify(USER_PIN)} });
        if (candidate.token.label.trim() === ${JSON.stringify(label)}) crypto = candidate;
      }
      const result = await (${body})(crypto, input);
      process.stdout.write(JSON.stringify(result));
      process.exit(0);
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const output = execFileSync(process.execPath, ["-e", script], {
    encoding: "utf8",
    env: { ...process.env, MIGRATION_INPUT: JSON.stringify(input) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(output);
}

const fingerprint = (der: Buffer) => createHash("sha256").update(der).digest().subarray(0, 16).toString("hex");

if (tokenKind() === "softhsm") describe("moving from node-webcrypto-p11 (SoftHSM)", () => {
  let crypto: Crypto;
  let label: string;
  let openssl: OpenSslWorkspace;

  before(function () {
    this.timeout(60_000);
    label = throwawayToken("nwp11").label;
    crypto = new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: label });
    crypto.initPin(SO_PIN, USER_PIN);
    crypto.login(USER_PIN);
    openssl = new OpenSslWorkspace();
  });
  after(async () => {
    await crypto?.close();
    openssl?.remove();
  });

  it("keys, a certificate and a request node-webcrypto-p11 stored are listed and used by our storage", async function () {
    this.timeout(60_000);
    const root = openssl.rootAuthority("/CN=Migration Root");
    const requestPem = openssl.request("/CN=Migration Request");
    const stored = withNodeWebcryptoP11(label, `async (crypto, input) => {
      const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      await crypto.keyStorage.setItem(keys.privateKey);
      await crypto.keyStorage.setItem(keys.publicKey);
      const spki = Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey)).toString("base64");
      const algorithm = { name: "ECDSA", namedCurve: "P-256" };
      const request = await crypto.certStorage.importCert("pem", input.requestPem, algorithm, ["verify"]);
      await crypto.certStorage.setItem(request);
      const certificate = await crypto.certStorage.importCert("pem", input.certificatePem, algorithm, ["verify"]);
      await crypto.certStorage.setItem(certificate);
      return { spki, certificateIds: await crypto.certStorage.keys() };
    }`, { requestPem, certificatePem: root.certificate });
    assert.equal(stored.certificateIds.length, 2, "node-webcrypto-p11 stored a certificate and a request");

    // Its key pair: found by type, the public half matching what it exported, the private half signing.
    const keys = await crypto.keyStorage.find();
    const privateKeys = keys.filter((entry) => entry.type === "private");
    assert.equal(privateKeys.length, 1);
    assert.deepEqual(privateKeys[0].algorithm, P256);
    const publicEntry = keys.find((entry) => entry.type === "public" && entry.keyId === privateKeys[0].keyId);
    assert.ok(publicEntry, "the public key shares the private key's CKA_ID");
    const publicKey = (await crypto.keyStorage.getItem(publicEntry.id))!;
    assert.equal(Buffer.from(await crypto.subtle.exportKey("spki", publicKey)).toString("base64"), stored.spki);
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, (await crypto.keyStorage.getItem(privateKeys[0].id))!, data);
    const nodeKey = await webcrypto.subtle.importKey("spki", Buffer.from(stored.spki, "base64"), P256, false, ["verify"]);
    assert.equal(await webcrypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, nodeKey, signature, data), true);

    // Its certificate and its request (a data object labelled "X509 Request").
    const ids = await crypto.certStorage.keys();
    const requestId = `request-${fingerprint(openssl.der(requestPem))}`;
    const certificateId = `x509-${fingerprint(openssl.der(root.certificate))}`;
    assert.deepEqual([...ids].sort(), [certificateId, requestId].sort());
    const request = (await crypto.certStorage.getItem(requestId))!;
    assert.equal(request.type, "request");
    assert.equal(request.subjectName, "CN=Migration Request");
    const certificate = (await crypto.certStorage.getItem(certificateId)) as CryptoX509Certificate;
    assert.equal(certificate.subjectName, "CN=Migration Root");
  });

  it("what we store, node-webcrypto-p11 lists, reads and signs with", async function () {
    this.timeout(60_000);
    const pair = (await crypto.subtle.generateKey(P256, false, ["sign", "verify"])) as CryptoKeyPair;
    const privateId = await crypto.keyStorage.setItem(pair.privateKey, { label: "ours" });
    await crypto.keyStorage.setItem(pair.publicKey, { label: "ours" });
    const root = openssl.rootAuthority("/CN=Ours For Them");
    await crypto.certStorage.setItem(await crypto.certStorage.importCert("pem", root.certificate));

    const seen = withNodeWebcryptoP11(label, `async (crypto, input) => {
      const signatures = [];
      for (const index of await crypto.keyStorage.keys()) {
        const key = await crypto.keyStorage.getItem(index);
        // node-webcrypto-p11 shows CKA_LABEL as key.algorithm.label.
        if (key && key.type === "private" && key.algorithm.label === "ours") {
          signatures.push(Buffer.from(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(input.data))).toString("base64"));
        }
      }
      const certificates = [];
      for (const index of await crypto.certStorage.keys()) {
        const item = await crypto.certStorage.getItem(index);
        // (node-webcrypto-p11 exports only "raw".)
        if (item.type === "x509") certificates.push(Buffer.from(await crypto.certStorage.exportCert("raw", item)).toString("base64"));
      }
      return { signatures, certificates };
    }`, { data: data.toString() });

    assert.equal(seen.signatures.length, 1, `node-webcrypto-p11 found our private key ${privateId}`);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, Buffer.from(seen.signatures[0], "base64"), data), true);
    const ours = openssl.der(root.certificate);
    assert.ok(seen.certificates.some((der: string) => Buffer.from(der, "base64").equals(ours)), "node-webcrypto-p11 exported our certificate byte for byte");
  });
});
