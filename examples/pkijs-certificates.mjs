// pkijs on a token: a CA whose private key never leaves the token issues itself a certificate,
// then issues a certificate for a second token key. Both are checked by `openssl verify`.
// Run: node examples/pkijs-certificates.mjs
import * as asn1js from "asn1js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pkijs from "pkijs";
import { usePkijsEngine } from "./lib/pkijs-engine.mjs";
import { runAsScript } from "./lib/script.mjs";
import { lastLine, run, slug, toPem } from "./lib/tools.mjs";

/** The two key kinds the example issues with; `algorithm` is generateKey's. */
export const keyProfiles = [
  { name: "ECDSA P-256", algorithm: { name: "ECDSA", namedCurve: "P-256" } },
  {
    name: "RSA 2048",
    algorithm: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  },
];

const OID = {
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  emailProtection: "1.3.6.1.5.5.7.3.4",
};

/** A key pair made by the token; the private key is non-extractable: the token will not reveal it. */
export async function generateTokenKeyPair(crypto, algorithm) {
  return crypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
}

// Only a common name: pkijs puts all of a RelativeDistinguishedNames' typesAndValues in one SET (a
// multi-valued RDN, shown as "O = ... + CN = ..."), which is legal but not what anyone expects.
function distinguishedName(commonName) {
  const name = new pkijs.RelativeDistinguishedNames();
  name.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: commonName }) }));
  return name;
}

function extension(extnID, critical, value) {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

// KeyUsage is a BIT STRING whose bit 0 is the most significant bit of the first byte.
const KEY_USAGE = { digitalSignature: 0x80, nonRepudiation: 0x40, keyCertSign: 0x04, cRLSign: 0x02 };
function keyUsage(bits) {
  const byte = bits.reduce((sum, bit) => sum | bit, 0);
  const unusedBits = Math.min(7, Math.log2(byte & -byte));
  return new asn1js.BitString({ valueHex: new Uint8Array([byte]).buffer, unusedBits });
}

/** RFC 5280's usual key identifier: SHA-1 of the subjectPublicKey bits, hashed by the token. */
async function keyIdentifier(engine, certificate) {
  return engine.digest("SHA-1", certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
}

async function certificateBody(engine, { subject, issuer, publicKey, days }) {
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  // A positive 16-byte serial from the token's random generator.
  const serial = engine.crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  certificate.serialNumber = new asn1js.Integer({ valueHex: serial.buffer });
  certificate.subject = distinguishedName(subject);
  certificate.issuer = issuer ? issuer.subject : distinguishedName(subject);
  const now = new Date();
  certificate.notBefore.value = new Date(now.getTime() - 60_000);
  certificate.notAfter.value = new Date(now.getTime() + days * 86_400_000);
  await certificate.subjectPublicKeyInfo.importKey(publicKey, engine);
  return certificate;
}

/** A self-signed CA certificate for `keys`, signed on the token. */
export async function issueCaCertificate(engine, keys, commonName) {
  const certificate = await certificateBody(engine, { subject: commonName, publicKey: keys.publicKey, days: 365 });
  const ski = await keyIdentifier(engine, certificate);
  certificate.extensions = [
    extension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 }).toSchema()),
    extension(OID.keyUsage, true, keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign, KEY_USAGE.digitalSignature])),
    extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
  ];
  await certificate.sign(keys.privateKey, "SHA-256", engine);
  return certificate;
}

/** A signing (end-entity) certificate for `publicKey`, issued by `ca` ({ certificate, privateKey }) on the token. */
export async function issueSigningCertificate(engine, ca, publicKey, commonName) {
  const certificate = await certificateBody(engine, { subject: commonName, issuer: ca.certificate, publicKey, days: 90 });
  const ski = await keyIdentifier(engine, certificate);
  const caSki = await keyIdentifier(engine, ca.certificate);
  certificate.extensions = [
    extension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    extension(OID.keyUsage, true, keyUsage([KEY_USAGE.digitalSignature, KEY_USAGE.nonRepudiation])),
    extension(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [OID.emailProtection] }).toSchema()),
    extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
    extension(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: caSki }) }).toSchema()),
  ];
  await certificate.sign(ca.privateKey, "SHA-256", engine);
  return certificate;
}

export function certificateDer(certificate) {
  return new Uint8Array(certificate.toSchema(true).toBER(false));
}

/**
 * For each key profile: a CA key pair and a signing key pair on the token, the CA's self-signed
 * certificate and the signing certificate it issues. Writes them as PEM and checks both with
 * `openssl verify`. Returns what it made, with the files' paths and OpenSSL's answers.
 */
export async function pkijsCertificates({ crypto, workDirectory, log, profiles = keyProfiles }) {
  const engine = usePkijsEngine(crypto);
  log("Made our Crypto pkijs's crypto engine (new pkijs.CryptoEngine({ crypto }), pkijs.setEngine)");
  const results = [];
  for (const profile of profiles) {
    const caKeys = await generateTokenKeyPair(crypto, profile.algorithm);
    const leafKeys = await generateTokenKeyPair(crypto, profile.algorithm);
    log(`${profile.name}: generated a CA key pair and a signing key pair on the token (private keys extractable: ${caKeys.privateKey.extractable}, ${leafKeys.privateKey.extractable})`);

    const caCertificate = await issueCaCertificate(engine, caKeys, `Example CA (${profile.name})`);
    const caPath = join(workDirectory, `pkijs-ca-${slug(profile.name)}.pem`);
    writeFileSync(caPath, toPem(certificateDer(caCertificate), "CERTIFICATE"));
    log(`${profile.name}: pkijs built the CA certificate and the token signed it: ${caPath}`);

    const leafCertificate = await issueSigningCertificate(engine, { certificate: caCertificate, privateKey: caKeys.privateKey }, leafKeys.publicKey, `Example signer (${profile.name})`);
    const leafPath = join(workDirectory, `pkijs-signer-${slug(profile.name)}.pem`);
    writeFileSync(leafPath, toPem(certificateDer(leafCertificate), "CERTIFICATE"));
    log(`${profile.name}: the CA key on the token issued the signing certificate: ${leafPath}`);

    // -check_ss_sig: without it OpenSSL trusts a trust anchor's signature without checking it.
    const caCheck = run("openssl", ["verify", "-check_ss_sig", "-CAfile", caPath, caPath]);
    log(`${profile.name}: openssl verify -check_ss_sig -CAfile ca.pem ca.pem -> ${lastLine(caCheck)}`);
    const leafCheck = run("openssl", ["verify", "-CAfile", caPath, leafPath]);
    log(`${profile.name}: openssl verify -CAfile ca.pem signer.pem -> ${lastLine(leafCheck)}`);
    results.push({ profile, caKeys, leafKeys, caCertificate, leafCertificate, caPath, leafPath, caCheck, leafCheck });
  }
  return results;
}


void runAsScript(import.meta.url, async (context) => {
  const results = await pkijsCertificates(context);
  return results.every(({ caCheck, leafCheck }) => caCheck.status === 0 && leafCheck.status === 0);
});
