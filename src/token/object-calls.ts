import { pkcs11js, type Handle, type Template } from "./pkcs11.js";
import { ckrOf } from "./token-error.js";
import type { Token } from "./token.js";

/**
 * Object-management calls for the storage API (src/storage/): copying a session object to the
 * token, changing attributes, and reading attributes an object may not have. All are quick
 * single calls, so they run synchronously on an object session, as C_CreateObject does.
 */

/** C_CopyObject with the attributes to change in the copy (PKCS#11 allows only some: see the callers). */
export function copyObjectOnToken(token: Token, handle: Handle, changes: Template): Promise<Handle> {
  return token.withObjectSession((session) => token.module.pkcs11.C_CopyObject(session, handle, changes));
}

export function setAttributesOnToken(token: Token, handle: Handle, changes: Template): Promise<void> {
  return token.withObjectSession((session) => token.module.pkcs11.C_SetAttributeValue(session, handle, changes));
}

/** Return values meaning "this object has no readable value for that attribute". */
const absent = new Set([pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID, pkcs11js.CKR_ATTRIBUTE_SENSITIVE]);

/**
 * Reads attributes an object may not have (or keeps secret), undefined for those: objects other
 * tools made carry whatever attributes they chose. One call for the lot where the object has them
 * all; otherwise (the token answers CKR_ATTRIBUTE_TYPE_INVALID or _SENSITIVE for the whole call)
 * one call per attribute.
 */
export function readOptionalAttributes(token: Token, handle: Handle, types: readonly number[]): (Buffer | undefined)[] {
  const pkcs11 = token.module.pkcs11;
  try {
    return pkcs11.C_GetAttributeValue(token.syncSession, handle, types.map((type) => ({ type }))).map((attribute) => attribute.value);
  } catch (error) {
    if (!absent.has(ckrOf(error) ?? -1)) throw error;
  }
  return types.map((type) => {
    try {
      return pkcs11.C_GetAttributeValue(token.syncSession, handle, [{ type }])[0].value;
    } catch (error) {
      if (absent.has(ckrOf(error) ?? -1)) return undefined;
      throw error;
    }
  });
}
