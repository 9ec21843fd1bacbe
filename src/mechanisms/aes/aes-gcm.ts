import { decryptOnToken, encryptOnToken } from "../../token/operations.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { operationError } from "../../webcrypto-errors.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../provider.js";
import { aesKeyMethods } from "./aes-key.js";

const NAME = "AES-GCM";
const USAGES: KeyUsage[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
const TAG_LENGTHS = [32, 64, 96, 104, 112, 120, 128];

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
      // The PKCS#11 2.40 structure, with ulIvBits: NSS misreads the older layout; SoftHSM takes both.
      parameter: { type: pkcs11js.CK_PARAMS_AES_GCM_v240, iv, aad, ivBits: iv.length * 8, tagBits: tagLength } as pkcs11js.AesGCM,
    },
    tagBytes: tagLength / 8,
  };
}

/** AES-GCM with the key on the token; encryption and decryption run on a worker thread. */
export const aesGcmProvider: AlgorithmProvider = {
  name: NAME,

  ...aesKeyMethods({ name: NAME, jwkSuffix: "GCM", usages: USAGES, mechanisms: { encrypt: [pkcs11js.CKM_AES_GCM], decrypt: [pkcs11js.CKM_AES_GCM], wrapKey: [pkcs11js.CKM_AES_GCM], unwrapKey: [pkcs11js.CKM_AES_GCM] } }),

  wrapMechanism(algorithm) {
    return gcmMechanism(algorithm).mechanism;
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
