// jose (6.x) has no way to be handed a Crypto: every call it makes is to the global `crypto`
// (crypto.subtle.sign, crypto.getRandomValues, ...). It accepts our CryptoKey (its check is
// Symbol.toStringTag === "CryptoKey"), but Node's own subtle.sign cannot use a key that lives on a
// token (it answers OperationError), so for the duration of a jose call the global `crypto` must
// be ours. Node defines globalThis.crypto as a configurable getter, so it can be replaced and put
// back exactly. Everything else in the process sees our Crypto meanwhile: fine in a script, and a
// reason to give a server its own worker (or jose's KeyObject path) rather than swap per request.

/** Runs `body()` with `globalThis.crypto` set to `crypto`, and restores Node's own afterwards. */
export async function withGlobalCrypto(crypto, body) {
  const original = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: crypto, configurable: true, enumerable: true, writable: false });
  try {
    return await body();
  } finally {
    Object.defineProperty(globalThis, "crypto", original);
  }
}
