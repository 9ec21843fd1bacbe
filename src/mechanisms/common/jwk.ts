import { dataError } from "../../webcrypto-errors.js";

/**
 * The checks every JWK import makes before looking at key material, in Node's order and with its
 * error names: kty, use, key_ops, ext.
 */
export function checkJwkHeader(
  jwk: JsonWebKey,
  expected: { kty: string; use: "sig" | "enc"; usages: readonly KeyUsage[]; extractable: boolean },
): void {
  if (!jwk.kty) throw dataError("Invalid keyData");
  if (jwk.kty !== expected.kty) throw dataError('Invalid JWK "kty" Parameter');
  if (expected.usages.length > 0 && jwk.use !== undefined && jwk.use !== expected.use) {
    throw dataError('Invalid JWK "use" Parameter');
  }
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops)) throw dataError('Invalid JWK "key_ops" Parameter');
    if (new Set(jwk.key_ops).size !== jwk.key_ops.length) throw dataError("Duplicate key operation");
    for (const usage of expected.usages) {
      if (!jwk.key_ops.includes(usage)) throw dataError("Key operations and usage mismatch");
    }
  }
  if (jwk.ext === false && expected.extractable) throw dataError('JWK "ext" Parameter and extractable mismatch');
}

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
