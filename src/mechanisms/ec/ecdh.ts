import { pkcs11js } from "../../token/pkcs11.js";
import { jwkBytes } from "../common/jwk.js";
import { requireMechanism } from "../common/token-support.js";
import type { AlgorithmProvider } from "../provider.js";
import { unwrapPoint } from "./ec-key-data.js";
import { curveOfKey, exportEcKey, generateEcKeyPair, importEcKey, type EcFamily } from "./ec-keys.js";
import { deriveBitsWith, deriveKeyWith, type AgreementFamily } from "./ecdh-derive.js";

const NAME = "ECDH";
const keys: EcFamily = {
  name: NAME,
  privateUsages: ["deriveKey", "deriveBits"],
  // An ECDH public key does nothing by itself: it is the `public` of someone else's derivation.
  publicUsages: [],
  jwkUse: "enc",
};

/** ECDH for ecdh-derive.ts: Z is field-size bytes, the peer's point goes uncompressed. */
const family: AgreementFamily = {
  name: NAME,
  secretBytes: (baseKey) => curveOfKey(baseKey).size,
  requireSupport: (token) => requireMechanism(token, pkcs11js.CKM_ECDH1_DERIVE, `${NAME} key agreement`),
  publicDataFromPoint: (point, peer) => unwrapPoint(point, curveOfKey(peer)),
  publicDataFromJwk: (jwk) => Buffer.concat([Buffer.of(4), jwkBytes(jwk, "x"), jwkBytes(jwk, "y")]),
};

/**
 * ECDH on P-256, P-384 and P-521: CKK_EC keys with CKA_DERIVE, made and held as ECDSA keys are
 * (the same curves, the same key formats through Node's crypto), and key agreement on the token
 * with CKM_ECDH1_DERIVE (ecdh-derive.ts).
 */
export const ecdhProvider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [pkcs11js.CKM_EC_KEY_PAIR_GEN],
    importKey: [],
    exportKey: [],
    deriveBits: [pkcs11js.CKM_ECDH1_DERIVE],
    deriveKey: [pkcs11js.CKM_ECDH1_DERIVE],
  },

  generateKey: (token, request) => generateEcKeyPair(token, keys, request),
  importKey: (token, format, keyData, request) => importEcKey(token, keys, format, keyData, request),
  exportKey: (format, key, ref) => exportEcKey(keys, format, key, ref),

  deriveBits(algorithm, baseKey, ref, length) {
    return deriveBitsWith(family, algorithm, baseKey, ref, length);
  },

  deriveKey(algorithm, baseKey, ref, derived) {
    return deriveKeyWith(family, algorithm, baseKey, ref, derived);
  },
};
