import { normalizeAlgorithm } from "../crypto/normalize.js";
import type { KeyAlgorithmParams } from "../crypto/webcrypto-types.js";
import { checkPersistentUsages } from "../keys/attribute-policy.js";
import { createCryptoKey, keyObjectOf, type KeyObjectRef } from "../keys/crypto-key.js";
import { usageAttribute, usageAttributesOf } from "../keys/key-template.js";
import { pkcs11js, type Template } from "../token/pkcs11.js";
import { destroyObject } from "../token/operations.js";
import { copyObjectOnToken, setAttributesOnToken } from "../token/object-calls.js";
import { toTokenError } from "../token/token-error.js";
import type { Token } from "../token/token.js";
import { dataError, invalidAccess, notSupported, operationError } from "../webcrypto-errors.js";
import { readKeyAttributes, type KeyAttributes } from "./key-attributes.js";
import { storedKeyShape, type KeyRequest } from "./key-algorithm.js";
import { findStoredKeys, type StoredKey } from "./stored-objects.js";
import { isKeyKind, parseId, type KeyKind } from "./storage-ids.js";
import { isPkcs11Uri, objectQuery, objectUri, onlyMatch } from "./object-uris.js";

const ALL_KINDS: readonly KeyKind[] = ["private", "public", "secret"];

/** What keys() and find() tell about a stored key without making a CryptoKey of it. */
export interface StoredKeyInfo {
  id: string;
  type: KeyType;
  label: string;
  /** CKA_ID in hex: the link between a key pair's halves and their certificates. */
  keyId: string;
  /** Its RFC 7512 URI (token, object = label, id, type), as OpenSSL, p11-kit and GnuTLS name it; getItem takes it too. */
  uri: string;
  /** The Web Crypto algorithm getItem would give it without one from the caller (undefined if none fits). */
  algorithm?: KeyAlgorithm;
  usages: KeyUsage[];
  extractable: boolean;
}


/**
 * Persistent keys on the token (node-webcrypto-p11's CryptoKeyStorage shape): ids from keys(),
 * CryptoKeys from getItem(), and setItem() to make a session key persistent.
 */
export class KeyStorage {
  readonly #token: Token;

  /** @internal Made by Crypto. */
  constructor(token: Token) {
    this.#token = token;
  }

  get [Symbol.toStringTag](): string {
    return "KeyStorage";
  }

