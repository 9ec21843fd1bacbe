import { KeyObject } from "node:crypto";
import { keyObjectOf, type KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { deriveKeyOnToken, deriveSecretOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js, type Mechanism, type Template } from "../../token/pkcs11.js";
import type { Token } from "../../token/token.js";
import { scratchTemplate } from "../../token/wrap-operations.js";
import { invalidAccess, operationError } from "../../webcrypto-errors.js";
import { wrapHandle } from "../common/new-key.js";
import { onToken, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider, NewKeyRequest, NormalizedAlgorithm } from "../provider.js";
import { derivedKeyTarget } from "./derived-secret-keys.js";

/**
 * Key agreement on the token with CKM_ECDH1_DERIVE (no KDF: CKD_NULL), for ECDH and X25519. The
 * token computes Z, the shared secret Web Crypto's deriveBits returns: the x-coordinate of the
 * shared point for the NIST curves, the u-coordinate for X25519.
 */
export interface AgreementFamily {
  name: "ECDH" | "X25519";
  /** Bytes in Z for this base key (the field size). */
  secretBytes(baseKey: CryptoKey): number;
  /** NotSupportedError, naming the mechanism, when the token cannot agree keys of this kind. */
  requireSupport(token: Token): void;
  /** The peer's public key as CK_ECDH1_DERIVE_PARAMS.pPublicData wants it: from our key's CKA_EC_POINT, */
  publicDataFromPoint(point: Buffer, peer: CryptoKey): Buffer;
  /** or from Node's JWK of Node's key. */
  publicDataFromJwk(jwk: JsonWebKey): Buffer;
}

type Derived = Parameters<Required<AlgorithmProvider>["deriveKey"]>[3];

/** Node's checks of the peer key, in its order (lib/internal/crypto/diffiehellman.js). */
function checkPeer(algorithm: NormalizedAlgorithm, baseKey: CryptoKey): CryptoKey {
  const peer = algorithm.public as CryptoKey;
  if (peer.type !== "public") throw invalidAccess("algorithm.public must be a public key");
  if (baseKey.type !== "private") throw invalidAccess("baseKey must be a private key");
  if (!["ECDH", "X25519", "X448"].includes(peer.algorithm.name)) throw invalidAccess("Keys must be ECDH, X25519, or X448 keys");
  if (peer.algorithm.name !== baseKey.algorithm.name) throw invalidAccess("The public and private keys must be of the same type");
  if (peer.algorithm.name === "ECDH" && (peer.algorithm as EcKeyAlgorithm).namedCurve !== (baseKey.algorithm as EcKeyAlgorithm).namedCurve) {
    throw invalidAccess("Named curve mismatch");
  }
  return peer;
}

/** Node's: a length longer than Z is an OperationError (its message says "too small"). */
function checkLength(length: number | null, size: number): void {
  if (length !== null && Math.ceil(length / 8) > size) throw operationError("The requested length is longer than the derived secret");
}

/**
 * The peer's public key, which may be ours (on any token: read its CKA_EC_POINT) or Node's own
 * (read through its KeyObject: public material, extractable or not).
 */
function peerPublicData(family: AgreementFamily, peer: CryptoKey): Buffer {
  const ref = keyObjectOf(peer);
  if (ref) {
    const [point] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_EC_POINT]);
    return family.publicDataFromPoint(point, peer);
  }
  let keyObject: KeyObject;
  try {
    keyObject = KeyObject.from(peer);
  } catch (error) {
    throw invalidAccess("algorithm.public is a CryptoKey of an implementation whose key material cannot be read", error);
  }
  return family.publicDataFromJwk(keyObject.export({ format: "jwk" }));
}

function agreement(publicData: Buffer): Mechanism {
  return {
    mechanism: pkcs11js.CKM_ECDH1_DERIVE,
    parameter: { type: pkcs11js.CK_PARAMS_EC_DH, kdf: pkcs11js.CKD_NULL, publicData } as pkcs11js.ECDH1,
  };
}

/** Z as a throwaway session object: readable, destroyed as soon as it is read. */
const scratchFor = (size: number): Template => [...scratchTemplate, { type: pkcs11js.CKA_VALUE_LEN, value: size }];

/**
 * Node's truncation: the first ceil(length / 8) bytes, with the bits past `length` in the last
 * byte cleared; null is the whole secret.
 */
export function truncateBits(secret: Buffer, length: number | null): Buffer {
  if (length === null) return secret;
  const bytes = Buffer.from(secret.subarray(0, Math.ceil(length / 8)));
  if (length % 8 !== 0) bytes[bytes.length - 1] &= 0xff << (8 - (length % 8));
  return bytes;
}

export async function deriveBitsWith(
  family: AgreementFamily,
  algorithm: NormalizedAlgorithm,
  baseKey: CryptoKey,
  ref: KeyObjectRef,
  length: number | null,
): Promise<ArrayBuffer> {
  const peer = checkPeer(algorithm, baseKey);
  const size = family.secretBytes(baseKey);
  checkLength(length, size);
  family.requireSupport(ref.token);
  const secret = await onToken(`${family.name} key agreement`, async () => {
    const mechanism = agreement(peerPublicData(family, peer));
    return deriveSecretOnToken(ref.token, mechanism, ref.handle, scratchFor(size));
  });
  // Some tokens (NSS) drop leading zero bytes of a secret; Z is always the field size.
  const z = secret.length < size ? Buffer.concat([Buffer.alloc(size - secret.length), secret]) : secret;
  return toArrayBuffer(truncateBits(z, length));
}

/**
 * deriveKey on the token: C_DeriveKey makes the new key itself, with the target family's key type
 * and the requested CKA_SENSITIVE / CKA_EXTRACTABLE and usages, so its value never enters
 * JavaScript. Only for a key as long as Z: PKCS#11 truncates a longer secret by dropping its
 * leading bytes ("The truncation removes bytes from the leading end of the secret value", for
 * CKM_ECDH1_DERIVE as for DH; SoftHSM does), where Web Crypto keeps them, so a shorter key made
 * by the token would not be the key Node derives. Other lengths and key types return undefined:
 * the face then derives bits and has the family import them.
 */
export async function deriveKeyWith(
  family: AgreementFamily,
  algorithm: NormalizedAlgorithm,
  baseKey: CryptoKey,
  ref: KeyObjectRef,
  { length, request }: Derived,
): Promise<CryptoKey | undefined> {
  // deriveBits's errors come before the import's, as in Node (which derives, then imports).
  const peer = checkPeer(algorithm, baseKey);
  const size = family.secretBytes(baseKey);
  checkLength(length, size);
  if (length !== size * 8) return undefined;
  const target = derivedKeyTarget(ref.token, request, size);
  if (!target) return undefined;
  family.requireSupport(ref.token);
  return onToken(`${family.name} key derivation`, async () => {
    const mechanism = agreement(peerPublicData(family, peer));
    const handle = await deriveKeyOnToken(ref.token, mechanism, ref.handle, derivedTemplate(target.keyType, size, request));
    return wrapHandle(ref.token, handle, "secret", request.extractable, target.algorithm, request.usages, request.storage);
  });
}

function derivedTemplate(keyType: number, size: number, request: NewKeyRequest): Template {
  const { extractable, usages, storage } = request;
  return [
    ...keyTemplate({ type: "secret", keyType, extractable, usages, storage, id: keyIdBytes(storage) }),
    { type: pkcs11js.CKA_VALUE_LEN, value: size },
  ];
}
