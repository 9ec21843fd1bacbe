import { createHash, X509Certificate } from "node:crypto";
import { bufferSource } from "../crypto/arguments.js";
import type { SubtleCrypto } from "../crypto/subtle.js";
import type { KeyAlgorithmParams } from "../crypto/webcrypto-types.js";
import { keyObjectOf } from "../keys/crypto-key.js";
import { pkcs11js, type Template } from "../token/pkcs11.js";
import { createObjectOnToken, destroyObject } from "../token/operations.js";
import { readOptionalAttributes, setAttributesOnToken } from "../token/object-calls.js";
import type { Token } from "../token/token.js";
import { toTokenError } from "../token/token-error.js";
import { notSupported, operationError } from "../webcrypto-errors.js";
import { fromPem, parseCertificateData, toPem, type CertificateData } from "./certificate-data.js";
import { certificateDataOf, createCertificateItem, CryptoX509Certificate, type CryptoCertificate } from "./certificate-items.js";
import { readKeyAttributes } from "./key-attributes.js";
import type { KeyStorage } from "./key-storage.js";
import { publicKeyFingerprint, defaultSpkiAlgorithm } from "./spki-algorithm.js";
import { findStoredCertificates, findStoredKeys, PKCS10_OBJECT_ID, REQUEST_APPLICATION, type StoredCertificate } from "./stored-objects.js";
import { parseId, type CertificateKind } from "./storage-ids.js";
import { isPkcs11Uri, objectQuery, onlyMatch } from "./object-uris.js";

const ALL_KINDS: readonly CertificateKind[] = ["x509", "request"];
/** The longest chain getChain follows, against loops of cross-signed certificates. */
const MAX_CHAIN = 16;

/** The usages a certificate's public key gets when the caller names none. */
function publicUsages(algorithm: string): KeyUsage[] {
  const name = algorithm.toUpperCase();
  if (name === "RSA-OAEP") return ["encrypt", "wrapKey"];
  if (name === "ECDH" || name === "X25519") return [];
  return ["verify"];
}

function isRequest(der: Buffer): boolean {
  try {
    parseCertificateData(der, "request");
    return true;
  } catch {
    return false;
  }
}

/**
 * X.509 certificates and PKCS#10 requests on the token (node-webcrypto-p11's
 * CryptoCertificateStorage shape).
 *
 * Certificates are CKO_CERTIFICATE / CKC_X_509 objects with CKA_SUBJECT, CKA_ISSUER and
 * CKA_SERIAL_NUMBER in DER, CKA_VALUE, and CKA_ID equal to their key pair's CKA_ID when the pair
 * is on the token (pkcs11-tool, Firefox and Java find a certificate's key that way); otherwise the
 * SHA-1 of the public key (RFC 5280's key identifier), which is what the key will get if it is
 * imported with the same convention. Requests are data objects (see stored-objects.ts).
 */
export class CertificateStorage {
  readonly #token: Token;
  readonly #subtle: SubtleCrypto;
  readonly #keyStorage: KeyStorage;

  /** @internal Made by Crypto. */
  constructor(token: Token, subtle: SubtleCrypto, keyStorage: KeyStorage) {
    this.#token = token;
    this.#subtle = subtle;
    this.#keyStorage = keyStorage;
  }

  get [Symbol.toStringTag](): string {
    return "CertificateStorage";
  }

  /**
   * Reads a certificate or request ("raw": DER bytes; "pem": PEM text) into an item whose public
   * key is imported with `algorithm` (default: from the key's type) and `usages`. Nothing is
   * written to the token until setItem.
   */
  async importCert(format: "raw" | "pem", data: BufferSource | string, algorithm?: KeyAlgorithmParams | null, usages?: KeyUsage[]): Promise<CryptoCertificate> {
    let der: Buffer;
    let kind: CertificateKind | undefined;
    if (format === "pem") {
      const text = typeof data === "string" ? data : bufferSource(data, "importCert", 2).toString("latin1");
      ({ der, kind } = fromPem(text));
    } else if (format === "raw") {
      if (typeof data === "string") throw new TypeError('importCert("raw") takes the DER bytes as a BufferSource');
      der = Buffer.from(bufferSource(data, "importCert", 2));
    } else {
      throw new TypeError(`importCert takes the format "raw" or "pem", not ${String(format)}`);
    }
    return this.#item(parseCertificateData(der, kind), algorithm, usages);
  }

  async exportCert(format: "raw", item: CryptoCertificate): Promise<ArrayBuffer>;
  async exportCert(format: "pem", item: CryptoCertificate): Promise<string>;
  async exportCert(format: "raw" | "pem", item: CryptoCertificate): Promise<ArrayBuffer | string> {
    const data = this.#dataOf(item, "exportCert");
    if (format === "raw") return item.value;
    if (format === "pem") return toPem(data.der, data.kind);
    throw new TypeError(`exportCert takes the format "raw" or "pem", not ${String(format)}`);
  }

