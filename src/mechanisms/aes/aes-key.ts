import { pkcs11js } from "../../token/pkcs11.js";
import { dataError, invalidAccess, notSupported, operationError } from "../../webcrypto-errors.js";
import { checkJwkAlg, checkJwkHeader, jwkBytes, jwkExportHeader } from "../common/jwk.js";
import { generateSecretKey, importSecretKey, readSecretValue, type SecretKeySpec } from "../common/secret-key.js";
import { requireKeySize, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages } from "../common/usages.js";
import type { AlgorithmProvider, NormalizedAlgorithm, OperationName } from "../provider.js";

/**
 * What the four AES algorithms (GCM, CBC, CTR, KW) share: the key itself. A key is a CKK_AES
 * object of 128, 192 or 256 bits whichever mode it is for; the modes differ only in their name,
 * the usages they allow and the JWK `alg` suffix (A128GCM, A128CBC, A128CTR, A128KW), so each
 * provider spreads the methods made here and adds its own operations.
 */
export interface AesMode {
  /** The Web Crypto name: "AES-GCM", ... */
  name: string;
  /** The end of the JWK alg: "GCM", "CBC", "CTR", "KW". */
  jwkSuffix: string;
  usages: readonly KeyUsage[];
  /** The mechanisms of the mode's own operations, for capability listings (see AlgorithmProvider.requires). */
  mechanisms: Partial<Record<OperationName, readonly number[]>>;
}

const KEY_BYTES = [16, 24, 32];

type KeyMethods = Required<Pick<AlgorithmProvider, "requires" | "generateKey" | "importKey" | "exportKey" | "keyLength">>;

/** Node's check for generateKey and "get key length": OperationError for any other length. */
function checkGenerateLength(length: number): void {
  if (![128, 192, 256].includes(length)) throw operationError("AES key length must be 128, 192, or 256 bits");
}

/** Node's check for imported material: DataError. */
function checkImportLength(value: Buffer): void {
  if (!KEY_BYTES.includes(value.length)) throw dataError("Invalid key length");
}

export function aesKeyMethods(mode: AesMode): KeyMethods {
  const spec: SecretKeySpec = { keyType: pkcs11js.CKK_AES, generator: pkcs11js.CKM_AES_KEY_GEN, name: mode.name };
  const keyAlgorithm = (length: number) => ({ name: mode.name, length }) as AesKeyAlgorithm;
  const jwkAlg = (bytes: number) => `A${bytes * 8}${mode.jwkSuffix}`;

  return {
    requires: { generateKey: [spec.generator], importKey: [], exportKey: [], ...mode.mechanisms },

    // Node's order: usages, then length, then (ours) what the token can make, then empty usages.
    async generateKey(token, request) {
      checkUsages(request.usages, mode.usages, mode.name);
      const length = request.algorithm.length as number;
      checkGenerateLength(length);
      requireKeySize(token, spec.generator, length / 8, `${mode.name} with ${length}-bit keys`);
      checkNotEmpty("secret", request.usages);
      return generateSecretKey(token, spec, length / 8, keyAlgorithm(length), request);
    },

    async importKey(token, format, keyData, request) {
      checkUsages(request.usages, mode.usages, mode.name);
      let value: Buffer;
      if (format === "raw") {
        value = keyData as Buffer;
        checkImportLength(value);
      } else if (format === "jwk") {
        const jwk = keyData as JsonWebKey;
        checkJwkHeader(jwk, { kty: "oct", use: "enc", usages: request.usages, extractable: request.extractable });
        value = jwkBytes(jwk, "k");
        checkImportLength(value);
        checkJwkAlg(jwk, jwkAlg(value.length));
      } else {
        throw notSupported(`Unable to import ${mode.name} key with format ${format}`);
      }
      requireKeySize(token, spec.generator, value.length, `${mode.name} with ${value.length * 8}-bit keys`);
      checkNotEmpty("secret", request.usages);
      return importSecretKey(token, spec, value, keyAlgorithm(value.length * 8), request);
    },

    keyLength(algorithm: NormalizedAlgorithm) {
      const length = algorithm.length as number;
      checkGenerateLength(length);
      return length;
    },

    async exportKey(format, key, ref) {
      const value = await readSecretValue(ref, mode.name);
      if (format === "raw") return toArrayBuffer(value);
      if (format === "jwk") return { ...jwkExportHeader(key), kty: "oct", k: value.toString("base64url"), alg: jwkAlg(value.length) };
      throw invalidAccess(`Unable to export a ${format} ${mode.name} secret key`);
    },
  };
}
