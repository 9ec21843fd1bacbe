import { createHash, randomBytes } from "node:crypto";
import { CertificationRequest, CertificationRequestInfo } from "@peculiar/asn1-csr";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  BasicConstraints, Certificate, Extension, Extensions, id_ce_basicConstraints, id_ce_keyUsage, id_ce_subjectKeyIdentifier,
  KeyUsage, KeyUsageFlags, Name, SubjectKeyIdentifier, SubjectPublicKeyInfo, TBSCertificate, Validity, Version,
} from "@peculiar/asn1-x509";
import type { Crypto } from "../index.js";
import type { SignatureScheme } from "./signature-schemes.js";
import { ecdsaRawToDer } from "./signature-schemes.js";

/**
 * PKCS#10 requests and self-signed X.509 certificates built with the @peculiar/asn1-* schemas
 * and signed on the token through crypto.subtle.sign: the private key never leaves the token.
 * (@peculiar/x509 would do the same in fewer lines, but needs a global reflect-metadata polyfill
 * and is not a runtime dependency of this package.)
 */
export interface SigningInput {
  subtle: Crypto["subtle"];
  privateKey: CryptoKey;
  scheme: SignatureScheme;
  subject: Name;
  /** The public key's SubjectPublicKeyInfo in DER. */
  spki: ArrayBuffer;
}

async function signDer(input: SigningInput, toBeSigned: ArrayBuffer): Promise<ArrayBuffer> {
  const signature = new Uint8Array(await input.subtle.sign(input.scheme.sign, input.privateKey, toBeSigned));
  // X.509 and PKCS#10 carry ECDSA signatures as DER, Web Crypto returns r||s.
  const encoded = input.scheme.sign.name === "ECDSA" ? ecdsaRawToDer(signature) : Buffer.from(signature);
  return encoded.buffer.slice(encoded.byteOffset, encoded.byteOffset + encoded.byteLength) as ArrayBuffer;
}

export async function createRequest(input: SigningInput): Promise<Buffer> {
  const info = new CertificationRequestInfo({
    version: 0,
    subject: input.subject,
    subjectPKInfo: AsnConvert.parse(input.spki, SubjectPublicKeyInfo),
  });
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: input.scheme.x509!,
    signature: await signDer(input, AsnConvert.serialize(info)),
  });
  return Buffer.from(AsnConvert.serialize(request));
}

/**
 * A self-signed certificate, valid from a minute ago (clocks differ) for `days` days, marked as a
 * CA (basicConstraints cA, keyCertSign) as a self-signed certificate is a root by nature; with a
 * random positive 16-byte serial number and a subject key identifier (SHA-1 of the key, RFC 5280).
 */
export async function createSelfSigned(input: SigningInput & { days: number }): Promise<Buffer> {
  const spki = AsnConvert.parse(input.spki, SubjectPublicKeyInfo);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive
  serial[0] |= 0x01; // no leading zero byte to strip
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + input.days * 86_400_000);
  const extension = (extnID: string, critical: boolean, value: unknown) =>
    new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.length) as ArrayBuffer,
    signature: input.scheme.x509!,
    issuer: input.subject,
    validity: new Validity({ notBefore, notAfter }),
    subject: input.subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(createHash("sha1").update(Buffer.from(spki.subjectPublicKey)).digest())),
    ]),
  });
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: input.scheme.x509!,
    signatureValue: await signDer(input, AsnConvert.serialize(tbs)),
  });
  return Buffer.from(AsnConvert.serialize(certificate));
}
