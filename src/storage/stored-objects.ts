import { pkcs11js, type Handle, type Template } from "../token/pkcs11.js";
import { findObjects } from "../token/operations.js";
import { readOptionalAttributes } from "../token/object-calls.js";
import type { Token } from "../token/token.js";
import { readKeyAttributes, type KeyAttributes } from "./key-attributes.js";
import { certificateId, formatId, type CertificateKind, type KeyKind } from "./storage-ids.js";

/**
 * Finding what storage lists: persistent (CKA_TOKEN) key, certificate and request objects, with
 * their storage ids (storage-ids.ts). Session objects are not storage: they die with the session.
 */

export const KEY_CLASSES: Record<KeyKind, number> = {
  private: pkcs11js.CKO_PRIVATE_KEY,
  public: pkcs11js.CKO_PUBLIC_KEY,
  secret: pkcs11js.CKO_SECRET_KEY,
};

export interface StoredKey {
  id: string;
  handle: Handle;
  attributes: KeyAttributes;
}

/** Persistent keys of one kind (or all), optionally only those with a given CKA_ID. */
export async function findStoredKeys(token: Token, kinds: readonly KeyKind[], ckaId?: Buffer): Promise<StoredKey[]> {
  const found: StoredKey[] = [];
  for (const kind of kinds) {
    const template: Template = [
      { type: pkcs11js.CKA_CLASS, value: KEY_CLASSES[kind] },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ];
    if (ckaId !== undefined) template.push({ type: pkcs11js.CKA_ID, value: ckaId });
    const seen = new Map<string, number>();
    for (const handle of await findObjects(token, template)) {
      const attributes = readKeyAttributes(token, handle);
      if (!attributes) continue;
      const hex = attributes.ckaId.toString("hex");
      const ordinal = seen.get(hex) ?? 0;
      seen.set(hex, ordinal + 1);
      found.push({ id: formatId(kind, hex, ordinal), handle, attributes });
    }
  }
  return found;
}

export interface StoredCertificate {
  id: string;
  kind: CertificateKind;
  handle: Handle;
  der: Buffer;
  label: string;
  /** CKA_ID of a certificate (links it to its key); empty for requests, which are data objects. */
  ckaId: Buffer;
}

/**
 * Certificate requests have no object class of their own in PKCS#11. We store them as data objects
 * (CKO_DATA) whose CKA_OBJECT_ID is the DER of the PKCS#10 OID (1.2.840.113549.1.10), which is
 * what that attribute is for ("the data object's type"), with CKA_APPLICATION naming what they
 * are. Data objects that node-webcrypto-p11 wrote (label "X509 Request", its key id in
 * CKA_OBJECT_ID) are listed too, when their value parses as a request.
 */
export const PKCS10_OBJECT_ID = Buffer.from("06082a864886f70d010a", "hex");
export const REQUEST_APPLICATION = "PKCS #10 certificate request";
const LEGACY_REQUEST_LABEL = "X509 Request";


export async function findStoredCertificates(
  token: Token,
  kinds: readonly CertificateKind[],
  isRequest: (der: Buffer) => boolean,
): Promise<StoredCertificate[]> {
  const found: StoredCertificate[] = [];
  if (kinds.includes("x509")) {
    const template: Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
      { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ];
    for (const handle of await findObjects(token, template)) {
      const [der, label, ckaId] = readOptionalAttributes(token, handle, [pkcs11js.CKA_VALUE, pkcs11js.CKA_LABEL, pkcs11js.CKA_ID]);
      if (!der || der.length === 0) continue;
      found.push({ id: certificateId("x509", der), kind: "x509", handle, der, label: label?.toString("utf8") ?? "", ckaId: ckaId ?? Buffer.alloc(0) });
    }
  }
  if (kinds.includes("request")) {
    const template: Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ];
    for (const handle of await findObjects(token, template)) {
      const [objectId, label, der] = readOptionalAttributes(token, handle, [pkcs11js.CKA_OBJECT_ID, pkcs11js.CKA_LABEL, pkcs11js.CKA_VALUE]);
      const labelText = label?.toString("utf8") ?? "";
      const ours = objectId?.equals(PKCS10_OBJECT_ID) === true;
      if (!der || der.length === 0 || !(ours || labelText === LEGACY_REQUEST_LABEL) || !isRequest(der)) continue;
      found.push({ id: certificateId("request", der), kind: "request", handle, der, label: labelText, ckaId: Buffer.alloc(0) });
    }
  }
  return found;
}
