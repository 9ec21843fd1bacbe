// pkijs does all its cryptography through a "crypto engine": a CryptoEngine wraps any object with
// the globalThis.crypto shape, so our Crypto plugs in with no adapter. The engine is passed to
// every pkijs call that takes one, and also made pkijs's global engine, for any call made without
// one (pkijs would otherwise fall back to its default engine, Node's crypto, silently).
import * as pkijs from "pkijs";

/** Makes `crypto` pkijs's engine and returns it. */
export function usePkijsEngine(crypto) {
  const engine = new pkijs.CryptoEngine({ name: "pkcs11-webcrypto", crypto });
  pkijs.setEngine("pkcs11-webcrypto", engine);
  return engine;
}
