import { createHash } from "node:crypto";
import { signOnToken, verifyOnToken } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { hashInfo } from "../common/hashes.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider } from "../provider.js";
import { curveOfKey, exportEcKey, generateEcKeyPair, importEcKey, type EcFamily } from "./ec-keys.js";

const NAME = "ECDSA";
const family: EcFamily = {
  name: NAME,
  privateUsages: ["sign"],
  publicUsages: ["verify"],
  jwkUse: "sig",
  jwkAlg: (curve) => curve.jwkAlg,
};

/**
 * ECDSA keeps the token to what only it can do: the private-key operation. The message is hashed
 * by Node (no secret is involved) and the token signs the digest with CKM_ECDSA, which nearly
 * every token has, where the hash-and-sign mechanisms (CKM_ECDSA_SHA256, ...) are often missing
 * (SoftHSM lacks them). Signatures are r || s, as PKCS#11 and Web Crypto both define them.
 */
export const ecdsaProvider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [pkcs11js.CKM_EC_KEY_PAIR_GEN],
    importKey: [],
    exportKey: [],
    sign: [pkcs11js.CKM_ECDSA],
    verify: [pkcs11js.CKM_ECDSA],
  },

  generateKey: (token, request) => generateEcKeyPair(token, family, request),
  importKey: (token, format, keyData, request) => importEcKey(token, family, format, keyData, request),
  exportKey: (format, key, ref) => exportEcKey(family, format, key, ref),

  async sign(algorithm, key, ref, data) {
    const curve = curveOfKey(key);
    requireMechanism(ref.token, pkcs11js.CKM_ECDSA, `${NAME} signing`);
    const digest = createHash(hashInfo(algorithm.hash).node).update(data).digest();
    return onToken(`${NAME} signing`, async () =>
      toArrayBuffer(await signOnToken(ref.token, { mechanism: pkcs11js.CKM_ECDSA }, ref.handle, digest, 2 * curve.size)),
    );
  },

  async verify(algorithm, key, ref, signature, data) {
    requireMechanism(ref.token, pkcs11js.CKM_ECDSA, `${NAME} verification`);
    // r || s of the curve's size, or not a signature at all (NSS answers CKR_DATA_LEN_RANGE).
    if (signature.length !== 2 * curveOfKey(key).size) return false;
    const digest = createHash(hashInfo(algorithm.hash).node).update(data).digest();
    return onToken(`${NAME} verification`, () =>
      verifyOnToken(ref.token, { mechanism: pkcs11js.CKM_ECDSA }, ref.handle, digest, signature),
    );
  },
};
