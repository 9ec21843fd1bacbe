import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { pkcs11js, type Template } from "../../token/pkcs11.js";
import { dataError } from "../../webcrypto-errors.js";

/**
 * RSA key material in and out of the token. As for EC, Node's crypto parses and encodes SPKI,
 * PKCS#8 and JWK (so imports are validated, and exports are byte for byte Node's), and the token
 * side is the CKA_MODULUS, CKA_PUBLIC_EXPONENT, ... attributes. The JWK member names are the
 * common currency between the two.
 */
export type RsaJwkParts = { n: string; e: string; d?: string; p?: string; q?: string; dp?: string; dq?: string; qi?: string };

const privateParts: Array<[keyof RsaJwkParts, number]> = [
  ["d", pkcs11js.CKA_PRIVATE_EXPONENT],
  ["p", pkcs11js.CKA_PRIME_1],
  ["q", pkcs11js.CKA_PRIME_2],
  ["dp", pkcs11js.CKA_EXPONENT_1],
  ["dq", pkcs11js.CKA_EXPONENT_2],
  ["qi", pkcs11js.CKA_COEFFICIENT],
];

function partsOf(keyObject: KeyObject): RsaJwkParts {
  if (keyObject.asymmetricKeyType !== "rsa") throw dataError("Invalid key type");
  return keyObject.export({ format: "jwk" }) as RsaJwkParts;
}

function parse(parser: () => KeyObject): RsaJwkParts {
  let keyObject: KeyObject;
  try {
    keyObject = parser();
  } catch (error) {
    throw dataError("Invalid keyData", error);
  }
  return partsOf(keyObject);
}

export const rsaFromSpki = (spki: Buffer) => parse(() => createPublicKey({ key: spki, format: "der", type: "spki" }));
export const rsaFromPkcs8 = (pkcs8: Buffer) => parse(() => createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
export const rsaFromJwk = (jwk: JsonWebKey, isPrivate: boolean) =>
  parse(() => (isPrivate ? createPrivateKey : createPublicKey)({ key: jwk as never, format: "jwk" }));

export const rsaToSpki = (parts: RsaJwkParts) =>
  createPublicKey({ key: { kty: "RSA", n: parts.n, e: parts.e }, format: "jwk" }).export({ type: "spki", format: "der" });
export const rsaToPkcs8 = (parts: RsaJwkParts) =>
  createPrivateKey({ key: { kty: "RSA", ...parts }, format: "jwk" }).export({ type: "pkcs8", format: "der" });

const bytes = (value: string | undefined) => Buffer.from(value ?? "", "base64url");

export function rsaPublicAttributes(parts: RsaJwkParts): Template {
  return [
    { type: pkcs11js.CKA_MODULUS, value: bytes(parts.n) },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: bytes(parts.e) },
  ];
}

export function rsaPrivateAttributes(parts: RsaJwkParts): Template {
  return [...rsaPublicAttributes(parts), ...privateParts.map(([name, type]) => ({ type, value: bytes(parts[name]) }))];
}

/** The attribute types to read back for a key of this type, in the order rsaPartsFromAttributes expects. */
export function rsaAttributeTypes(type: KeyType): number[] {
  const publicTypes = [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT];
  return type === "public" ? publicTypes : [...publicTypes, ...privateParts.map(([, attribute]) => attribute)];
}

/** Big integers from the token may carry leading zero bytes; JWK and DER want them minimal. */
function minimal(value: Buffer): string {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  return value.subarray(start).toString("base64url");
}

export function rsaPartsFromAttributes(values: Buffer[]): RsaJwkParts {
  const [n, e, ...rest] = values;
  const parts: RsaJwkParts = { n: minimal(n), e: minimal(e) };
  rest.forEach((value, index) => (parts[privateParts[index][0]] = minimal(value)));
  return parts;
}

/** modulusLength and publicExponent as Web Crypto's RsaHashedKeyAlgorithm reports them. */
export function rsaAlgorithmFields(parts: RsaJwkParts): { modulusLength: number; publicExponent: Uint8Array } {
  const n = Buffer.from(parts.n, "base64url");
  if (n.length === 0) return { modulusLength: 0, publicExponent: new Uint8Array(Buffer.from(parts.e, "base64url")) };
  let modulusLength = n.length * 8;
  for (let bit = 7; bit >= 0 && !(n[0] & (1 << bit)); bit--) modulusLength--;
  return { modulusLength, publicExponent: new Uint8Array(Buffer.from(parts.e, "base64url")) };
}
