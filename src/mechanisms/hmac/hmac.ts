import { timingSafeEqual } from "node:crypto";
import { signOnToken, verifyOnToken } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { ckrOf } from "../../token/token-error.js";
import { dataError, invalidAccess, operationError } from "../../webcrypto-errors.js";
import { allHashes, hashInfo, type HashInfo } from "../common/hashes.js";
import { checkJwkAlg, checkJwkHeader, jwkBytes, jwkExportHeader } from "../common/jwk.js";
import { generateSecretKey, importSecretKey, readSecretValue, type SecretKeySpec } from "../common/secret-key.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages } from "../common/usages.js";
import type { AlgorithmProvider } from "../provider.js";
import type { Token } from "../../token/token.js";

const NAME = "HMAC";
const USAGES: KeyUsage[] = ["sign", "verify"];
/** HMAC keys are generic secrets: every token's HMAC mechanisms take CKK_GENERIC_SECRET. */
const spec: SecretKeySpec = { keyType: pkcs11js.CKK_GENERIC_SECRET, generator: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN, name: NAME };

// Node's member order (name, hash, length): JSON.stringify(key.algorithm) then reads the same.
const keyAlgorithm = (hash: HashInfo, length: number) => ({ name: NAME, hash: { name: hash.name }, length }) as HmacKeyAlgorithm;

/** The shortest key (bytes) the token's HMAC mechanism for this hash accepts (SoftHSM: the hash length). */
function shortestKey(token: Token, hash: HashInfo): number {
  return token.mechanismInfo(hash.hmac)?.minKeySize ?? 0;
}

/**
 * The bytes to store for an HMAC key. HMAC pads every key shorter than the hash's block with
 * zero bytes (RFC 2104), so a short key and the same key zero-padded give the same MACs. Tokens
 * that refuse keys shorter than the hash output (SoftHSM) get the padded form; exportKey trims
 * it back to the key's length.
 */
function tokenKeyValue(token: Token, hash: HashInfo, value: Buffer): Buffer {
  const shortest = Math.min(shortestKey(token, hash), hash.blockBits / 8);
  return value.length >= shortest ? value : Buffer.concat([value, Buffer.alloc(shortest - value.length)]);
}

/** HMAC with the key and the computation on the token (CKM_SHA256_HMAC, ...). */
export const hmacProvider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [pkcs11js.CKM_GENERIC_SECRET_KEY_GEN],
    importKey: [],
    exportKey: [],
    sign: allHashes.map((hash) => hash.hmac),
    verify: allHashes.map((hash) => hash.hmac),
  },

  async generateKey(token, request) {
    checkUsages(request.usages, USAGES, NAME);
    const hash = hashInfo(request.algorithm.hash);
    const length = (request.algorithm.length as number | undefined) ?? hash.blockBits;
    // Node's rules: zero is an OperationError, a length that is not whole bytes a TypeError.
    if (length === 0) throw operationError("The operation failed for an operation-specific reason");
    if (length % 8 !== 0) throw new TypeError(`The property 'algorithm.length' must be a multiple of 8. Received ${length}`);
    checkNotEmpty("secret", request.usages);
    const bytes = length / 8;
    if (bytes >= shortestKey(token, hash)) return generateSecretKey(token, spec, bytes, keyAlgorithm(hash, length), request);
    // Shorter than the token's HMAC takes: random bytes from the token's generator, padded (see tokenKeyValue).
    const value = Buffer.alloc(bytes);
    token.generateRandom(value);
    return importSecretKey(token, spec, tokenKeyValue(token, hash, value), keyAlgorithm(hash, length), request);
  },

  async importKey(token, format, keyData, request) {
    checkUsages(request.usages, USAGES, NAME);
    const hash = hashInfo(request.algorithm.hash);
    let value: Buffer;
    if (format === "raw") {
      value = keyData as Buffer;
    } else if (format === "jwk") {
      const jwk = keyData as JsonWebKey;
      checkJwkHeader(jwk, { kty: "oct", use: "sig", usages: request.usages, extractable: request.extractable });
      value = jwkBytes(jwk, "k");
      checkJwkAlg(jwk, `HS${hash.jwkSuffix}`);
    } else {
      throw new DOMException(`Unable to import ${NAME} key with format ${format}`, "NotSupportedError");
    }
    const bits = value.length * 8;
    const length = (request.algorithm.length as number | undefined) ?? bits;
    if (value.length === 0 || length === 0) throw dataError("Zero-length key is not supported");
    // Node accepts only a length equal to the key's (the spec would allow up to 7 bits fewer).
    if (length !== bits) throw dataError("Invalid key length");
    checkNotEmpty("secret", request.usages);
    return importSecretKey(token, spec, tokenKeyValue(token, hash, value), keyAlgorithm(hash, length), request);
  },

  keyLength(algorithm) {
    const hash = hashInfo(algorithm.hash);
    const length = (algorithm.length as number | undefined) ?? hash.blockBits;
    if (length === 0) throw operationError("Invalid key length");
    return length;
  },

  async exportKey(format, key, ref) {
    // The token may hold the key zero-padded (tokenKeyValue): the key is its first length/8 bytes.
    const stored = await readSecretValue(ref, NAME);
    const value = stored.subarray(0, (key.algorithm as HmacKeyAlgorithm).length / 8);
    if (format === "raw") return toArrayBuffer(value);
    if (format === "jwk") {
      const hash = hashInfo((key.algorithm as HmacKeyAlgorithm).hash);
      return { ...jwkExportHeader(key), kty: "oct", k: value.toString("base64url"), alg: `HS${hash.jwkSuffix}` };
    }
    throw invalidAccess(`Unable to export a ${format} ${NAME} secret key`);
  },

  async sign(_algorithm, key, ref, data) {
    const hash = hashInfo((key.algorithm as HmacKeyAlgorithm).hash);
    requireMechanism(ref.token, hash.hmac, `${NAME} with ${hash.name}`);
    return onToken(`${NAME} signing`, async () =>
      toArrayBuffer(await signOnToken(ref.token, { mechanism: hash.hmac }, ref.handle, data, hash.length)),
    );
  },

  async verify(_algorithm, key, ref, signature, data) {
    const hash = hashInfo((key.algorithm as HmacKeyAlgorithm).hash);
    requireMechanism(ref.token, hash.hmac, `${NAME} with ${hash.name}`);
    // A MAC of the wrong length is simply not valid (tokens answer CKR_SIGNATURE_LEN_RANGE).
    if (signature.length !== hash.length) return false;
    return onToken(`${NAME} verification`, async () => {
      // A key that may sign verifies by computing the MAC and comparing in constant time: tokens'
      // C_Verify for HMAC is less dependable (NSS answers a wrong MAC with CKR_DEVICE_ERROR from
      // worker threads). A verify-only key has no CKA_SIGN, so it takes C_Verify.
      if (key.usages.includes("sign")) {
        const expected = await signOnToken(ref.token, { mechanism: hash.hmac }, ref.handle, data, hash.length);
        return timingSafeEqual(expected, signature);
      }
      // NSS softokn answers every wrong MAC with CKR_DEVICE_ERROR, inline too, where Web Crypto
      // says false (pkijs's PKCS#12 MAC check with a wrong password, say). Without CKA_SIGN the MAC
      // cannot be recomputed to tell the two apart, so this answer fails closed: never true.
      return verifyOnToken(ref.token, { mechanism: hash.hmac }, ref.handle, data, signature).catch((error: unknown) => {
        if (ckrOf(error) === pkcs11js.CKR_DEVICE_ERROR) return false;
        throw error;
      });
    });
  },
};