  /** The ids of every persistent key on the token, ours and other tools'. */
  async keys(): Promise<string[]> {
    return (await findStoredKeys(this.#token, ALL_KINDS)).map((key) => key.id);
  }

  /** Stored keys with their labels, types and (inferred) algorithms; `label` filters by CKA_LABEL. */
  async find(query: { label?: string; type?: KeyType } = {}): Promise<StoredKeyInfo[]> {
    const kinds = query.type === undefined ? ALL_KINDS : ALL_KINDS.filter((kind) => kind === query.type);
    const stored = await findStoredKeys(this.#token, kinds);
    return stored.filter((key) => query.label === undefined || key.attributes.label === query.label).map((key) => describe(this.#token, key));
  }

  /**
   * The stored key with this id (or RFC 7512 URI: `pkcs11:object=signer;type=private`) as a
   * CryptoKey, or null when there is none. Its algorithm is read
   * from the object (key-algorithm.ts) unless given; `usages` and `extractable` may only narrow
   * what the object allows. Also callable as node-webcrypto-p11's getItem(id, algorithm, extractable, usages).
   */
  async getItem(id: string, algorithm?: KeyAlgorithmParams | null, usages?: KeyUsage[]): Promise<CryptoKey | null>;
  async getItem(id: string, algorithm: KeyAlgorithmParams | null | undefined, extractable: boolean, usages?: KeyUsage[]): Promise<CryptoKey | null>;
  async getItem(id: string, algorithm?: KeyAlgorithmParams | null, third?: boolean | KeyUsage[], fourth?: KeyUsage[]): Promise<CryptoKey | null> {
    const stored = await this.#lookUp(id);
    if (!stored) return null;
    const request: KeyRequest = {
      algorithm: algorithm === undefined || algorithm === null ? undefined : normalizeAlgorithm(algorithm, "importKey"),
      extractable: typeof third === "boolean" ? third : undefined,
      usages: Array.isArray(third) ? third : fourth,
    };
    const shape = storedKeyShape(stored.attributes, request);
    const ref: KeyObjectRef = { token: this.#token, handle: stored.handle, persistent: true };
    return createCryptoKey(ref, stored.attributes.type, shape.extractable, shape.algorithm, shape.usages);
  }

  /**
   * Makes a key persistent and returns its id. A session key is copied to the token (C_CopyObject
   * with CKA_TOKEN): the copy keeps the key's CKA_ID (shared with the other half of its pair),
   * its sensitivity and non-extractability (PKCS#11 lets neither be loosened), and has exactly the
   * CryptoKey's usages; the CryptoKey given stays a session key. A key already stored gets its id
   * back (and `label`, if given, set).
   */
  async setItem(key: CryptoKey, options: { label?: string } = {}): Promise<string> {
    const ref = this.#ownKey(key, "setItem");
    if (options.label !== undefined && typeof options.label !== "string") throw new TypeError("The label must be a string");
    if (ref.persistent) {
      if (options.label !== undefined) await setAttributesOnToken(this.#token, ref.handle, [{ type: pkcs11js.CKA_LABEL, value: options.label }]);
      return (await this.indexOf(key))!;
    }
    checkPersistentUsages(key.usages);
    const changes: Template = [{ type: pkcs11js.CKA_TOKEN, value: true }];
    if (options.label !== undefined) changes.push({ type: pkcs11js.CKA_LABEL, value: options.label });
    // The copy's usage attributes are exactly the CryptoKey's, so a copy never has more.
    for (const attribute of usageAttributesOf[key.type]) {
      changes.push({ type: attribute, value: key.usages.some((usage) => usageAttribute[usage] === attribute) });
    }
    let copy;
    try {
      copy = await copyObjectOnToken(this.#token, ref.handle, changes);
    } catch (error) {
      throw operationError(`Storing the key on token "${this.#token.label}" failed`, toTokenError(error, "C_CopyObject"));
    }
    const attributes = readKeyAttributes(this.#token, copy);
    // Only the usage attributes that mean something for the class count: NSS sets CKA_DERIVE on
    // EC public keys, which grants nothing (derivation takes the private key).
    const meaningful = (Object.keys(usageAttribute) as KeyUsage[]).filter((usage) => usageAttributesOf[key.type].includes(usageAttribute[usage]));
    const widened = !attributes || !attributes.persistent || (attributes.extractable && !key.extractable) ||
      [...attributes.usages].some((usage) => meaningful.includes(usage) && !key.usages.includes(usage));
    if (widened) {
      destroyObject(this.#token, copy);
      throw operationError(`Token "${this.#token.label}" made a copy of the key that is more exposed than the key; the copy was destroyed`);
    }
    return this.#idOf(attributes, copy);
  }

  /** Destroys the stored key with this id; resolves false when there was none (as Storage.removeItem, no error). */
  async removeItem(id: string): Promise<boolean> {
    const stored = await this.#lookUp(id);
    if (!stored) return false;
    destroyObject(this.#token, stored.handle);
    return true;
  }

  /** The id of a stored key, or null for a session key (or a key of another token). */
  async indexOf(key: CryptoKey): Promise<string | null> {
    const ref = keyObjectOf(key);
    if (!ref || !ref.persistent || ref.material !== undefined || !this.#sameToken(ref)) return null;
    const attributes = readKeyAttributes(this.#token, ref.handle);
    return attributes ? this.#idOf(attributes, ref.handle) : null;
  }

  async hasItem(key: CryptoKey): Promise<boolean> {
    return (await this.indexOf(key)) !== null;
  }

  /** Sets the CKA_LABEL of the stored key with this id. */
  async setLabel(id: string, label: string): Promise<void> {
    if (typeof label !== "string") throw new TypeError("The label must be a string");
    const stored = await this.#lookUp(id);
    if (!stored) throw dataError(`No key with id ${id} is stored on token "${this.#token.label}"`);
    await setAttributesOnToken(this.#token, stored.handle, [{ type: pkcs11js.CKA_LABEL, value: label }]);
  }

  /** Destroys every persistent key on the token (every application's, not only ours). */
  async clear(): Promise<void> {
    for (const key of await findStoredKeys(this.#token, ALL_KINDS)) destroyObject(this.#token, key.handle);
  }

  async #lookUp(id: string): Promise<StoredKey | undefined> {
    if (isPkcs11Uri(id)) return this.#lookUpUri(id);
    const parsed = parseId(id);
    if (!isKeyKind(parsed.kind)) throw new TypeError(`${id} names a certificate; use certStorage`);
    const matches = await findStoredKeys(this.#token, [parsed.kind], Buffer.from(parsed.hex, "hex"));
    return matches[parsed.ordinal];
  }

  /** The one stored key an RFC 7512 URI names (object = label, id = CKA_ID, type); a DataError if several match. */
  async #lookUpUri(uri: string): Promise<StoredKey | undefined> {
    const query = objectQuery(uri, this.#token);
    const kinds = (query.kinds ?? ALL_KINDS).filter(isKeyKind);
    if (kinds.length === 0) throw new TypeError("The PKCS#11 URI names a certificate or data object; use certStorage");
    const matches = (await findStoredKeys(this.#token, kinds, query.ckaId)).filter((key) => query.label === undefined || key.attributes.label === query.label);
    return onlyMatch(matches, "keys");
  }

  async #idOf(attributes: KeyAttributes, handle: Buffer): Promise<string> {
    const matches = await findStoredKeys(this.#token, [attributes.type], attributes.ckaId);
    const match = matches.find((candidate) => candidate.handle.equals(handle));
    if (!match) throw operationError("The stored key could not be found again on the token");
    return match.id;
  }

  #ownKey(key: unknown, method: string): KeyObjectRef {
    const ref = keyObjectOf(key);
    if (!ref) throw new TypeError(`keyStorage.${method} takes a CryptoKey made by this library`);
    if (ref.material !== undefined) {
      throw notSupported(`This ${(key as CryptoKey).algorithm.name} key is held in memory, not on the token (see the README on HKDF and PBKDF2), so it cannot be stored`);
    }
    if (!this.#sameToken(ref)) throw invalidAccess(`The key belongs to another token than "${this.#token.label}"`);
    return ref;
  }

  #sameToken(ref: KeyObjectRef): boolean {
    return ref.token === this.#token || (ref.token.module === this.#token.module && ref.token.slot.equals(this.#token.slot));
  }
}

function describe(token: Token, stored: StoredKey): StoredKeyInfo {
  const { attributes } = stored;
  let shape: ReturnType<typeof storedKeyShape> | undefined;
  try {
    shape = storedKeyShape(attributes, {});
  } catch {
    // A key no Web Crypto algorithm fits is still listed: its id, type and label are useful.
  }
  return {
    id: stored.id,
    type: attributes.type,
    label: attributes.label,
    keyId: attributes.ckaId.toString("hex"),
    uri: objectUri(token, attributes.type, attributes.label, attributes.ckaId),
    algorithm: shape?.algorithm,
    usages: shape?.usages ?? [],
    extractable: attributes.extractable,
  };
}
