import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier as X509AlgorithmIdentifier } from "@peculiar/asn1-x509";
import type { StoredKeyInfo } from "../index.js";
import { hashName } from "./algorithm-names.js";
import { UsageError } from "./exit-codes.js";

/**
 * How a stored key signs: the Web Crypto parameters for sign/verify, the algorithm to read the
 * key with (getItem), and, for certificates and requests, the X.509 AlgorithmIdentifier and
 * the signature's encoding there.
 */
export interface SignatureScheme {
  sign: Algorithm | RsaPssParams | EcdsaParams;
  keyAlgorithm: Record<string, unknown>;
  /** Only for schemes that can sign certificates (not HMAC). */
  x509?: X509AlgorithmIdentifier;
  hashLength?: number;
}

export interface SchemeOptions {
  hash?: string;
  pss?: boolean;
  saltLength?: number;
}

const HASH_BYTES: Record<string, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
const HASH_OIDS: Record<string, string> = {
  "SHA-1": "1.3.14.3.2.26", "SHA-256": "2.16.840.1.101.3.4.2.1", "SHA-384": "2.16.840.1.101.3.4.2.2", "SHA-512": "2.16.840.1.101.3.4.2.3",
};
const ECDSA_OIDS: Record<string, string> = {
  "SHA-1": "1.2.840.10045.4.1", "SHA-256": "1.2.840.10045.4.3.2", "SHA-384": "1.2.840.10045.4.3.3", "SHA-512": "1.2.840.10045.4.3.4",
};
const RSA_PKCS1_OIDS: Record<string, string> = {
  "SHA-1": "1.2.840.113549.1.1.5", "SHA-256": "1.2.840.113549.1.1.11", "SHA-384": "1.2.840.113549.1.1.12", "SHA-512": "1.2.840.113549.1.1.13",
};
const RSA_PSS_OID = "1.2.840.113549.1.1.10";
const MGF1_OID = "1.2.840.113549.1.1.8";
const ED25519_OID = "1.3.101.112";
/** The DER NULL that RSA AlgorithmIdentifiers carry as parameters (RFC 4055). */
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;
/** ECDSA's usual pairing of curve and hash (RFC 5480 section 4). */
const CURVE_HASH: Record<string, string> = { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" };

export function signatureScheme(key: StoredKeyInfo, options: SchemeOptions): SignatureScheme {
  const algorithm = key.algorithm as (KeyAlgorithm & { namedCurve?: string; hash?: { name: string } }) | undefined;
  if (!algorithm) throw new UsageError(`${key.id} is not a key any Web Crypto algorithm can use`);
  const chosenHash = options.hash === undefined ? undefined : hashName(options.hash);
  if (options.pss && !algorithm.name.startsWith("RSA")) throw new UsageError("--pss is for RSA keys");
  switch (algorithm.name) {
    case "ECDSA": {
      const hash = chosenHash ?? CURVE_HASH[algorithm.namedCurve!] ?? "SHA-256";
      return {
        sign: { name: "ECDSA", hash },
        keyAlgorithm: { name: "ECDSA", namedCurve: algorithm.namedCurve },
        x509: new X509AlgorithmIdentifier({ algorithm: ECDSA_OIDS[hash] }),
      };
    }
    case "Ed25519":
      if (chosenHash) throw new UsageError("Ed25519 takes no --hash (it hashes with SHA-512 itself)");
      return { sign: { name: "Ed25519" }, keyAlgorithm: { name: "Ed25519" }, x509: new X509AlgorithmIdentifier({ algorithm: ED25519_OID }) };
    case "RSASSA-PKCS1-v1_5":
    case "RSA-PSS":
    case "RSA-OAEP": {
      const hash = chosenHash ?? "SHA-256";
      if (options.pss || algorithm.name === "RSA-PSS") {
        const saltLength = options.saltLength ?? HASH_BYTES[hash];
        return {
          sign: { name: "RSA-PSS", saltLength } as RsaPssParams,
          keyAlgorithm: { name: "RSA-PSS", hash },
          x509: new X509AlgorithmIdentifier({ algorithm: RSA_PSS_OID, parameters: pssParameters(hash, saltLength) }),
        };
      }
      return {
        sign: { name: "RSASSA-PKCS1-v1_5" },
        keyAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash },
        x509: new X509AlgorithmIdentifier({ algorithm: RSA_PKCS1_OIDS[hash], parameters: DER_NULL }),
      };
    }
    case "HMAC": {
      const hash = chosenHash ?? algorithm.hash?.name ?? "SHA-256";
      return { sign: { name: "HMAC" }, keyAlgorithm: { name: "HMAC", hash } };
    }
    default:
      throw new UsageError(`${key.id} is a ${algorithm.name} key, which does not sign`);
  }
}

/** RSASSA-PSS-params (RFC 4055): the hash, MGF1 with the same hash, and the salt length; trailer field default. */
function pssParameters(hash: string, saltLength: number): ArrayBuffer {
  const hashAlgorithm = AsnConvert.serialize(new X509AlgorithmIdentifier({ algorithm: HASH_OIDS[hash], parameters: DER_NULL }));
  const mgf = AsnConvert.serialize(new X509AlgorithmIdentifier({ algorithm: MGF1_OID, parameters: hashAlgorithm }));
  const fields = [tlv(0xa0, new Uint8Array(hashAlgorithm)), tlv(0xa1, new Uint8Array(mgf)), tlv(0xa2, derInteger(saltLength))];
  const der = tlv(0x30, Buffer.concat(fields));
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

function tlv(tag: number, content: Uint8Array): Buffer {
  const length = content.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

function derInteger(value: number | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === "number") {
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
  } else {
    bytes = Buffer.from(value);
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

/**
 * Web Crypto's ECDSA signature (r and s, each as long as the curve, concatenated: IEEE P1363) as
 * the DER ECDSA-Sig-Value that X.509, CMS and OpenSSL use.
 */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  return tlv(0x30, Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]));
}

/** The reverse, for `verify --der`: a DER ECDSA-Sig-Value to r||s of `size` bytes each. */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Buffer {
  const fail = () => new UsageError("the signature is not a DER ECDSA-Sig-Value");
  let offset = 0;
  const readLength = (): number => {
    const first = der[offset++];
    if (first === undefined) throw fail();
    if (first < 0x80) return first;
    const count = first & 0x7f;
    if (count === 0 || count > 2) throw fail();
    let length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[offset++] ?? 0);
    return length;
  };
  if (der[offset++] !== 0x30) throw fail();
  if (readLength() !== der.length - offset) throw fail();
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    if (der[offset++] !== 0x02) throw fail();
    const length = readLength();
    let value = Buffer.from(der.subarray(offset, offset + length));
    offset += length;
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw fail();
    parts.push(Buffer.concat([Buffer.alloc(size - value.length), value]));
  }
  if (offset !== der.length) throw fail();
  return Buffer.concat(parts);
}

/** Bytes per coordinate of each curve: the length of r and of s in a raw ECDSA signature. */
export const CURVE_BYTES: Record<string, number> = { "P-256": 32, "P-384": 48, "P-521": 66 };
