import { decryptOnToken, encryptOnToken } from "../../token/operations.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { operationError } from "../../webcrypto-errors.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../provider.js";
import { aesKeyMethods } from "./aes-key.js";

const NAME = "AES-CBC";
const USAGES: KeyUsage[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
const BLOCK = 16;

/**
 * CKM_AES_CBC_PAD is CBC with PKCS#7 padding, which is exactly Web Crypto's AES-CBC. The IV must
 * be one block; Node says OperationError otherwise.
 */
function cbcMechanism(algorithm: NormalizedAlgorithm): Mechanism {
  const iv = Buffer.from(algorithm.iv as Uint8Array);
  if (iv.length !== BLOCK) throw operationError(`algorithm.iv must contain exactly ${BLOCK} bytes`);
  return { mechanism: pkcs11js.CKM_AES_CBC_PAD, parameter: iv };
}

/** AES-CBC with the key on the token; encryption and decryption run on a worker thread. */
export const aesCbcProvider: AlgorithmProvider = {
  name: NAME,

  ...aesKeyMethods({ name: NAME, jwkSuffix: "CBC", usages: USAGES, mechanisms: { encrypt: [pkcs11js.CKM_AES_CBC_PAD], decrypt: [pkcs11js.CKM_AES_CBC_PAD], wrapKey: [pkcs11js.CKM_AES_CBC_PAD], unwrapKey: [pkcs11js.CKM_AES_CBC_PAD] } }),

  wrapMechanism(algorithm) {
    return cbcMechanism(algorithm);
  },

  async encrypt(algorithm, _key, ref, data) {
    const mechanism = cbcMechanism(algorithm);
    requireMechanism(ref.token, pkcs11js.CKM_AES_CBC_PAD, `${NAME} encryption`);
    // Padding always adds 1 to 16 bytes.
    const length = data.length + BLOCK - (data.length % BLOCK);
    return onToken(`${NAME} encryption`, async () => toArrayBuffer(await encryptOnToken(ref.token, mechanism, ref.handle, data, length)));
  },

  async decrypt(algorithm, _key, ref, data) {
    const mechanism = cbcMechanism(algorithm);
    // Padded ciphertext is whole blocks, at least one. Checked here rather than by the token:
    // SoftHSM answers an empty ciphertext with CKR_BUFFER_TOO_SMALL, whatever the buffer.
    if (data.length === 0 || data.length % BLOCK !== 0) throw operationError("The provided data is not a whole number of AES blocks");
    requireMechanism(ref.token, pkcs11js.CKM_AES_CBC_PAD, `${NAME} decryption`);
    // Bad padding is the token's error (SoftHSM: CKR_GENERAL_ERROR), so an OperationError as in Node.
    return onToken(`${NAME} decryption`, async () => toArrayBuffer(await decryptOnToken(ref.token, mechanism, ref.handle, data, data.length)));
  },
};
