// A detached CMS SignedData (PKCS#7, the .p7s of S/MIME and code signing) over a file, built by
// pkijs and signed by a key that never leaves the token; `openssl cms -verify` checks it against
// the CA certificate.
// Run: node examples/pkijs-cms.mjs
import * as asn1js from "asn1js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pkijs from "pkijs";
import { certificateDer, generateTokenKeyPair, issueCaCertificate, issueSigningCertificate, keyProfiles } from "./pkijs-certificates.mjs";
import { usePkijsEngine } from "./lib/pkijs-engine.mjs";
import { runAsScript } from "./lib/script.mjs";
import { lastLine, run, slug, toPem } from "./lib/tools.mjs";

const OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
};

/**
 * A detached CMS SignedData (DER) over `data`: the content is not inside, only its SHA-256 digest,
 * in the signed attributes that the token signs. `certificates` go into the SignedData so a
 * verifier can find the signer's certificate (the signer's first). `cades` makes it a CAdES
 * baseline signature as PAdES (ETSI.CAdES.detached) wants: the signer's certificate bound by its
 * hash (signing-certificate-v2), and no signing-time attribute (the PDF's /M says when).
 */
export async function signDetached(engine, { data, signer, privateKey, certificates = [signer], signingTime = new Date(), cades = false }) {
  const digest = await engine.digest("SHA-256", data);
  const attributes = [
    new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
    new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: digest })] }),
  ];
  if (cades) {
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }, and
    // ESSCertIDv2 ::= SEQUENCE { certHash OCTET STRING } when the hash is SHA-256 (the default).
    const certificateHash = await engine.digest("SHA-256", signer.toSchema(true).toBER(false));
    const essCertId = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: certificateHash })] });
    attributes.push(new pkijs.Attribute({ type: OID.signingCertificateV2, values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertId] })] })] }));
  } else {
    attributes.push(new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: signingTime })] }));
  }
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }), // no eContent: detached
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
      }),
    ],
    certificates,
  });
  // With signed attributes present, pkijs signs their DER encoding; `data` is not needed here.
  await signedData.sign(privateKey, 0, "SHA-256", undefined, engine);
  const contentInfo = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
  return new Uint8Array(contentInfo.toSchema().toBER(false));
}

/**
 * For each key profile: a CA and a signing key on the token, the signing certificate, and a
 * detached CMS signature over a document; `openssl cms -verify` checks the signature with the
 * document and the CA certificate. Returns the files and OpenSSL's answers.
 */
export async function pkijsCms({ crypto, workDirectory, log, profiles = keyProfiles }) {
  const engine = usePkijsEngine(crypto);
  const documentPath = join(workDirectory, "contract.txt");
  const document = new TextEncoder().encode(`A contract, signed on a PKCS#11 token on ${new Date().toISOString()}.\n`);
  writeFileSync(documentPath, document);
  log(`Wrote the document to sign: ${documentPath} (${document.length} bytes)`);
  const results = [];
  for (const profile of profiles) {
    const caKeys = await generateTokenKeyPair(crypto, profile.algorithm);
    const signerKeys = await generateTokenKeyPair(crypto, profile.algorithm);
    const caCertificate = await issueCaCertificate(engine, caKeys, `Example CA (${profile.name})`);
    const signerCertificate = await issueSigningCertificate(engine, { certificate: caCertificate, privateKey: caKeys.privateKey }, signerKeys.publicKey, `Example signer (${profile.name})`);
    const caPath = join(workDirectory, `cms-ca-${slug(profile.name)}.pem`);
    writeFileSync(caPath, toPem(certificateDer(caCertificate), "CERTIFICATE"));
    log(`${profile.name}: a CA key and a signing key on the token (non-extractable); the CA issued the signing certificate`);

    const signature = await signDetached(engine, { data: document, signer: signerCertificate, privateKey: signerKeys.privateKey });
    const signaturePath = join(workDirectory, `contract-${slug(profile.name)}.p7s`);
    writeFileSync(signaturePath, signature);
    log(`${profile.name}: pkijs built a detached CMS SignedData and the token signed it: ${signaturePath} (${signature.length} bytes)`);

    const check = verifyCms({ signaturePath, documentPath, caPath });
    log(`${profile.name}: openssl cms -verify -binary -inform DER -content contract.txt -CAfile ca.pem -> ${lastLine(check)}`);
    results.push({ profile, document, documentPath, signature, signaturePath, caPath, signerCertificate, check });
  }
  return results;
}

/** `openssl cms -verify` of a detached DER signature over `documentPath`, trusting only `caPath`. */
export function verifyCms({ signaturePath, documentPath, caPath }) {
  return run("openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", signaturePath, "-content", documentPath, "-CAfile", caPath, "-out", "/dev/null"]);
}

void runAsScript(import.meta.url, async (context) => {
  const results = await pkijsCms(context);
  return results.every(({ check }) => check.status === 0);
});
