import { inspect } from "node:util";
import { commonNameOf, nameToString } from "./distinguished-names.js";
import type { CertificateData } from "./certificate-data.js";
import { certificateId } from "./storage-ids.js";

/** Where an item's data lives, reachable from inside the library only. */
const itemData = new WeakMap<object, CertificateData>();

export function certificateDataOf(item: unknown): CertificateData | undefined {
  return typeof item === "object" && item !== null ? itemData.get(item) : undefined;
}

/**
 * What certStorage hands out: the certificate's or request's fields and its public key as a
 * CryptoKey (node-webcrypto-p11's CryptoCertificate shape). Items are values: the same id names
 * the same bytes (the id is the hash of the DER), whether or not they are stored on the token yet.
 */
abstract class CryptoCertificateItem {
  abstract readonly type: "x509" | "request";
  readonly publicKey: CryptoKey;
  /** CKA_LABEL when stored; the subject's common name until then. */
  readonly label: string;

  constructor(data: CertificateData, publicKey: CryptoKey, label?: string) {
    itemData.set(this, data);
    this.publicKey = publicKey;
    this.label = label ?? commonNameOf(data.subject);
  }

  protected get data(): CertificateData {
    return itemData.get(this)!;
  }

  /** The storage id this item has (or would have) on the token. */
  get id(): string {
    return certificateId(this.data.kind, this.data.der);
  }

  get subjectName(): string {
    return nameToString(this.data.subject);
  }

  /** The DER encoding (a fresh copy each time). */
  get value(): ArrayBuffer {
    const copy = new Uint8Array(this.data.der.length);
    copy.set(this.data.der);
    return copy.buffer;
  }

  protected abstract fields(): Record<string, unknown>;

  [inspect.custom](depth: number, options: object): string {
    return `${this.constructor.name} ${inspect({ id: this.id, label: this.label, ...this.fields() }, { ...options, depth })}`;
  }
}

export class CryptoX509Certificate extends CryptoCertificateItem {
  readonly type = "x509" as const;

  get issuerName(): string {
    return nameToString(this.data.issuer!);
  }

  /** The serial number in hex, as the certificate encodes it. */
  get serialNumber(): string {
    return this.data.serialHex!;
  }

  get notBefore(): Date {
    return new Date(this.data.notBefore!);
  }

  get notAfter(): Date {
    return new Date(this.data.notAfter!);
  }

  protected fields() {
    return { subjectName: this.subjectName, issuerName: this.issuerName, serialNumber: this.serialNumber, notBefore: this.notBefore, notAfter: this.notAfter };
  }
}

export class CryptoX509CertificateRequest extends CryptoCertificateItem {
  readonly type = "request" as const;

  protected fields() {
    return { subjectName: this.subjectName };
  }
}

export type CryptoCertificate = CryptoX509Certificate | CryptoX509CertificateRequest;

export function createCertificateItem(data: CertificateData, publicKey: CryptoKey, label?: string): CryptoCertificate {
  return data.kind === "x509" ? new CryptoX509Certificate(data, publicKey, label) : new CryptoX509CertificateRequest(data, publicKey, label);
}
