import { pbkdf2 } from "node:crypto";
import { promisify } from "node:util";
import { pkcs11js } from "../../token/pkcs11.js";
import { operationError } from "../../webcrypto-errors.js";
import { hashInfo } from "../common/hashes.js";
import type { AlgorithmProvider } from "../provider.js";
import { deriveInNode, heldMaterial, importKdfKey, outputBytes, type KdfFamily } from "./kdf-keys.js";

const NAME = "PBKDF2";
const family: KdfFamily = {
  name: NAME,
  mechanism: pkcs11js.CKM_PKCS5_PBKD2,
  mechanismName: "CKM_PKCS5_PBKD2",
  parameters: "CK_PKCS5_PBKD2_PARAMS2",
};
const pbkdf2Async = promisify(pbkdf2);

/**
 * PBKDF2 (RFC 8018) with HMAC-SHA-1/256/384/512. Keys hold their password in JavaScript and derive
 * in Node's crypto (OpenSSL, on a worker thread): see kdf-keys.ts for why, and for what that means
 * for the keys deriveKey makes from them (those are on the token).
 */
export const pbkdf2Provider: AlgorithmProvider = {
  name: NAME,
  // Empty lists: possible on every token, since every PBKDF2 key holds its password in JavaScript
  // and derives in Node's crypto (kdf-keys.ts). A token's CKM_PKCS5_PBKD2 (NSS softokn has it)
  // goes unused: pkcs11js 2.1.7 cannot pass its parameters.
  requires: { importKey: [], deriveBits: [], deriveKey: [] },

  async importKey(token, format, keyData, request) {
    return importKdfKey(token, family, format, keyData, request);
  },

  // No deriveKey: the face derives bits here and has the target family import them on the token.
  async deriveBits(algorithm, _baseKey, ref, length) {
    // Node's order (pbkdf2DeriveBits in lib/internal/crypto/pbkdf2.js): iterations, then the
    // length, then the work, whose every failure (OpenSSL's iteration count is a signed 32-bit
    // int) is an OperationError.
    const iterations = algorithm.iterations as number;
    if (iterations === 0) throw operationError("iterations cannot be zero");
    const bytes = outputBytes(length);
    if (bytes === undefined) return new ArrayBuffer(0);
    const material = heldMaterial(family, ref);
    const hash = hashInfo(algorithm.hash).node;
    return deriveInNode(() => pbkdf2Async(material, algorithm.salt as Uint8Array, iterations, bytes, hash));
  },

  /** The spec's "get key length" for PBKDF2: null (so deriveKey into PBKDF2 fails, as in Node). */
  keyLength() {
    return null;
  },
};
