import { signOnToken, verifyOnToken } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { dataError, invalidAccess, operationError } from "../../webcrypto-errors.js";
import { hashInfo, type HashInfo } from "../common/hashes.js";
import { checkJwkAlg, checkJwkHeader, jwkBytes, jwkExportHeader } from "../common/jwk.js";
import { generateSecretKey, importSecretKey, readSecretValue, type SecretKeySpec } from "../common/secret-key.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages } from "../common/usages.js";
import type { AlgorithmProvider } from "../provider.js";

const NAME = "HMAC";
const USAGES: KeyUsage[] = ["sign", "verify"];
/** HMAC keys are generic secrets: every token's HMAC mechanisms take CKK_GENERIC_SECRET. */
const spec: SecretKeySpec = { keyType: pkcs11js.CKK_GENERIC_SECRET, generator: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN, name: NAME };

const keyAlgorithm = (hash: HashInfo, length: number) => ({ name: NAME, length, hash: { name: hash.name } }) as HmacKeyAlgorithm;

/** HMAC with the key and the computation on the token (CKM_SHA256_HMAC, ...). */
export const hmacProvider: AlgorithmProvider = {
  name: NAME,

  async generateKey(token, request) {
    checkUsages(request.usages, USAGES, NAME);
    const hash = hashInfo(request.algorithm.hash);
    const length = (request.algorithm.length as number | undefined) ?? hash.blockBits;
    // Node's rules: zero is an OperationError, a length that is not whole bytes a TypeError.
    if (length === 0) throw operationError("The operation failed for an operation-specific reason");
    if (length % 8 !== 0) throw new TypeError(`The property 'algorithm.length' must be a multiple of 8. Received ${length}`);
    checkNotEmpty("secret", request.usages);
    return generateSecretKey(token, spec, length / 8, keyAlgorithm(hash, length), request);
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
    if (value.length === 0) throw dataError("Zero-length key is not supported");
    const bits = value.length * 8;
    const length = (request.algorithm.length as number | undefined) ?? bits;
    if (length > bits || length <= bits - 8 || length === 0) throw dataError("Invalid key length");
    checkNotEmpty("secret", request.usages);
    return importSecretKey(token, spec, value, keyAlgorithm(hash, length), request);
  },

  async exportKey(format, key, ref) {
    const value = await readSecretValue(ref, NAME);
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
    return onToken(`${NAME} verification`, () => verifyOnToken(ref.token, { mechanism: hash.hmac }, ref.handle, data, signature));
  },
};
