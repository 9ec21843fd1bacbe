// The one import of pkcs11js. Everything that talks to a PKCS#11 module goes through src/token/,
// and src/token/ goes through here, so the native binding has a single seam.
import pkcs11js from "pkcs11js";

export { pkcs11js };
export type PKCS11 = pkcs11js.PKCS11;
/** A PKCS#11 handle (slot, session or object) as pkcs11js represents it: a CK_ULONG in a Buffer. */
export type Handle = Buffer;
export type Template = pkcs11js.Template;
export type Mechanism = pkcs11js.Mechanism;
export type TokenInfo = pkcs11js.TokenInfo;
export type MechanismInfo = pkcs11js.MechanismInfo;

/** Reads a handle buffer as an unsigned integer (CK_ULONG is 4 or 8 bytes depending on the platform). */
export function handleToBigInt(handle: Handle): bigint {
  return handle.length >= 8 ? handle.readBigUInt64LE(0) : BigInt(handle.readUInt32LE(0));
}
