import type { Handle } from "../token/pkcs11.js";
import type { Token } from "../token/token.js";

/**
 * Destroys a session key's token object once its CryptoKey is garbage-collected, so that a server
 * making many ephemeral keys does not fill the token. (Closing the connection destroys the rest:
 * session objects die with their sessions.)
 */
const registry = new FinalizationRegistry<{ token: Token; handle: Handle; epoch: number }>(({ token, handle, epoch }) => {
  // After a reconnection the token may have given this handle's number to another object.
  if (token.closed || token.epoch !== epoch) return;
  try {
    token.module.pkcs11.C_DestroyObject(token.syncSession, handle);
  } catch {
    // The object may already be gone (token removed, session closed); nothing to do either way.
  }
});

export function forgetWhenCollected(key: object, ref: { token: Token; handle: Handle }): void {
  // Tied to the handle, not to the CryptoKey: an operation in flight holds only the handle (the
  // caller may have dropped the key as soon as the call was made), and the object must outlive
  // it; the key holds the handle (through its ref) for as long as it lives. The held value is a
  // copy, since a reference to the target itself would keep it alive. (Found by the stress run:
  // test/stress/key-lifetime.test.ts.)
  void key;
  const epoch = ref.token.epochOf(ref.handle) ?? ref.token.epoch;
  registry.register(ref.handle, { token: ref.token, handle: Buffer.from(ref.handle), epoch });
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
