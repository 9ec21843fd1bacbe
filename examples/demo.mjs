// The main job, end to end, on a SoftHSM token made for the occasion: a CA key and certificate, a
// signing key and the certificate the CA issues for it, all stored on the token; then, in a new
// connection as a later process would, the signing key found from its certificate, a document
// signed as CMS and as PDF, and both signatures checked by OpenSSL and poppler's pdfsig.
// Run with `npm run demo` (after `bash scripts/setup.sh`). KEEP_DEMO_FILES=1 keeps the files.
import { plainAddPlaceholder } from "@signpdf/placeholder-plain";
import { SignPdf } from "@signpdf/signpdf";
import { SUBFILTER_ETSI_CADES_DETACHED } from "@signpdf/utils";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pkijs from "pkijs";
import { Crypto } from "pkcs11-webcrypto";
import { createThrowawayToken } from "../scripts/throwaway-token.mjs";
import { checkPdf, makePdf, nssTrustStore, TokenCmsSigner } from "./pdf-sign.mjs";
import { certificateDer, issueCaCertificate, issueSigningCertificate } from "./pkijs-certificates.mjs";
import { signDetached, verifyCms } from "./pkijs-cms.mjs";
import { usePkijsEngine } from "./lib/pkijs-engine.mjs";
import { lastLine, toPem } from "./lib/tools.mjs";

const step = (text) => console.log(`- ${text}`);
const P256 = { name: "ECDSA", namedCurve: "P-256" };

/** A key pair made on the token and stored there under `label`; the private key never leaves it. */
async function storedKeyPair(crypto, label) {
  const keys = await crypto.subtle.generateKey(P256, false, ["sign", "verify"]);
  const privateId = await crypto.keyStorage.setItem(keys.privateKey, { label });
  await crypto.keyStorage.setItem(keys.publicKey, { label });
  return { keys, privateId };
}

/** Stores a pkijs certificate on the token (linked to its key pair by CKA_ID) and returns its id. */
async function storeCertificate(crypto, certificate, label) {
  const item = await crypto.certStorage.importCert("raw", certificateDer(certificate));
  return crypto.certStorage.setItem(item, { label });
}

/** Part one: the PKI, made once. Returns the stored ids and the CA's PEM, for the verifiers. */
async function setUpPki(crypto, workDirectory) {
  const engine = usePkijsEngine(crypto);
  const ca = await storedKeyPair(crypto, "Demo CA");
  step(`Generated the CA's ECDSA P-256 key pair on the token and stored it (${ca.privateId}); extractable: ${ca.keys.privateKey.extractable}`);
  try {
    await crypto.subtle.exportKey("pkcs8", ca.keys.privateKey);
  } catch (error) {
    step(`Asked the token for the CA's private key anyway: refused (${error.name})`);
  }
  const caCertificate = await issueCaCertificate(engine, ca.keys, "Demo CA");
  const caId = await storeCertificate(crypto, caCertificate, "Demo CA");
  const caPem = toPem(certificateDer(caCertificate), "CERTIFICATE");
  const caPath = join(workDirectory, "ca.pem");
  writeFileSync(caPath, caPem);
  step(`pkijs built the CA's self-signed certificate, the token signed it; stored as ${caId}, written to ${caPath}`);

  const signer = await storedKeyPair(crypto, "Demo signer");
  const signerCertificate = await issueSigningCertificate(engine, { certificate: caCertificate, privateKey: ca.keys.privateKey }, signer.keys.publicKey, "Demo signer");
  const signerId = await storeCertificate(crypto, signerCertificate, "Demo signer");
  step(`Generated the signer's key pair on the token; the CA key issued its certificate; both stored (${signer.privateId}, ${signerId})`);

  for (const entry of await crypto.keyStorage.find()) step(`  on the token: ${entry.type} key "${entry.label}" ${entry.algorithm?.name} ${entry.algorithm?.namedCurve ?? ""} id ${entry.id}`);
  for (const id of await crypto.certStorage.keys()) {
    const certificate = await crypto.certStorage.getItem(id);
    step(`  on the token: certificate "${certificate.label}": ${certificate.subjectName}, issued by ${certificate.issuerName}, until ${certificate.notAfter.toISOString().slice(0, 10)}`);
  }
  return { signerId, caPem, caPath };
}

