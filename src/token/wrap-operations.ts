import { keepAlive } from "./keep-alive.js";
import { pkcs11js, type Handle, type Mechanism, type Template } from "./pkcs11.js";
import type { Token } from "./token.js";

/**
 * C_WrapKey and C_UnwrapKey. Web Crypto wraps bytes (a key exported in some format), PKCS#11
 * wraps key objects; a generic-secret object holding the bytes joins the two: wrapping it
 * encrypts exactly its value. The temporary object lives only for the call, in a session that
 * outlives it, and is destroyed whatever happens.
 */

/**
 * A throwaway generic secret: readable, so its value can be wrapped or read back, never stored.
 * Also what ECDH's deriveBits derives Z into (src/mechanisms/ec/ecdh-derive.ts).
 */
export const scratchTemplate: Template = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: false },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
];

export function wrapBytesOnToken(
  token: Token,
  mechanism: Mechanism,
  wrappingKey: Handle,
  bytes: Buffer,
  maxLength: number,
  slow: boolean,
): Promise<Buffer> {
  return token.withObjectSession(async (session) => {
    token.assertCurrent(wrappingKey);
    const pkcs11 = token.module.pkcs11;
    const scratch = pkcs11.C_CreateObject(session, [...scratchTemplate, { type: pkcs11js.CKA_VALUE, value: bytes }]);
    try {
      const out = Buffer.allocUnsafeSlow(maxLength);
      if (!slow) return pkcs11.C_WrapKey(session, mechanism, wrappingKey, scratch, out);
      return await keepAlive([mechanism, out], () => pkcs11.C_WrapKeyAsync(session, mechanism, wrappingKey, scratch, out));
    } finally {
      pkcs11.C_DestroyObject(session, scratch);
    }
  });
}

/** Unwraps into a throwaway generic secret and reads its value: for formats JavaScript must parse. */
export function unwrapBytesOnToken(token: Token, mechanism: Mechanism, unwrappingKey: Handle, wrapped: Buffer, slow: boolean): Promise<Buffer> {
  return token.withObjectSession(async (session) => {
    token.assertCurrent(unwrappingKey);
    const pkcs11 = token.module.pkcs11;
    const scratch = slow
      ? await keepAlive([mechanism, wrapped], () => pkcs11.C_UnwrapKeyAsync(session, mechanism, unwrappingKey, wrapped, scratchTemplate))
      : pkcs11.C_UnwrapKey(session, mechanism, unwrappingKey, wrapped, scratchTemplate);
    try {
      return pkcs11.C_GetAttributeValue(session, scratch, [{ type: pkcs11js.CKA_VALUE }])[0].value;
    } finally {
      pkcs11.C_DestroyObject(session, scratch);
    }
  });
}

/** Unwraps straight into a key object made from `template`: its value never leaves the token. */
export function unwrapKeyOnToken(
  token: Token,
  mechanism: Mechanism,
  unwrappingKey: Handle,
  wrapped: Buffer,
  template: Template,
  slow: boolean,
): Promise<Handle> {
  return token.withObjectSession(async (session) => {
    // Keys from before a reconnection may name other objects now; new ones are recorded (token.ts).
    token.assertCurrent(unwrappingKey);
    const pkcs11 = token.module.pkcs11;
    if (!slow) return token.adopt(pkcs11.C_UnwrapKey(session, mechanism, unwrappingKey, wrapped, template));
    return token.adopt(await keepAlive([mechanism, wrapped, template], () => pkcs11.C_UnwrapKeyAsync(session, mechanism, unwrappingKey, wrapped, template)));
  });
}
