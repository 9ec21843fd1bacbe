import type { KeyObjectRef } from "../keys/crypto-key.js";
import type { KeyStorageOptions } from "../keys/key-template.js";
import type { Mechanism } from "../token/pkcs11.js";
import type { Token } from "../token/token.js";

/** An algorithm's parameters after the face has normalized them (see src/crypto/normalize.ts). */
export type NormalizedAlgorithm = { name: string } & Record<string, unknown>;

export type KeyFormat = "raw" | "spki" | "pkcs8" | "jwk";

/** What generateKey, importKey (and later deriveKey, unwrapKey) ask a family to make. */
export interface NewKeyRequest {
  algorithm: NormalizedAlgorithm;
  extractable: boolean;
  usages: KeyUsage[];
  storage: KeyStorageOptions;
}

/**
 * One Web Crypto algorithm on a PKCS#11 token. The face has already checked the argument types,
 * normalized the algorithm, and (for operations with a key) that the key is ours, of this
 * algorithm, and has the usage. Data arrives copied into a Buffer that the caller can no longer
 * change.
 */
/** Web Crypto operations, for capability listings. */
export type OperationName =
  | "digest" | "generateKey" | "importKey" | "exportKey" | "sign" | "verify" | "encrypt" | "decrypt"
  | "deriveBits" | "deriveKey" | "wrapKey" | "unwrapKey";

export interface AlgorithmProvider {
  readonly name: string;
  /**
   * The PKCS#11 mechanisms each operation needs: the operation is possible when the token has at
   * least one of them (for wrapKey/unwrapKey, with CKF_WRAP/CKF_UNWRAP). An empty list: always
   * possible (importKey, exportKey: C_CreateObject and attribute reads). Read by capability
   * listings; the operations themselves still check what they use.
   */
  readonly requires?: Partial<Record<OperationName, readonly number[]>>;
  digest?(token: Token, algorithm: NormalizedAlgorithm, data: Buffer): Promise<ArrayBuffer>;
  generateKey?(token: Token, request: NewKeyRequest): Promise<CryptoKey | CryptoKeyPair>;
  importKey?(token: Token, format: KeyFormat, keyData: Buffer | JsonWebKey, request: NewKeyRequest): Promise<CryptoKey>;
  exportKey?(format: KeyFormat, key: CryptoKey, ref: KeyObjectRef): Promise<ArrayBuffer | JsonWebKey>;
  sign?(algorithm: NormalizedAlgorithm, key: CryptoKey, ref: KeyObjectRef, data: Buffer): Promise<ArrayBuffer>;
  verify?(algorithm: NormalizedAlgorithm, key: CryptoKey, ref: KeyObjectRef, signature: Buffer, data: Buffer): Promise<boolean>;
  encrypt?(algorithm: NormalizedAlgorithm, key: CryptoKey, ref: KeyObjectRef, data: Buffer): Promise<ArrayBuffer>;
  decrypt?(algorithm: NormalizedAlgorithm, key: CryptoKey, ref: KeyObjectRef, data: Buffer): Promise<ArrayBuffer>;
  /** `length` in bits, or null where the algorithm allows it (ECDH: the whole secret). */
  deriveBits?(algorithm: NormalizedAlgorithm, baseKey: CryptoKey, ref: KeyObjectRef, length: number | null): Promise<ArrayBuffer>;
  /**
   * Derives a key on the token (C_DeriveKey), so that its bytes never enter JavaScript. Returns
   * undefined where the token cannot; the face then derives bits and imports them.
   */
  deriveKey?(
    algorithm: NormalizedAlgorithm,
    baseKey: CryptoKey,
    ref: KeyObjectRef,
    derived: { provider: AlgorithmProvider; length: number | null; request: NewKeyRequest },
  ): Promise<CryptoKey | undefined>;
  /** The spec's "get key length" for a key type that deriveKey may make (bits, or null). */
  keyLength?(algorithm: NormalizedAlgorithm): number | null;
  /**
   * The mechanism C_WrapKey/C_UnwrapKey use for this algorithm and these parameters (the key's,
   * where it matters). Wrapping itself is common code: src/mechanisms/common/wrapping.ts.
   */
  wrapMechanism?(algorithm: NormalizedAlgorithm, key: CryptoKey): Mechanism;
}
