import { curves } from "../mechanisms/ec/curves.js";
import { CKK_EC_EDWARDS, CKK_EC_MONTGOMERY, ed25519, x25519 } from "../mechanisms/ec/okp-curves.js";
import type { NormalizedAlgorithm } from "../mechanisms/provider.js";
import { pkcs11js } from "../token/pkcs11.js";
import { dataError, invalidAccess, notSupported, syntaxError } from "../webcrypto-errors.js";
import type { KeyAttributes } from "./key-attributes.js";

/**
 * From a key object's attributes to the Web Crypto algorithm and usages of its CryptoKey.
 *
 * PKCS#11 says what a key is (CKA_KEY_TYPE, curve, modulus) and what it may do (CKA_SIGN,
 * CKA_DECRYPT, ...), but not which Web Crypto algorithm it serves: an RSA key may be for
 * RSASSA-PKCS1-v1_5, RSA-PSS or RSA-OAEP with any hash, an AES key for any mode. A caller that
 * knows passes the algorithm to getItem; otherwise we pick the most common reading of what the
 * attributes allow (RSASSA-PKCS1-v1_5 with SHA-256 for an RSA signing key, ECDSA for an EC key
 * that signs, AES-GCM for an AES key that encrypts, HMAC with SHA-256 for a generic secret).
 */

const HMAC_KEY_TYPES = new Map<number, string>([
  [pkcs11js.CKK_SHA_1_HMAC, "SHA-1"],
  [pkcs11js.CKK_SHA256_HMAC, "SHA-256"],
  [pkcs11js.CKK_SHA384_HMAC, "SHA-384"],
  [pkcs11js.CKK_SHA512_HMAC, "SHA-512"],
]);

const RSA_NAMES = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
const EC_NAMES = ["ECDSA", "ECDH"];
const AES_NAMES = ["AES-GCM", "AES-CBC", "AES-CTR", "AES-KW"];

/** The usages each algorithm gives each type of key, in the spec's order. */
function algorithmUsages(name: string, type: KeyType): readonly KeyUsage[] {
  const signing = type === "private" ? ["sign"] : type === "public" ? ["verify"] : ["sign", "verify"];
  switch (name) {
    case "RSASSA-PKCS1-v1_5":
    case "RSA-PSS":
    case "ECDSA":
    case "Ed25519":
    case "HMAC":
      return signing as KeyUsage[];
    case "RSA-OAEP":
      return type === "private" ? ["decrypt", "unwrapKey"] : ["encrypt", "wrapKey"];
    case "ECDH":
    case "X25519":
      return type === "private" ? ["deriveKey", "deriveBits"] : [];
    case "AES-KW":
      return ["wrapKey", "unwrapKey"];
    default:
      return ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
  }
}

export interface StoredKeyShape {
  algorithm: KeyAlgorithm;
  usages: KeyUsage[];
  extractable: boolean;
}

/**
 * What the caller may ask of getItem: an algorithm (already normalized for importKey), usages, and
 * extractability. Each can only narrow what the object allows, never widen it.
 */
export interface KeyRequest {
  algorithm?: NormalizedAlgorithm;
  usages?: KeyUsage[];
  extractable?: boolean;
}

export function storedKeyShape(attributes: KeyAttributes, request: KeyRequest): StoredKeyShape {
  const algorithm = keyAlgorithm(attributes, request.algorithm);
  const possible = algorithmUsages(algorithm.name, attributes.type);
  const allowed = possible.filter((usage) => attributes.usages.has(usage));
  let usages = allowed;
  if (request.usages !== undefined) {
    for (const usage of request.usages) {
      if (!possible.includes(usage)) throw syntaxError(`Unsupported key usage for a ${algorithm.name} key`);
      if (!allowed.includes(usage)) {
        throw invalidAccess(`The token object does not allow "${usage}" (its attributes forbid it); usages cannot be widened`);
      }
    }
    usages = possible.filter((usage) => request.usages!.includes(usage));
  }
  if (request.extractable === true && !attributes.extractable) {
    throw invalidAccess("The token object is not extractable (CKA_SENSITIVE or not CKA_EXTRACTABLE); it cannot be made so");
  }
  return { algorithm, usages: [...usages], extractable: attributes.extractable && request.extractable !== false };
}

