import { hkdf } from "node:crypto";
import { promisify } from "node:util";
import { hashInfo } from "../common/hashes.js";
import type { AlgorithmProvider } from "../provider.js";
import { CKM_HKDF_DERIVE, deriveInNode, heldMaterial, importKdfKey, outputBytes, type KdfFamily } from "./kdf-keys.js";

const NAME = "HKDF";
const family: KdfFamily = { name: NAME, mechanism: CKM_HKDF_DERIVE, mechanismName: "CKM_HKDF_DERIVE", parameters: "CK_HKDF_PARAMS" };
const hkdfAsync = promisify(hkdf);

/**
 * HKDF (RFC 5869). Keys hold their input keying material in JavaScript and derive in Node's
 * crypto (OpenSSL, on a worker thread): see kdf-keys.ts for why, and for what that means for the
 * keys deriveKey makes from them (those are on the token).
 */
export const hkdfProvider: AlgorithmProvider = {
  name: NAME,
  // Empty lists: possible on every token, since every HKDF key this library makes holds its
  // material in JavaScript and derives in Node's crypto (kdf-keys.ts). A token's CKM_HKDF_DERIVE
  // would matter only for keys held on the token, which it cannot use through pkcs11js 2.1.7.
  requires: { importKey: [], deriveBits: [], deriveKey: [] },

  async importKey(token, format, keyData, request) {
    return importKdfKey(token, family, format, keyData, request);
  },

  // No deriveKey: the face derives bits here and has the target family import them on the token.
  async deriveBits(algorithm, _baseKey, ref, length) {
    // Node's order (hkdfDeriveBits in lib/internal/crypto/hkdf.js): the length, then the work,
    // whose every failure (output over 255 hash lengths, info over 1024 bytes) is an OperationError.
    const bytes = outputBytes(length);
    if (bytes === undefined) return new ArrayBuffer(0);
    const material = heldMaterial(family, ref);
    const hash = hashInfo(algorithm.hash).node;
    return deriveInNode(() => hkdfAsync(hash, material, algorithm.salt as Uint8Array, algorithm.info as Uint8Array, bytes));
  },

  /** The spec's "get key length" for HKDF: null (deriveKey into HKDF asks for all the bits there are). */
  keyLength() {
    return null;
  },
};