/** Part two, as a later process would: find the signer on the token and sign a document two ways. */
async function signDocument(crypto, { signerId, caPem, caPath }, workDirectory) {
  const engine = usePkijsEngine(crypto);
  const certificate = await crypto.certStorage.getItem(signerId);
  const chain = await crypto.certStorage.getChain(certificate);
  step(`Found the signer's certificate ${signerId} and its chain on the token: ${chain.map((item) => item.subjectName).join(" <- ")}`);
  const privateKey = await crypto.certStorage.getPrivateKey(certificate);
  step(`Found the certificate's private key by its CKA_ID: ${await crypto.keyStorage.indexOf(privateKey)} (${privateKey.algorithm.name}, extractable: ${privateKey.extractable})`);
  const pkijsChain = chain.map((item) => pkijs.Certificate.fromBER(item.value));

  const document = Buffer.from("Agreement: the parties agree that the key which signed this never left its token.\n");
  const documentPath = join(workDirectory, "agreement.txt");
  writeFileSync(documentPath, document);
  const cms = await signDetached(engine, { data: document, signer: pkijsChain[0], privateKey, certificates: pkijsChain });
  const signaturePath = join(workDirectory, "agreement.txt.p7s");
  writeFileSync(signaturePath, cms);
  step(`Signed ${documentPath} on the token as a detached CMS (PKCS#7): ${signaturePath}`);
  const cmsCheck = verifyCms({ signaturePath, documentPath, caPath });
  step(`openssl cms -verify (trusting only the demo CA): ${lastLine(cmsCheck)}`);
  const tamperedPath = join(workDirectory, "agreement-changed.txt");
  writeFileSync(tamperedPath, Buffer.from(document.toString().replace("agree", "disagree")));
  const tamperedCheck = verifyCms({ signaturePath, documentPath: tamperedPath, caPath });
  step(`The same signature over a changed document: ${tamperedCheck.status === 0 ? "ACCEPTED (wrong!)" : "rejected, as it must be"}`);

  const pdf = plainAddPlaceholder({
    pdfBuffer: await makePdf("Agreement, signed with a key that never left its token."),
    reason: "Agreed",
    contactInfo: "signer@example.com",
    name: "Demo signer",
    location: "SoftHSM",
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
  });
  const signer = new TokenCmsSigner({ engine, privateKey, certificate: pkijsChain[0], chain: pkijsChain.slice(1), subFilter: SUBFILTER_ETSI_CADES_DETACHED });
  const pdfPath = join(workDirectory, "agreement.pdf");
  writeFileSync(pdfPath, await new SignPdf().sign(pdf, signer));
  step(`Signed a PDF (PAdES, ETSI.CAdES.detached) on the token: ${pdfPath}`);
  const pdfCheck = checkPdf(pdfPath, nssTrustStore(join(workDirectory, "nss"), caPem));
  step(`pdfsig (trusting only the demo CA): ${pdfCheck.signatureValidation ?? "no signature found"} ${pdfCheck.certificateValidation ?? ""}`);

  return cmsCheck.status === 0 && tamperedCheck.status !== 0 && pdfCheck.signatureValidation === "Signature is Valid." &&
    pdfCheck.certificateValidation === "Certificate is Trusted.";
}

const token = createThrowawayToken({ label: "demo", prefix: "pkcs11-webcrypto-demo-" });
const workDirectory = join(token.directory, "files");
mkdirSync(workDirectory);
step(`Created a SoftHSM token "demo" in ${token.directory} (the machine's own tokens are not touched)`);
let ok = false;
try {
  const setup = new Crypto(token.config);
  step(`Connected to token "${setup.tokenLabel}" (serial ${setup.tokenSerial}) and logged in`);
  let pki;
  try {
    pki = await setUpPki(setup, workDirectory);
  } finally {
    await setup.close();
  }
  step("Closed the connection: the stored keys and certificates stay on the token");

  const later = new Crypto(token.config);
  step("Opened a new connection, as a later process would");
  try {
    ok = await signDocument(later, pki, workDirectory);
  } finally {
    await later.close();
  }
} catch (error) {
  console.error(error);
} finally {
  if (process.env.KEEP_DEMO_FILES) step(`Kept the token and files in ${token.directory}`);
  else token.remove();
}
step(ok ? "Done: every check passed" : "FAILED: a check did not pass");
process.exitCode = ok ? 0 : 1;