function keyAlgorithm(attributes: KeyAttributes, requested: NormalizedAlgorithm | undefined): KeyAlgorithm {
  const { keyType } = attributes;
  const wanted = requested?.name;
  const mismatch = (family: string) =>
    dataError(`The token object is ${family} key; it cannot be used as ${wanted}`);
  if (keyType === pkcs11js.CKK_RSA) {
    if (wanted !== undefined && !RSA_NAMES.includes(wanted)) throw mismatch("an RSA");
    return rsaAlgorithm(attributes, wanted, requested?.hash as { name: string } | undefined);
  }
  if (keyType === pkcs11js.CKK_EC) {
    if (wanted !== undefined && !EC_NAMES.includes(wanted)) throw mismatch("an EC");
    const curve = curves.find((entry) => attributes.ecParams?.equals(entry.params));
    if (!curve) throw notSupported("The token object is an EC key on a curve Web Crypto does not have (only P-256, P-384, P-521)");
    if (requested?.namedCurve !== undefined && requested.namedCurve !== curve.name) {
      throw dataError(`The token object is a ${curve.name} key, not ${String(requested.namedCurve)}`);
    }
    // A public ECDH key has no usage attribute of its own, so a public key that may not verify is read as ECDH.
    const signs = attributes.usages.has("sign") || attributes.usages.has("verify");
    const derives = attributes.usages.has("deriveBits") || attributes.type === "public";
    const name = wanted ?? (signs || !derives ? "ECDSA" : "ECDH");
    return { name, namedCurve: curve.name } as EcKeyAlgorithm;
  }
  if (keyType === CKK_EC_EDWARDS || keyType === CKK_EC_MONTGOMERY) {
    const curve = keyType === CKK_EC_EDWARDS ? ed25519 : x25519;
    if (wanted !== undefined && wanted !== curve.name) throw mismatch(`an ${curve.name}`);
    return { name: curve.name };
  }
  if (keyType === pkcs11js.CKK_AES) {
    if (wanted !== undefined && !AES_NAMES.includes(wanted)) throw mismatch("an AES");
    const length = secretLength(attributes);
    if (![128, 192, 256].includes(length)) throw dataError(`The token object is an AES key of ${length} bits, which Web Crypto cannot use`);
    const wrapsOnly = !attributes.usages.has("encrypt") && !attributes.usages.has("decrypt") && attributes.usages.has("wrapKey");
    return { name: wanted ?? (wrapsOnly ? "AES-KW" : "AES-GCM"), length } as AesKeyAlgorithm;
  }
  if (keyType === pkcs11js.CKK_GENERIC_SECRET || HMAC_KEY_TYPES.has(keyType)) {
    if (wanted !== undefined && wanted !== "HMAC") throw mismatch("an HMAC (generic secret)");
    const hash = (requested?.hash as { name: string } | undefined)?.name ?? HMAC_KEY_TYPES.get(keyType) ?? "SHA-256";
    return { name: "HMAC", hash: { name: hash }, length: secretLength(attributes) } as HmacKeyAlgorithm;
  }
  throw notSupported(`The token object's key type (CKK 0x${keyType.toString(16)}) has no Web Crypto algorithm`);
}

function rsaAlgorithm(attributes: KeyAttributes, wanted: string | undefined, hash: { name: string } | undefined): RsaHashedKeyAlgorithm {
  const modulus = attributes.modulus;
  if (!modulus) throw dataError("The token object is an RSA key without a readable CKA_MODULUS");
  const name = wanted ?? (attributes.usages.has("sign") || attributes.usages.has("verify") ? "RSASSA-PKCS1-v1_5" : "RSA-OAEP");
  const firstByte = modulus.findIndex((byte) => byte !== 0);
  const significant = firstByte < 0 ? Buffer.alloc(0) : modulus.subarray(firstByte);
  const modulusLength = significant.length === 0 ? 0 : (significant.length - 1) * 8 + (32 - Math.clz32(significant[0]));
  return {
    name,
    modulusLength,
    // Some tokens do not keep the exponent on private keys; 65537 is then by far the likeliest.
    publicExponent: new Uint8Array(attributes.publicExponent ?? [1, 0, 1]),
    hash: { name: hash?.name ?? "SHA-256" },
  };
}

function secretLength(attributes: KeyAttributes): number {
  if (attributes.valueLength === undefined || attributes.valueLength === 0) {
    throw dataError("The token object does not say its length (CKA_VALUE_LEN), so its algorithm cannot be set up");
  }
  return attributes.valueLength * 8;
}
