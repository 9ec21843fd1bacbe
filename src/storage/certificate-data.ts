import { X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { Certificate } from "@peculiar/asn1-x509";
import { dataError } from "../webcrypto-errors.js";
import type { CertificateKind } from "./storage-ids.js";

/**
 * A certificate or certificate request taken apart into what storage and its items need: the DER
 * pieces PKCS#11 stores as attributes (CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER are DER, as the
 * specification and every other tool write them), the public key, and the validity.
 */
export interface CertificateData {
  kind: CertificateKind;
  der: Buffer;
  subject: Buffer;
  /** Certificates only. */
  issuer?: Buffer;
  /** The DER INTEGER of the serial number (certificates only). */
  serialDer?: Buffer;
  serialHex?: string;
  notBefore?: Date;
  notAfter?: Date;
  spki: Buffer;
  /** The key's bytes in the SPKI (the BIT STRING contents): what CKA_ID is derived from when no key on the token matches. */
  publicKeyBits: Buffer;
}

const PEM_LABELS: Record<string, CertificateKind> = {
  CERTIFICATE: "x509",
  "X509 CERTIFICATE": "x509",
  "CERTIFICATE REQUEST": "request",
  "NEW CERTIFICATE REQUEST": "request",
};

/** The DER inside a PEM block, and what its label says it is. */
export function fromPem(pem: string): { der: Buffer; kind: CertificateKind } {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!match) throw dataError("The PEM text has no BEGIN/END block (expected CERTIFICATE or CERTIFICATE REQUEST)");
  const kind = PEM_LABELS[match[1]];
  if (kind === undefined) throw dataError(`A PEM block of type "${match[1]}" is not a certificate or certificate request`);
  const body = match[2].replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw dataError("The PEM block's body is not valid base64");
  return { der: Buffer.from(body, "base64"), kind };
}

export function toPem(der: Buffer, kind: CertificateKind): string {
  const label = kind === "x509" ? "CERTIFICATE" : "CERTIFICATE REQUEST";
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Parses DER as the kind given, or, with no kind, as a certificate and then as a request.
 * Anything that does not parse completely (including trailing bytes) is a DataError.
 */
export function parseCertificateData(der: Buffer, kind?: CertificateKind): CertificateData {
  const attempts: CertificateKind[] = kind ? [kind] : ["x509", "request"];
  let failure: unknown;
  for (const attempt of attempts) {
    try {
      return attempt === "x509" ? parseX509(der) : parseRequest(der);
    } catch (error) {
      failure = error;
    }
  }
  const what = kind === "request" ? "a PKCS#10 certificate request" : kind === "x509" ? "an X.509 certificate" : "an X.509 certificate or PKCS#10 certificate request";
  throw dataError(`The data is not ${what} in DER`, failure);
}

/** AsnConvert ignores bytes after the outer SEQUENCE; a stored object must be exactly one structure. */
function checkWhole(der: Buffer): void {
  const length = outerLength(der);
  if (length !== der.length) throw new Error(`the DER structure is ${length} bytes, the data ${der.length}`);
}

function outerLength(der: Buffer): number {
  if (der.length < 2 || der[0] !== 0x30) throw new Error("not a DER SEQUENCE");
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || der.length < 2 + count) throw new Error("bad DER length");
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + der[2 + i];
  return 2 + count + length;
}

function parseX509(der: Buffer): CertificateData {
  checkWhole(der);
  // OpenSSL (through Node) as the judge of well-formedness: the ASN.1 schema alone is lax about
  // inner DER (a string's tag, a SET's length), and fuzzing found such certificates it took.
  new X509Certificate(der);
  const certificate = AsnConvert.parse(der, Certificate);
  const tbs = certificate.tbsCertificate;
  const serial = Buffer.from(tbs.serialNumber);
  return {
    kind: "x509",
    der: Buffer.from(der),
    subject: Buffer.from(AsnConvert.serialize(tbs.subject)),
    issuer: Buffer.from(AsnConvert.serialize(tbs.issuer)),
    serialDer: derInteger(serial),
    serialHex: serial.toString("hex"),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spki: Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
    publicKeyBits: Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey),
  };
}

function parseRequest(der: Buffer): CertificateData {
  const request = AsnConvert.parse(der, CertificationRequest);
  const info = request.certificationRequestInfo;
  checkWhole(der);
  return {
    kind: "request",
    der: Buffer.from(der),
    subject: Buffer.from(AsnConvert.serialize(info.subject)),
    spki: Buffer.from(AsnConvert.serialize(info.subjectPKInfo)),
    publicKeyBits: Buffer.from(info.subjectPKInfo.subjectPublicKey),
  };
}

/** The DER INTEGER encoding of a serial number's content octets (as CKA_SERIAL_NUMBER holds it). */
function derInteger(content: Buffer): Buffer {
  const length = content.length;
  const header = length < 0x80 ? Buffer.from([0x02, length]) : length < 0x100 ? Buffer.from([0x02, 0x81, length]) : Buffer.from([0x02, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([header, content]);
}
