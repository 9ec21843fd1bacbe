import type { NormalizedAlgorithm } from "../mechanisms/provider.js";
import { notSupported } from "../webcrypto-errors.js";

/**
 * The Web Crypto spec's "normalize an algorithm": pick the registered algorithm for the operation
 * by case-insensitive name, then convert the caller's object to that algorithm's parameter
 * dictionary with WebIDL's rules. Errors follow Node's: an unknown name is NotSupportedError, a
 * missing or mistyped member is TypeError. Members not in the dictionary (including our storage
 * extensions) are dropped.
 */
export type Operation =
  | "digest" | "generateKey" | "importKey" | "sign" | "verify" | "encrypt" | "decrypt"
  | "deriveBits" | "wrapKey" | "unwrapKey" | "get key length";

type MemberType = "hash" | "BufferSource" | "octet" | "unsigned short" | "unsigned long" | "BigInteger" | "DOMString" | "CryptoKey";

interface Member {
  name: string;
  type: MemberType;
  required?: boolean;
}

interface Dictionary {
  name: string;
  members: Member[];
}

const none: Dictionary = { name: "Algorithm", members: [] };
const hashed = (name: string, extra: Member[] = []): Dictionary => ({
  name,
  members: [{ name: "hash", type: "hash", required: true }, ...extra],
});
const rsaKeyGen = hashed("RsaHashedKeyGenParams", [
  { name: "modulusLength", type: "unsigned long", required: true },
  { name: "publicExponent", type: "BigInteger", required: true },
]);
const rsaImport = hashed("RsaHashedImportParams");
const ecNamed = (name: string): Dictionary => ({ name, members: [{ name: "namedCurve", type: "DOMString", required: true }] });
const aesKeyGen: Dictionary = { name: "AesKeyGenParams", members: [{ name: "length", type: "unsigned short", required: true }] };
const aesDerived: Dictionary = { name: "AesDerivedKeyParams", members: [{ name: "length", type: "unsigned short", required: true }] };
const hmacImport = hashed("HmacImportParams", [{ name: "length", type: "unsigned long" }]);
const aesGcm: Dictionary = {
  name: "AesGcmParams",
  members: [
    { name: "iv", type: "BufferSource", required: true },
    { name: "additionalData", type: "BufferSource" },
    { name: "tagLength", type: "octet" },
  ],
};
const aesCbc: Dictionary = { name: "AesCbcParams", members: [{ name: "iv", type: "BufferSource", required: true }] };
const aesCtr: Dictionary = {
  name: "AesCtrParams",
  members: [
    { name: "counter", type: "BufferSource", required: true },
    { name: "length", type: "octet", required: true },
  ],
};
const rsaOaep: Dictionary = { name: "RsaOaepParams", members: [{ name: "label", type: "BufferSource" }] };
const ecdhDerive: Dictionary = { name: "EcdhKeyDeriveParams", members: [{ name: "public", type: "CryptoKey", required: true }] };
const ciphers = { "AES-GCM": aesGcm, "AES-CBC": aesCbc, "AES-CTR": aesCtr, "RSA-OAEP": rsaOaep };

/**
 * What each operation accepts, from the Web Crypto spec's registrations: canonical algorithm
 * name -> parameter dictionary. A name registered here but not implemented by a provider is
 * still NotSupportedError, after its parameters are checked as the spec says.
 */
const registry: Record<Operation, Record<string, Dictionary>> = {
  digest: { "SHA-1": none, "SHA-256": none, "SHA-384": none, "SHA-512": none },
  generateKey: {
    ECDSA: ecNamed("EcKeyGenParams"),
    ECDH: ecNamed("EcKeyGenParams"),
    Ed25519: none,
    X25519: none,
    "RSASSA-PKCS1-v1_5": rsaKeyGen,
    "RSA-PSS": rsaKeyGen,
    "RSA-OAEP": rsaKeyGen,
    HMAC: hashed("HmacKeyGenParams", [{ name: "length", type: "unsigned long" }]),
    "AES-GCM": aesKeyGen,
    "AES-CBC": aesKeyGen,
    "AES-CTR": aesKeyGen,
    "AES-KW": aesKeyGen,
  },
  importKey: {
    ECDSA: ecNamed("EcKeyImportParams"),
    ECDH: ecNamed("EcKeyImportParams"),
    Ed25519: none,
    X25519: none,
    "RSASSA-PKCS1-v1_5": rsaImport,
    "RSA-PSS": rsaImport,
    "RSA-OAEP": rsaImport,
    HMAC: hmacImport,
    "AES-GCM": none,
    "AES-CBC": none,
    "AES-CTR": none,
    "AES-KW": none,
    HKDF: none,
    PBKDF2: none,
  },
  sign: {
    ECDSA: hashed("EcdsaParams"),
    "RSASSA-PKCS1-v1_5": none,
    "RSA-PSS": { name: "RsaPssParams", members: [{ name: "saltLength", type: "unsigned long", required: true }] },
    HMAC: none,
    Ed25519: none,
  },
  verify: {},
  encrypt: ciphers,
  decrypt: ciphers,
  deriveBits: {
    ECDH: ecdhDerive,
    X25519: ecdhDerive,
    HKDF: hashed("HkdfParams", [
      { name: "salt", type: "BufferSource", required: true },
      { name: "info", type: "BufferSource", required: true },
    ]),
    PBKDF2: hashed("Pbkdf2Params", [
      { name: "salt", type: "BufferSource", required: true },
      { name: "iterations", type: "unsigned long", required: true },
    ]),
  },
  wrapKey: { "AES-KW": none },
  unwrapKey: { "AES-KW": none },
  "get key length": {
    "AES-GCM": aesDerived,
    "AES-CBC": aesDerived,
    "AES-CTR": aesDerived,
    "AES-KW": aesDerived,
    HMAC: hmacImport,
    HKDF: none,
    PBKDF2: none,
  },
};
registry.verify = registry.sign;

