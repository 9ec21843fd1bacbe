import { createHeldSecretKey, type KeyObjectRef } from "../../keys/crypto-key.js";
import { TokenError } from "../../token/token-error.js";
import type { Token } from "../../token/token.js";
import { notSupported, operationError, syntaxError } from "../../webcrypto-errors.js";
import { toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages } from "../common/usages.js";
import type { KeyFormat, NewKeyRequest } from "../provider.js";

/**
 * What HKDF and PBKDF2 share: their keys, and where their derivations run.
 *
 * Web Crypto makes an HKDF or PBKDF2 key only from bytes the caller already holds: importKey
 * "raw" (a password, input keying material), or deriveKey into HKDF, which the face does by
 * deriving bits (ECDH's Z) and importing them here. So on a token that cannot derive, the key's
 * material is held in JavaScript, in the CryptoKey's private ref (createHeldSecretKey in
 * src/keys/crypto-key.ts), with no token object at all, and the derivation runs in Node's own
 * crypto. A key derived from it with deriveKey is made on the token by its family's importKey
 * (the face derives bits and imports them), with the extractability and usages asked for: a
 * non-extractable AES key derived from a password is then CKA_SENSITIVE and not CKA_EXTRACTABLE
 * like any other, though its value passed through JavaScript on the way (CKA_NEVER_EXTRACTABLE
 * is false).
 *
 * On the token, where it has the mechanism, is not possible with pkcs11js 2.1.7: CKM_HKDF_DERIVE
 * takes CK_HKDF_PARAMS and CKM_PKCS5_PBKD2 takes CK_PKCS5_PBKD2_PARAMS(2), structures of
 * pointers that pkcs11js has no parameter type for (its CK_PARAMS_PBE is CK_PBE_PARAMS, for the
 * older CKM_PBE_* mechanisms) and that a raw Buffer parameter cannot express. So imported keys
 * derive in Node's crypto on every token, NSS softokn's (which has CKM_PKCS5_PBKD2) included.
 * PKCS#11's PBKDF2 takes the password as a parameter of C_GenerateKey, not as a key object, so
 * even then a PBKDF2 key would hold its password in JavaScript.
 *
 * A key whose material exists only on the token (a token object of one of these algorithms; this
 * library makes none today) is never exported to derive in software: NotSupportedError, naming
 * the missing mechanism.
 */
export interface KdfFamily {
  name: "HKDF" | "PBKDF2";
  /** The PKCS#11 mechanism that would derive on the token, its name, and its parameter structure. */
  mechanism: number;
  mechanismName: string;
  parameters: string;
}

const USAGES: KeyUsage[] = ["deriveKey", "deriveBits"];

/**
 * importKey for HKDF and PBKDF2, with Node's checks in its order (importGenericSecretKey in
 * lib/internal/crypto/webcrypto.js): not extractable, only the derive usages, "raw" only, and
 * some usage.
 */
export function importKdfKey(
  token: Token,
  family: KdfFamily,
  format: KeyFormat,
  keyData: Buffer | JsonWebKey,
  request: NewKeyRequest,
): CryptoKey {
  try {
    const { name } = family;
    if (request.extractable) throw syntaxError(`${name} keys are not extractable`);
    checkUsages(request.usages, USAGES, name);
    if (format !== "raw") throw notSupported(`Unable to import ${name} key with format ${format}`);
    checkNotEmpty("secret", request.usages);
    const { token: persistent, label, id } = request.storage;
    if (persistent === true || label !== undefined || id !== undefined) {
      throw notSupported(
        `${name} keys cannot be token objects, labelled or given an id on token "${token.label}": ` +
          `their material is held in JavaScript, as the token cannot derive with them (${family.mechanismName})`,
      );
    }
    return createHeldSecretKey(token, keyData as Buffer, false, { name }, request.usages);
  } finally {
    // The face's own copy of the caller's bytes (for short ones, a slice of Node's shared Buffer
    // pool, which outlives the key), or the bits deriveKey derived: cleared now that the key holds
    // its own copy (or there is no key). The face reads neither after this call.
    if (Buffer.isBuffer(keyData)) keyData.fill(0);
  }
}

/**
 * Node's checks of deriveBits's length for HKDF and PBKDF2, in its order: 0 is an empty result
 * (undefined here: nothing to derive), null and lengths that are not whole bytes OperationErrors.
 * Returns the length in bytes.
 */
export function outputBytes(length: number | null): number | undefined {
  if (length === 0) return undefined;
  if (length === null) throw operationError("length cannot be null");
  if (length % 8 !== 0) throw operationError("length must be a multiple of 8");
  return length / 8;
}

/**
 * The bytes to derive from: the key's held material. A key whose material is only on the token
 * cannot be used (see above); neither can a key of a connection that was closed, as with keys on
 * the token.
 */
export function heldMaterial(family: KdfFamily, ref: KeyObjectRef): Buffer {
  const { token } = ref;
  if (token.closed) {
    const closed = new TokenError(`The connection to token "${token.label}" is closed`, { code: "CLOSED" });
    throw operationError(`${family.name} derivation failed: ${closed.message}`, closed);
  }
  if (ref.material !== undefined) return ref.material;
  const reason = token.hasMechanism(family.mechanism)
    ? `pkcs11js cannot pass ${family.parameters} to its ${family.mechanismName}`
    : `it lacks ${family.mechanismName}`;
  throw notSupported(
    `${family.name} derivation with a key held only on token "${token.label}" is not supported: ${reason} ` +
      "(and the key is never exported to derive in software)",
  );
}

/** Node's: whatever goes wrong in the derivation itself is an OperationError, with the cause kept. */
export async function deriveInNode(work: () => Promise<ArrayBuffer | Buffer>): Promise<ArrayBuffer> {
  let result: ArrayBuffer | Buffer;
  try {
    result = await work();
  } catch (error) {
    throw operationError("The operation failed for an operation-specific reason", error);
  }
  return Buffer.isBuffer(result) ? toArrayBuffer(result) : result;
}

/** PKCS#11 3.0's CKM_HKDF_DERIVE, which pkcs11js 2.1.7 has no constant for. */
export const CKM_HKDF_DERIVE = 0x0000402a;
