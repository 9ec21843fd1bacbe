import type { Handle } from "../token/pkcs11.js";
import type { Token } from "../token/token.js";

/**
 * Destroys a session key's token object once its CryptoKey is garbage-collected, so that a server
 * making many ephemeral keys does not fill the token. (Closing the connection destroys the rest:
 * session objects die with their sessions.)
 */
const registry = new FinalizationRegistry<{ token: Token; handle: Handle }>(({ token, handle }) => {
  if (token.closed) return;
  try {
    token.module.pkcs11.C_DestroyObject(token.syncSession, handle);
  } catch {
    // The object may already be gone (token removed, session closed); nothing to do either way.
  }
});

export function forgetWhenCollected(key: object, ref: { token: Token; handle: Handle }): void {
  registry.register(key, { token: ref.token, handle: ref.handle });
}

/**
 * Overwrites the bytes of a key held in JavaScript (createHeldSecretKey in crypto-key.ts) once its
 * CryptoKey is garbage-collected. The registry holds the bytes, never the key, and the key holds
 * them anyway, so this keeps them no longer than the key does; it only makes sure that they do
 * not linger in freed memory afterwards.
 */
const heldMaterial = new FinalizationRegistry<Buffer>((material) => {
  material.fill(0);
});

export function wipeWhenCollected(key: object, material: Buffer): void {
  heldMaterial.register(key, material);
}
