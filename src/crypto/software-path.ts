import type { KeyObjectRef } from "../keys/crypto-key.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../mechanisms/provider.js";

/**
 * The software path for operations that involve no secret: digests, and verification or
 * encryption with a public key, done by Node's own WebCrypto (with `software: "public"`). The
 * public key's material is read from the token once, as SPKI, and kept as a Node key beside ours.
 * Private and secret keys are always used on the token.
 */
const native = globalThis.crypto.subtle;
/** Buffers that own plain ArrayBuffers, typed as Node's WebCrypto wants them. */
const view = (buffer: Buffer) => buffer as unknown as Uint8Array<ArrayBuffer>;
const nativeKeys = new WeakMap<CryptoKey, Map<KeyUsage, Promise<CryptoKey>>>();

function nativePublicKey(provider: AlgorithmProvider, key: CryptoKey, ref: KeyObjectRef, usage: KeyUsage): Promise<CryptoKey> {
  let byUsage = nativeKeys.get(key);
  if (!byUsage) nativeKeys.set(key, (byUsage = new Map()));
  let made = byUsage.get(usage);
  if (!made) {
    made = provider.exportKey!("spki", key, ref).then((spki) =>
      native.importKey("spki", spki as ArrayBuffer, key.algorithm as Algorithm, false, [usage]),
    );
    // A failure (the token object gone, say) is not remembered: the next call tries again.
    made.catch(() => byUsage!.delete(usage));
    byUsage.set(usage, made);
  }
  return made;
}

export function softwareDigest(algorithm: NormalizedAlgorithm, data: Buffer): Promise<ArrayBuffer> {
  return native.digest(algorithm.name, view(data));
}

export async function softwareVerify(
  provider: AlgorithmProvider,
  algorithm: NormalizedAlgorithm,
  key: CryptoKey,
  ref: KeyObjectRef,
  signature: Buffer,
  data: Buffer,
): Promise<boolean> {
  return native.verify(algorithm as Algorithm, await nativePublicKey(provider, key, ref, "verify"), view(signature), view(data));
}

export async function softwareEncrypt(
  provider: AlgorithmProvider,
  algorithm: NormalizedAlgorithm,
  key: CryptoKey,
  ref: KeyObjectRef,
  data: Buffer,
): Promise<ArrayBuffer> {
  return native.encrypt(algorithm as Algorithm, await nativePublicKey(provider, key, ref, "encrypt"), view(data));
}
