import { pkcs11js, type Handle } from "../token/pkcs11.js";
import { readOptionalAttributes } from "../token/object-calls.js";
import type { Token } from "../token/token.js";
import { usageAttribute, usageAttributesOf } from "../keys/key-template.js";

/** What storage needs to know about a key object, read from its attributes. */
export interface KeyAttributes {
  type: KeyType;
  /** CKK_* */
  keyType: number;
  /** CKA_ID: links a private key, its public key and its certificates. */
  ckaId: Buffer;
  label: string;
  /** CKA_TOKEN: a persistent object rather than a session object. */
  persistent: boolean;
  /** The Web Crypto usages the object's CKA_SIGN, CKA_DECRYPT, ... attributes allow. */
  usages: Set<KeyUsage>;
  /** Whether its value may leave the token: public keys always, others CKA_EXTRACTABLE and not CKA_SENSITIVE. */
  extractable: boolean;
  ecParams?: Buffer;
  modulus?: Buffer;
  publicExponent?: Buffer;
  valueLength?: number;
}

const TYPE_OF_CLASS = new Map<number, KeyType>([
  [pkcs11js.CKO_PRIVATE_KEY, "private"],
  [pkcs11js.CKO_PUBLIC_KEY, "public"],
  [pkcs11js.CKO_SECRET_KEY, "secret"],
]);

/** Each usage attribute with the Web Crypto usages it grants (CKA_DERIVE: deriveKey and deriveBits). */
const USAGE_ATTRIBUTES = [...new Set(Object.values(usageAttribute))].map(
  (attribute) => [attribute, (Object.keys(usageAttribute) as KeyUsage[]).filter((usage) => usageAttribute[usage] === attribute)] as const,
);

/**
 * What is read for each kind of key: only attributes that kind has, so that one call reads them
 * all. Except CKA_SENSITIVE and CKA_EXTRACTABLE, read one call each: NSS softokn answers
 * CKA_SENSITIVE false for a sensitive private key when it is read along with other attributes,
 * and true when read alone (seen on an RSA key stored with setItem).
 */
const COMMON = [pkcs11js.CKA_ID, pkcs11js.CKA_LABEL, pkcs11js.CKA_TOKEN];
function attributesToRead(type: KeyType, keyType: number): number[] {
  const read = [...COMMON, ...usageAttributesOf[type]];
  if (keyType === pkcs11js.CKK_RSA) read.push(pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT);
  else if (type === "secret") read.push(pkcs11js.CKA_VALUE_LEN);
  else read.push(pkcs11js.CKA_EC_PARAMS);
  return read;
}

export const ulong = (value: Buffer | undefined): number | undefined =>
  value === undefined || value.length === 0 ? undefined : Number(value.length >= 8 ? value.readBigUInt64LE(0) : value.readUInt32LE(0));
export const bool = (value: Buffer | undefined): boolean => value !== undefined && value.length > 0 && value[0] !== 0;

/** Reads a key object's attributes; undefined when the object is not a key. */
export function readKeyAttributes(token: Token, handle: Handle): KeyAttributes | undefined {
  const [objectClass, keyTypeValue] = readOptionalAttributes(token, handle, [pkcs11js.CKA_CLASS, pkcs11js.CKA_KEY_TYPE]);
  const type = TYPE_OF_CLASS.get(ulong(objectClass) ?? -1);
  const keyType = ulong(keyTypeValue);
  if (type === undefined || keyType === undefined) return undefined;
  const read = attributesToRead(type, keyType);
  const values = readOptionalAttributes(token, handle, read);
  const value = (attribute: number) => (read.includes(attribute) ? values[read.indexOf(attribute)] : undefined);
  const [extractable] = type === "public" ? [undefined] : readOptionalAttributes(token, handle, [pkcs11js.CKA_EXTRACTABLE]);
  const [sensitive] = type === "public" ? [undefined] : readOptionalAttributes(token, handle, [pkcs11js.CKA_SENSITIVE]);
  const usages = new Set<KeyUsage>();
  for (const [attribute, granted] of USAGE_ATTRIBUTES) {
    if (bool(value(attribute))) granted.forEach((usage) => usages.add(usage));
  }
  return {
    type,
    keyType,
    ckaId: value(pkcs11js.CKA_ID) ?? Buffer.alloc(0),
    label: value(pkcs11js.CKA_LABEL)?.toString("utf8") ?? "",
    persistent: bool(value(pkcs11js.CKA_TOKEN)),
    usages,
    extractable: type === "public" || (bool(extractable) && !bool(sensitive)),
    ecParams: value(pkcs11js.CKA_EC_PARAMS),
    modulus: value(pkcs11js.CKA_MODULUS),
    publicExponent: value(pkcs11js.CKA_PUBLIC_EXPONENT),
    valueLength: ulong(value(pkcs11js.CKA_VALUE_LEN)),
  };
}
