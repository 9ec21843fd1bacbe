import type { KeyStorageOptions } from "../keys/key-template.js";

/**
 * The parameter types of SubtleCrypto's methods, as the Web Crypto IDL (and TypeScript's own
 * lib.dom SubtleCrypto) has them, so that code written for globalThis.crypto type-checks against
 * ours unchanged: `generateKey({ name: "ECDSA", namedCurve: "P-256" }, ...)` is an EcKeyGenParams,
 * not a bare Algorithm. Algorithms that make keys also take our storage extensions
 * ({ token, label, id, alwaysAuthenticate }, see src/keys/key-template.ts).
 */
type WithStorage<T> = T & KeyStorageOptions;

export type KeyPairGenParams =
  | WithStorage<RsaHashedKeyGenParams | EcKeyGenParams | { name: "Ed25519" | "X25519" }>
  | "Ed25519"
  | "X25519";
export type SecretKeyGenParams = WithStorage<AesKeyGenParams | HmacKeyGenParams>;
export type ImportParams = AlgorithmIdentifier | WithStorage<Algorithm | RsaHashedImportParams | EcKeyImportParams | HmacImportParams | AesKeyAlgorithm>;
export type CipherParams = AlgorithmIdentifier | RsaOaepParams | AesCtrParams | AesCbcParams | AesGcmParams;
export type SignatureParams = AlgorithmIdentifier | RsaPssParams | EcdsaParams;
export type DeriveParams = AlgorithmIdentifier | EcdhKeyDeriveParams | HkdfParams | Pbkdf2Params;
export type DerivedKeyParams = AlgorithmIdentifier | WithStorage<AesDerivedKeyParams | HmacImportParams | HkdfParams | Pbkdf2Params>;
/** What storage's getItem and certStorage's importCert take to say what a key is for. */
export type KeyAlgorithmParams = AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams | HmacImportParams | AesKeyAlgorithm;
