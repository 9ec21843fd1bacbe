import { dataError } from "../../webcrypto-errors.js";

/**
 * The checks every JWK import makes before looking at key material, in Node's order and with its
 * error names: kty first; then (after any family-specific checks such as the curve and the usages)
 * use, key_ops, ext.
 */
export function checkJwkHeader(
  jwk: JsonWebKey,
  expected: { kty: string; use: "sig" | "enc"; usages: readonly KeyUsage[]; extractable: boolean },
): void {
  checkJwkKty(jwk, expected.kty);
  checkJwkUse(jwk, expected);
}

export function checkJwkKty(jwk: JsonWebKey, kty: string): void {
  if (!jwk.kty) throw dataError("Invalid keyData");
  if (jwk.kty !== kty) throw dataError('Invalid JWK "kty" Parameter');
}

export function checkJwkUse(
  jwk: JsonWebKey,
  expected: { use: "sig" | "enc"; usages: readonly KeyUsage[]; extractable: boolean },
): void {
  if (expected.usages.length > 0 && jwk.use !== undefined && jwk.use !== expected.use) {
    throw dataError('Invalid JWK "use" Parameter');
  }
  if (jwk.key_ops !== undefined) {
    // Node's rule: unknown operations are skipped, a known one listed twice is an error.
    const known = jwk.key_ops.filter((op) => knownKeyOps.includes(op));
    if (new Set(known).size !== known.length) throw dataError("Duplicate key operation");
    for (const usage of expected.usages) {
      if (!jwk.key_ops.includes(usage)) throw dataError("Key operations and usage mismatch");
    }
  }
  if (jwk.ext === false && expected.extractable) throw dataError('JWK "ext" Parameter and extractable mismatch');
}

const knownKeyOps = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];

export function checkJwkAlg(jwk: JsonWebKey, expected: string): void {
  if (jwk.alg !== undefined && jwk.alg !== expected) throw dataError('JWK "alg" does not match the requested algorithm');
}

/** A base64url member of a JWK as bytes; DataError when it is missing or not a string. */
export function jwkBytes(jwk: JsonWebKey, member: keyof JsonWebKey): Buffer {
  const value = jwk[member];
  if (typeof value !== "string") throw dataError(`Invalid JWK "${String(member)}" Parameter`);
  return Buffer.from(value, "base64url");
}

/** The key_ops and ext members every exported JWK starts with. */
export function jwkExportHeader(key: CryptoKey): Pick<JsonWebKey, "key_ops" | "ext"> {
  return { key_ops: key.usages, ext: key.extractable };
}
