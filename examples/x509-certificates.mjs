// @peculiar/x509 on a token: a self-signed certificate and a PKCS#10 certificate request for
// token keys (ECDSA, RSASSA-PKCS1-v1_5, RSA-PSS), signed on the token and checked by OpenSSL.
// Run: node examples/x509-certificates.mjs
import "reflect-metadata"; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from "@peculiar/x509";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runAsScript } from "./lib/script.mjs";
import { lastLine, run, slug } from "./lib/tools.mjs";

const rsa = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

/** Key algorithm for generateKey, and the signature algorithm @peculiar/x509 signs with. */
export const x509Profiles = [
  { name: "ECDSA P-256", algorithm: { name: "ECDSA", namedCurve: "P-256" }, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } },
  { name: "RSASSA-PKCS1-v1_5 2048", algorithm: { name: "RSASSA-PKCS1-v1_5", ...rsa }, signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } },
  { name: "RSA-PSS 2048", algorithm: { name: "RSA-PSS", ...rsa }, signingAlgorithm: { name: "RSA-PSS", hash: "SHA-256", saltLength: 32 } },
];

/**
 * For each profile: a key pair on the token (private key non-extractable), a self-signed
 * certificate and a certificate request signed with it; OpenSSL verifies both. Returns what it
 * made, with the files' paths and OpenSSL's answers.
 */
export async function x509Certificates({ crypto, workDirectory, log, profiles = x509Profiles }) {
  // Every @peculiar/x509 call without an explicit crypto argument now uses the token.
  x509.cryptoProvider.set(crypto);
  log("Set our Crypto as @peculiar/x509's crypto provider (x509.cryptoProvider.set)");
  const results = [];
  for (const profile of profiles) {
    const keys = await crypto.subtle.generateKey(profile.algorithm, false, ["sign", "verify"]);
    log(`${profile.name}: generated a key pair on the token (private key extractable: ${keys.privateKey.extractable})`);
    const name = `CN=x509 example (${profile.name}), O=pkcs11-webcrypto examples`;
    const serialNumber = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");

    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber,
      name,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      signingAlgorithm: profile.signingAlgorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const certificatePath = join(workDirectory, `x509-${slug(profile.name)}.crt.pem`);
    writeFileSync(certificatePath, certificate.toString("pem"));
    log(`${profile.name}: @peculiar/x509 built a self-signed certificate and the token signed it: ${certificatePath}`);
    // @peculiar/x509 checks it too, through our Crypto (the public key is imported on the token).
    const selfCheck = await certificate.verify({ signatureOnly: true });
    log(`${profile.name}: @peculiar/x509's own verify() on our Crypto: ${selfCheck ? "valid" : "INVALID"}`);

    const request = await x509.Pkcs10CertificateRequestGenerator.create({
      name,
      keys,
      signingAlgorithm: profile.signingAlgorithm,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    const requestPath = join(workDirectory, `x509-${slug(profile.name)}.csr.pem`);
    writeFileSync(requestPath, request.toString("pem"));
    log(`${profile.name}: @peculiar/x509 built a PKCS#10 request and the token signed it: ${requestPath}`);

    // Keep them on the token: the key pair as persistent objects, the certificate beside them with
    // the same CKA_ID (how pkcs11-tool, Firefox and Java find a certificate's key), the request as
    // a data object (a token that stores no data objects, such as NSS's, says NotSupportedError).
    const stored = await storeOnToken(crypto, { keys, certificate, request, label: `x509 example ${profile.name}`, algorithm: profile.algorithm });
    log(`${profile.name}: stored the key pair and the certificate on the token (certificate id ${stored.certificateId}); the request: ${stored.requestId ? `stored (id ${stored.requestId})` : stored.requestRefusal}`);

    const certificateCheck = verifyCertificate(certificatePath);
    log(`${profile.name}: openssl verify -check_ss_sig -CAfile cert.pem cert.pem -> ${lastLine(certificateCheck)}`);
    const requestCheck = verifyRequest(requestPath);
    log(`${profile.name}: openssl req -verify -in request.pem -> ${lastLine(requestCheck)}`);
    results.push({ profile, keys, certificate, request, certificatePath, requestPath, selfCheck, certificateCheck, requestCheck, stored });
  }
  return results;
}

/**
 * Stores the key pair (keyStorage.setItem makes persistent copies of the session keys) and then
 * the certificate and the request (certStorage.importCert + setItem). Returns their ids; a request
 * the token cannot store leaves `requestRefusal` with the NotSupportedError's message.
 */
export async function storeOnToken(crypto, { keys, certificate, request, label, algorithm }) {
  const privateKeyId = await crypto.keyStorage.setItem(keys.privateKey, { label });
  const publicKeyId = await crypto.keyStorage.setItem(keys.publicKey, { label });
  const certificateItem = await crypto.certStorage.importCert("pem", certificate.toString("pem"), algorithm, ["verify"]);
  const certificateId = await crypto.certStorage.setItem(certificateItem, { label });
  let requestId = null;
  let requestRefusal = null;
  try {
    const requestItem = await crypto.certStorage.importCert("pem", request.toString("pem"), algorithm, ["verify"]);
    requestId = await crypto.certStorage.setItem(requestItem, { label });
  } catch (error) {
    if (error?.name !== "NotSupportedError") throw error;
    requestRefusal = `${error.name}: ${error.message}`;
  }
  return { privateKeyId, publicKeyId, certificateId, requestId, requestRefusal };
}

/**
 * `openssl verify` of a self-signed certificate, trusting only itself. -check_ss_sig: OpenSSL does
 * not otherwise check the signature of a trust anchor, and would accept a spoiled one.
 */
export function verifyCertificate(certificatePath) {
  return run("openssl", ["verify", "-check_ss_sig", "-CAfile", certificatePath, certificatePath]);
}

/**
 * `openssl req -verify`: checks a request's signature with the public key inside it. OpenSSL 3.0
 * exits 0 even when the signature is wrong ("self-signature verify failure"), so `verified` reads
 * its words, not its exit status.
 */
export function verifyRequest(requestPath) {
  const result = run("openssl", ["req", "-verify", "-noout", "-in", requestPath]);
  return { ...result, verified: result.status === 0 && /self-signature verify OK/.test(result.output) };
}


void runAsScript(import.meta.url, async (context) => {
  const results = await x509Certificates(context);
  return results.every((result) => result.selfCheck && result.certificateCheck.status === 0 && result.requestCheck.verified);
});
