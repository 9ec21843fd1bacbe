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