  async keys(): Promise<string[]> {
    return (await findStoredCertificates(this.#token, ALL_KINDS, isRequest)).map((stored) => stored.id);
  }

  /** The stored certificate or request with this id, or null when there is none. */
  async getItem(id: string, algorithm?: KeyAlgorithmParams | null, usages?: KeyUsage[]): Promise<CryptoCertificate | null> {
    const stored = await this.#lookUp(id);
    if (!stored) return null;
    return this.#item(parseCertificateData(stored.der, stored.kind), algorithm, usages, stored.label);
  }

  /**
   * Stores an item as a token object (see the class comment) and returns its id. An item already
   * stored is not written twice: its id comes back (and `label`, if given, is set).
   */
  async setItem(item: CryptoCertificate, options: { label?: string } = {}): Promise<string> {
    const data = this.#dataOf(item, "setItem");
    if (options.label !== undefined && typeof options.label !== "string") throw new TypeError("The label must be a string");
    const label = options.label ?? item.label;
    const existing = await this.#lookUp(item.id);
    if (existing) {
      if (options.label !== undefined) await setAttributesOnToken(this.#token, existing.handle, [{ type: pkcs11js.CKA_LABEL, value: label }]);
      return existing.id;
    }
    const template: Template = data.kind === "x509"
      ? [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
          { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: false },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_ID, value: await this.#linkId(data) },
          { type: pkcs11js.CKA_SUBJECT, value: data.subject },
          { type: pkcs11js.CKA_ISSUER, value: data.issuer! },
          { type: pkcs11js.CKA_SERIAL_NUMBER, value: data.serialDer! },
          { type: pkcs11js.CKA_VALUE, value: data.der },
        ]
      : [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: false },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_APPLICATION, value: REQUEST_APPLICATION },
          { type: pkcs11js.CKA_OBJECT_ID, value: PKCS10_OBJECT_ID },
          { type: pkcs11js.CKA_VALUE, value: data.der },
        ];
    try {
      await createObjectOnToken(this.#token, template);
    } catch (error) {
      const tokenError = toTokenError(error, "C_CreateObject");
      // NSS softokn keeps only certificates, keys and trust objects: no data objects on the token.
      if (data.kind === "request" && tokenError.ckr === pkcs11js.CKR_ATTRIBUTE_VALUE_INVALID) {
        throw notSupported(`Token "${this.#token.label}" cannot store data objects, which is how certificate requests are stored`, tokenError);
      }
      throw operationError(`Storing the ${data.kind === "x509" ? "certificate" : "request"} on token "${this.#token.label}" failed`, tokenError);
    }
    return item.id;
  }

  /** Destroys the stored item with this id; false when there was none. */
  async removeItem(id: string): Promise<boolean> {
    const stored = await this.#lookUp(id);
    if (!stored) return false;
    destroyObject(this.#token, stored.handle);
    return true;
  }

  /** The item's id when it is stored on the token, else null. */
  async indexOf(item: CryptoCertificate): Promise<string | null> {
    this.#dataOf(item, "indexOf");
    return (await this.#lookUp(item.id)) ? item.id : null;
  }

  async hasItem(item: CryptoCertificate): Promise<boolean> {
    return (await this.indexOf(item)) !== null;
  }

  /** Destroys every stored certificate and request. */
  async clear(): Promise<void> {
    for (const stored of await findStoredCertificates(this.#token, ALL_KINDS, isRequest)) destroyObject(this.#token, stored.handle);
  }

  /**
   * The stored private key of a certificate or request: the private key with the certificate's
   * CKA_ID (for an item not stored, the CKA_ID its key pair has), or null.
   */
  async getPrivateKey(item: CryptoCertificate, algorithm?: KeyAlgorithmParams | null, usages?: KeyUsage[]): Promise<CryptoKey | null> {
    const data = this.#dataOf(item, "getPrivateKey");
    const stored = data.kind === "x509" ? await this.#lookUp(item.id) : undefined;
    const ckaId = stored?.ckaId.length ? stored.ckaId : await this.#linkId(data);
    const [key] = await findStoredKeys(this.#token, ["private"], ckaId);
    return key ? this.#keyStorage.getItem(key.id, algorithm, usages) : null;
  }

  /** The stored certificates of a key of ours: those with its CKA_ID, or matching its public key. */
  async getCertificates(key: CryptoKey): Promise<CryptoX509Certificate[]> {
    const ref = keyObjectOf(key);
    if (!ref || ref.material !== undefined) throw new TypeError("getCertificates takes a CryptoKey made by this library");
    const attributes = readKeyAttributes(this.#token, ref.handle);
    const result: CryptoX509Certificate[] = [];
    for (const stored of await findStoredCertificates(this.#token, ["x509"], isRequest)) {
      if (attributes && stored.ckaId.length > 0 && stored.ckaId.equals(attributes.ckaId)) {
        result.push((await this.#item(parseCertificateData(stored.der, "x509"), null, undefined, stored.label)) as CryptoX509Certificate);
      }
    }
    return result;
  }

  /**
   * The certificate's chain from the certificates on the token: the item first, then each issuer
   * (its subject is the certificate's issuer and its key verifies the certificate's signature),
   * ending at a self-signed root or where no issuer is stored.
   */
  async getChain(item: CryptoX509Certificate): Promise<CryptoX509Certificate[]> {
    const data = this.#dataOf(item, "getChain");
    if (data.kind !== "x509") throw new TypeError("getChain takes an X.509 certificate");
    const candidates = (await findStoredCertificates(this.#token, ["x509"], isRequest)).map((stored) => ({ stored, node: new X509Certificate(stored.der) }));
    const chain: CryptoX509Certificate[] = [item];
    let current = new X509Certificate(data.der);
    const seen = new Set([current.fingerprint256]);
    while (chain.length < MAX_CHAIN) {
      if (current.checkIssued(current) && current.verify(current.publicKey)) break;
      const issuer = candidates.find(({ node }) => !seen.has(node.fingerprint256) && current.checkIssued(node) && current.verify(node.publicKey));
      if (!issuer) break;
      seen.add(issuer.node.fingerprint256);
      chain.push((await this.#item(parseCertificateData(issuer.stored.der, "x509"), null, undefined, issuer.stored.label)) as CryptoX509Certificate);
      current = issuer.node;
    }
    return chain;
  }

  async #item(data: CertificateData, algorithm: KeyAlgorithmParams | null | undefined, usages: KeyUsage[] | undefined, label?: string): Promise<CryptoCertificate> {
    const keyAlgorithm = algorithm ?? defaultSpkiAlgorithm(data.spki);
    const name = typeof keyAlgorithm === "string" ? keyAlgorithm : keyAlgorithm.name;
    const publicKey = await this.#subtle.importKey("spki", new Uint8Array(data.spki), keyAlgorithm, true, usages ?? publicUsages(String(name)));
    return createCertificateItem(data, publicKey, label || undefined);
  }

  async #lookUp(id: string): Promise<StoredCertificate | undefined> {
    if (isPkcs11Uri(id)) return this.#lookUpUri(id);
    const parsed = parseId(id);
    if (parsed.kind !== "x509" && parsed.kind !== "request") throw new TypeError(`${id} names a key; use keyStorage`);
    const stored = await findStoredCertificates(this.#token, [parsed.kind], isRequest);
    return stored.find((candidate) => candidate.id === id);
  }

  /** The one stored certificate or request an RFC 7512 URI names; a DataError if several match. */
  async #lookUpUri(uri: string): Promise<StoredCertificate | undefined> {
    const query = objectQuery(uri, this.#token);
    const kinds = (query.kinds ?? ALL_KINDS).filter((kind): kind is CertificateKind => kind === "x509" || kind === "request");
    if (kinds.length === 0) throw new TypeError("The PKCS#11 URI names a key; use keyStorage");
    const matches = (await findStoredCertificates(this.#token, kinds, isRequest)).filter(
      (stored) => (query.label === undefined || stored.label === query.label) && (query.ckaId === undefined || stored.ckaId.equals(query.ckaId)),
    );
    return onlyMatch(matches, "items");
  }

  #dataOf(item: unknown, method: string): CertificateData {
    const data = certificateDataOf(item);
    if (!data) throw new TypeError(`certStorage.${method} takes an item from importCert or getItem`);
    return data;
  }

  /**
   * The CKA_ID a certificate gets: its key pair's, when a key on the token holds the same public
   * key (RSA modulus, EC point), else SHA-1 of the public key bits.
   */
  async #linkId(data: CertificateData): Promise<Buffer> {
    const wanted = publicKeyFingerprint(data.spki);
    if (wanted) {
      for (const key of await findStoredKeys(this.#token, ["public", "private"])) {
        const [modulus, point] = readOptionalAttributes(this.#token, key.handle, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_EC_POINT]);
        if (modulus && stripZeros(modulus).equals(wanted)) return key.attributes.ckaId;
        if (point && (point.equals(wanted) || unwrapOctetString(point)?.equals(wanted))) return key.attributes.ckaId;
      }
    }
    return createHash("sha1").update(data.publicKeyBits).digest();
  }
}

function stripZeros(value: Buffer): Buffer {
  const first = value.findIndex((byte) => byte !== 0);
  return first <= 0 ? value : value.subarray(first);
}

/** CKA_EC_POINT is a DER OCTET STRING around the point on most tokens, the bare point on a few. */
function unwrapOctetString(value: Buffer): Buffer | undefined {
  if (value[0] !== 0x04 || value.length < 2) return undefined;
  const first = value[1];
  if (first < 0x80) return value.length === 2 + first ? value.subarray(2) : undefined;
  const count = first & 0x7f;
  return count === 1 && value.length === 3 + value[2] ? value.subarray(3) : undefined;
}