const ranges: Record<"octet" | "unsigned short" | "unsigned long", number> = {
  octet: 0xff,
  "unsigned short": 0xffff,
  "unsigned long": 0xffffffff,
};

function copyBufferSource(value: unknown, member: string, dictionary: string): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value) && !(value.buffer instanceof SharedArrayBuffer)) {
    return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  throw new TypeError(`Failed to normalize algorithm: '${member}' of '${dictionary}' is not an ArrayBuffer or ArrayBufferView`);
}

/** WebIDL [EnforceRange] integer conversion. */
function enforceRange(value: unknown, type: keyof typeof ranges, member: string, dictionary: string): number {
  const number = Number(value);
  if (!Number.isFinite(number)) {
    throw new TypeError(`Failed to normalize algorithm: '${member}' of '${dictionary}' is not a finite number`);
  }
  const integer = Math.trunc(number);
  if (integer < 0 || integer > ranges[type]) {
    throw new TypeError(
      `Failed to normalize algorithm: '${member}' of '${dictionary}' is outside the expected range of 0 to ${ranges[type]}`,
    );
  }
  return integer;
}

function convertMember(value: unknown, member: Member, dictionary: string): unknown {
  switch (member.type) {
    case "hash":
      return normalizeAlgorithm(value, "digest");
    case "BufferSource":
      return copyBufferSource(value, member.name, dictionary);
    case "CryptoKey":
      if (!(typeof globalThis.CryptoKey === "function" && value instanceof globalThis.CryptoKey)) {
        throw new TypeError(`Failed to normalize algorithm: '${member.name}' of '${dictionary}' is not a CryptoKey`);
      }
      return value;
    case "BigInteger":
      if (!(value instanceof Uint8Array)) {
        throw new TypeError(`Failed to normalize algorithm: '${member.name}' of '${dictionary}' is not a Uint8Array`);
      }
      return new Uint8Array(value);
    case "DOMString":
      return domString(value);
    default:
      return enforceRange(value, member.type, member.name, dictionary);
  }
}

/** WebIDL's DOMString conversion: like String(), except that a Symbol is a TypeError. */
function domString(value: unknown): string {
  if (typeof value === "symbol") throw new TypeError("Failed to normalize algorithm: cannot convert a Symbol to a string");
  return String(value);
}

export function normalizeAlgorithm(algorithm: unknown, operation: Operation): NormalizedAlgorithm {
  // AlgorithmIdentifier is WebIDL's (object or DOMString): anything that is not an object,
  // null and undefined included, is converted to a string and so becomes an unknown name.
  if (typeof algorithm !== "object" || algorithm === null) {
    return normalizeAlgorithm({ name: domString(algorithm) }, operation);
  }
  const given = algorithm as Record<string, unknown>;
  if (given.name === undefined) {
    throw new TypeError("Failed to normalize algorithm: 'name' is required in 'Algorithm'");
  }
  const wanted = domString(given.name).toUpperCase();
  const entries = registry[operation];
  const name = Object.keys(entries).find((candidate) => candidate.toUpperCase() === wanted);
  if (name === undefined) throw notSupported("Unrecognized algorithm name");
  const dictionary = entries[name];
  const result: NormalizedAlgorithm = { name };
  for (const member of dictionary.members) {
    const value = given[member.name];
    if (value === undefined) {
      if (member.required) {
        throw new TypeError(
          `Failed to normalize algorithm: '${member.name}' is required in '${dictionary.name}'`,
        );
      }
      continue;
    }
    result[member.name] = convertMember(value, member, dictionary.name);
  }
  return result;
}
