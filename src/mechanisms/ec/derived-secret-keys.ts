import type { Token } from "../../token/token.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { hashInfo } from "../common/hashes.js";
import { requireKeySize } from "../common/token-support.js";
import { checkNotEmpty, checkUsages } from "../common/usages.js";
import type { NormalizedAlgorithm, NewKeyRequest } from "../provider.js";

/**
 * The secret keys that deriveKey can have C_DeriveKey make directly: what the family's own
 * importKey("raw") would create, as a template (key type) and an algorithm object, with the checks
 * that importKey makes in its order. Anything not listed here is derived as bits and imported by
 * its family (the face's fallback).
 */
export interface DerivedKeyTarget {
  /** CKK_AES, CKK_GENERIC_SECRET. */
  keyType: number;
  /** The key's `algorithm`, as the family's importKey reports it. */
  algorithm: KeyAlgorithm;
}

const aesUsages: Record<string, readonly KeyUsage[]> = {
  "AES-GCM": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CBC": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CTR": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-KW": ["wrapKey", "unwrapKey"],
};

/**
 * The target for a derived key of `bytes` bytes, after the family's import checks (which throw as
 * importKey would); undefined where the family must import it itself.
 */
export function derivedKeyTarget(token: Token, request: NewKeyRequest, bytes: number): DerivedKeyTarget | undefined {
  const { name } = request.algorithm;
  if (name in aesUsages) {
    checkUsages(request.usages, aesUsages[name], name);
    if (![16, 24, 32].includes(bytes)) return undefined;
    requireKeySize(token, pkcs11js.CKM_AES_KEY_GEN, bytes, `${name} with ${bytes * 8}-bit keys`);
    checkNotEmpty("secret", request.usages);
    return { keyType: pkcs11js.CKK_AES, algorithm: { name, length: bytes * 8 } as AesKeyAlgorithm };
  }
  if (name === "HMAC") return hmacTarget(token, request, bytes);
  return undefined;
}

/**
 * HMAC keys are generic secrets. A key shorter than the token's HMAC mechanism takes is stored
 * zero-padded by the HMAC family (see hmac.ts); C_DeriveKey cannot pad, so such keys are left
 * to it.
 */
function hmacTarget(token: Token, request: NewKeyRequest, bytes: number): DerivedKeyTarget | undefined {
  checkUsages(request.usages, ["sign", "verify"], "HMAC");
  const hash = hashInfo((request.algorithm as NormalizedAlgorithm).hash);
  const shortest = Math.min(token.mechanismInfo(hash.hmac)?.minKeySize ?? 0, hash.blockBits / 8);
  if (bytes < shortest) return undefined;
  checkNotEmpty("secret", request.usages);
  return {
    keyType: pkcs11js.CKK_GENERIC_SECRET,
    algorithm: { name: "HMAC", length: bytes * 8, hash: { name: hash.name } } as HmacKeyAlgorithm,
  };
}
