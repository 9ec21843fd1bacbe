import { randomBytes } from "node:crypto";
import { pkcs11js, type Template } from "../token/pkcs11.js";
import { checkPersistentUsages } from "./attribute-policy.js";

/**
 * Where a new key lives and how it is found again: the algorithm extensions
 * `{ token: true, label, id }` accepted by generateKey and importKey.
 */
export interface KeyStorageOptions {
  /** true: a persistent token object (CKA_TOKEN). Default false: a session object. */
  token?: boolean;
  /** CKA_LABEL. */
  label?: string;
  /** CKA_ID, as bytes or a hex string. Default: 20 random bytes (one id shared by a key pair). */
  id?: BufferSource | string;
  /** CKA_ALWAYS_AUTHENTICATE on a private key: the PIN is needed again for every signature or decryption. */
  alwaysAuthenticate?: boolean;
}

/** Picks the storage extensions out of the algorithm object a caller passed (before normalization drops them). */
export function readStorageOptions(algorithm: unknown): KeyStorageOptions {
  if (typeof algorithm !== "object" || algorithm === null) return {};
  const { token, label, id, alwaysAuthenticate } = algorithm as Record<string, unknown>;
  const options: KeyStorageOptions = {};
  if (token !== undefined) options.token = Boolean(token);
  if (alwaysAuthenticate !== undefined) options.alwaysAuthenticate = Boolean(alwaysAuthenticate);
  if (label !== undefined) {
    if (typeof label !== "string") throw new TypeError("The key label must be a string");
    options.label = label;
  }
  if (id !== undefined) {
    if (typeof id !== "string" && !(id instanceof ArrayBuffer) && !ArrayBuffer.isView(id)) {
      throw new TypeError("The key id must be a hex string or a BufferSource");
    }
    options.id = id as BufferSource | string;
  }
  return options;
}

export function keyIdBytes(options: KeyStorageOptions): Buffer {
  const { id } = options;
  if (id === undefined) return randomBytes(20);
  if (typeof id === "string") {
    if (!/^([0-9a-fA-F]{2})+$/.test(id)) throw new TypeError("A key id given as a string must be hex");
    return Buffer.from(id, "hex");
  }
  return id instanceof ArrayBuffer ? Buffer.from(new Uint8Array(id)) : Buffer.from(id.buffer, id.byteOffset, id.byteLength);
}

export const usageAttribute: Record<KeyUsage, number> = {
  encrypt: pkcs11js.CKA_ENCRYPT,
  decrypt: pkcs11js.CKA_DECRYPT,
  sign: pkcs11js.CKA_SIGN,
  verify: pkcs11js.CKA_VERIFY,
  wrapKey: pkcs11js.CKA_WRAP,
  unwrapKey: pkcs11js.CKA_UNWRAP,
  deriveKey: pkcs11js.CKA_DERIVE,
  deriveBits: pkcs11js.CKA_DERIVE,
};

/** The usage attributes each object class has; every one is set, false unless a usage asks for it. */
export const usageAttributesOf: Record<KeyType, number[]> = {
  secret: [
    pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY,
    pkcs11js.CKA_WRAP, pkcs11js.CKA_UNWRAP, pkcs11js.CKA_DERIVE,
  ],
  private: [pkcs11js.CKA_SIGN, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_UNWRAP, pkcs11js.CKA_DERIVE],
  public: [pkcs11js.CKA_VERIFY, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_WRAP],
};

const classOf: Record<KeyType, number> = {
  secret: pkcs11js.CKO_SECRET_KEY,
  private: pkcs11js.CKO_PRIVATE_KEY,
  public: pkcs11js.CKO_PUBLIC_KEY,
};

export interface KeyTemplateOptions {
  type: KeyType;
  /** CKK_* */
  keyType: number;
  extractable: boolean;
  usages: readonly KeyUsage[];
  storage: KeyStorageOptions;
  id: Buffer;
}

/**
 * The algorithm-independent part of a key's template. Secret and private keys are CKA_PRIVATE
 * (the user must be logged in to use them), and `extractable: false` means CKA_SENSITIVE=true with
 * CKA_EXTRACTABLE=false, so the token itself refuses to reveal or wrap them. Usages map one to one
 * onto CKA_SIGN, CKA_DECRYPT, ...; every usage attribute the class has is set explicitly, so the
 * token's defaults never grant a usage the caller did not ask for.
 */
export function keyTemplate(options: KeyTemplateOptions): Template {
  if (options.storage.token === true) checkPersistentUsages(options.usages);
  const wanted = new Set(options.usages.map((usage) => usageAttribute[usage]));
  const template: Template = [
    { type: pkcs11js.CKA_CLASS, value: classOf[options.type] },
    { type: pkcs11js.CKA_KEY_TYPE, value: options.keyType },
    { type: pkcs11js.CKA_TOKEN, value: options.storage.token === true },
    { type: pkcs11js.CKA_ID, value: options.id },
  ];
  if (options.storage.label !== undefined) template.push({ type: pkcs11js.CKA_LABEL, value: options.storage.label });
  if (options.type === "public") {
    template.push({ type: pkcs11js.CKA_PRIVATE, value: false });
  } else {
    template.push(
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: !options.extractable },
      { type: pkcs11js.CKA_EXTRACTABLE, value: options.extractable },
    );
  }
  // Only private keys have the attribute; a secret key's uses are not gated this way in PKCS#11.
  if (options.type === "private" && options.storage.alwaysAuthenticate) {
    template.push({ type: pkcs11js.CKA_ALWAYS_AUTHENTICATE, value: true });
  }
  for (const attribute of usageAttributesOf[options.type]) {
    template.push({ type: attribute, value: wanted.has(attribute) });
  }
  return template;
}
