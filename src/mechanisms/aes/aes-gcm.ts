import { decryptOnToken, encryptOnToken } from "../../token/operations.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { dataError, invalidAccess, notSupported, operationError } from "../../webcrypto-errors.js";
import { checkJwkAlg, checkJwkHeader, jwkBytes, jwkExportHeader } from "../common/jwk.js";
import { generateSecretKey, importSecretKey, readSecretValue, type SecretKeySpec } from "../common/secret-key.js";
import { onToken, requireKeySize, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages } from "../common/usages.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../provider.js";

const NAME = "AES-GCM";
const USAGES: KeyUsage[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
const TAG_LENGTHS = [32, 64, 96, 104, 112, 120, 128];
const spec: SecretKeySpec = { keyType: pkcs11js.CKK_AES, generator: pkcs11js.CKM_AES_KEY_GEN, name: NAME };

const keyAlgorithm = (length: number) => ({ name: NAME, length }) as AesKeyAlgorithm;

/** CK_GCM_PARAMS for one call; tag and IV lengths checked as Node checks them. */
function gcmMechanism(algorithm: NormalizedAlgorithm): { mechanism: Mechanism; tagBytes: number } {
  const tagLength = (algorithm.tagLength as number | undefined) ?? 128;
  if (!TAG_LENGTHS.includes(tagLength)) throw operationError(`${tagLength} is not a valid AES-GCM tag length`);
  const iv = Buffer.from(algorithm.iv as Uint8Array);
  // Node accepts IVs of 12 to 128 bytes. Tokens differ beyond that: SoftHSM silently uses only
  // part of a longer IV (nonce reuse), and leaves an error on the OpenSSL error queue it shares
  // with Node, which can abort Node's next WebCrypto call.
  if (iv.length < 12 || iv.length > 128) throw operationError("The operation failed for an operation-specific reason");
  const aad = algorithm.additionalData === undefined ? undefined : Buffer.from(algorithm.additionalData as Uint8Array);
  return {
    mechanism: {
      mechanism: pkcs11js.CKM_AES_GCM,
      parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad, ivBits: iv.length * 8, tagBits: tagLength } as pkcs11js.AesGCM,
    },
    tagBytes: tagLength / 8,
  };
}

/** AES-GCM with the key on the token; encryption and decryption run on a worker thread. */
export const aesGcmProvider: AlgorithmProvider = {
  name: NAME,

  async generateKey(token, request) {
    checkUsages(request.usages, USAGES, NAME);
    const length = request.algorithm.length as number;
    if (![128, 192, 256].includes(length)) throw operationError("AES key length must be 128, 192, or 256 bits");
    requireKeySize(token, spec.generator, length / 8, `${NAME} with ${length}-bit keys`);
    checkNotEmpty("secret", request.usages);
    return generateSecretKey(token, spec, length / 8, keyAlgorithm(length), request);
  },

  async importKey(token, format, keyData, request) {
    checkUsages(request.usages, USAGES, NAME);
    let value: Buffer;
    if (format === "raw") {
      value = keyData as Buffer;
      if (![16, 24, 32].includes(value.length)) throw dataError("Invalid key length");
    } else if (format === "jwk") {
      const jwk = keyData as JsonWebKey;
      checkJwkHeader(jwk, { kty: "oct", use: "enc", usages: request.usages, extractable: request.extractable });
      value = jwkBytes(jwk, "k");
      if (![16, 24, 32].includes(value.length)) throw dataError("Invalid key length");
      checkJwkAlg(jwk, `A${value.length * 8}GCM`);
    } else {
      throw notSupported(`Unable to import ${NAME} key with format ${format}`);
    }
    requireKeySize(token, spec.generator, value.length, `${NAME} with ${value.length * 8}-bit keys`);
    checkNotEmpty("secret", request.usages);
    return importSecretKey(token, spec, value, keyAlgorithm(value.length * 8), request);
  },

  keyLength(algorithm) {
    const length = algorithm.length as number;
    if (![128, 192, 256].includes(length)) throw operationError("AES key length must be 128, 192, or 256 bits");
    return length;
  },

  async exportKey(format, key, ref) {
    const value = await readSecretValue(ref, NAME);
    if (format === "raw") return toArrayBuffer(value);
    if (format === "jwk") return { ...jwkExportHeader(key), kty: "oct", k: value.toString("base64url"), alg: `A${value.length * 8}GCM` };
    throw invalidAccess(`Unable to export a ${format} ${NAME} secret key`);
  },

  async encrypt(algorithm, _key, ref, data) {
    const { mechanism, tagBytes } = gcmMechanism(algorithm);
    requireMechanism(ref.token, pkcs11js.CKM_AES_GCM, `${NAME} encryption`);
    return onToken(`${NAME} encryption`, async () =>
      toArrayBuffer(await encryptOnToken(ref.token, mechanism, ref.handle, data, data.length + tagBytes)),
    );
  },

  async decrypt(algorithm, _key, ref, data) {
    const { mechanism, tagBytes } = gcmMechanism(algorithm);
    if (data.length < tagBytes) throw operationError("The provided data is too small.");
    requireMechanism(ref.token, pkcs11js.CKM_AES_GCM, `${NAME} decryption`);
    return onToken(`${NAME} decryption`, async () =>
      toArrayBuffer(await decryptOnToken(ref.token, mechanism, ref.handle, data, data.length)),
    );
  },
};
