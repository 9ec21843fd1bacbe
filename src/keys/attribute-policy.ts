import { invalidAccess } from "../webcrypto-errors.js";

/**
 * Usage pairs that, on one persistent key, let anyone who can use the token read other keys or
 * plant keys of their choosing (Clulow 2003; Bortolozzo, Centenaro, Focardi, Steel, CCS 2010):
 *
 *   wrapKey + decrypt     wrap a sensitive (but wrappable) key, then decrypt the wrapped bytes:
 *                         its value in the clear.
 *   unwrapKey + encrypt   encrypt bytes you chose, then unwrap them: a "secret" key whose value
 *                         you know, which the token then trusts like any other.
 *
 * Web Crypto allows an AES or RSA-OAEP key with all four usages, and a session key that dies with
 * the process is allowed them as Node allows them. A persistent key outlives the caller and is
 * seen by every application of the token, so storing one with either pair is refused.
 */
const CONFLICTS: [KeyUsage, KeyUsage, string][] = [
  ["wrapKey", "decrypt", "a key that can wrap and decrypt can reveal any wrappable key on the token"],
  ["unwrapKey", "encrypt", "a key that can encrypt and unwrap can plant keys of known value on the token"],
];

export function unsafeUsagePair(usages: Iterable<KeyUsage>): string | undefined {
  const set = new Set(usages);
  for (const [first, second, why] of CONFLICTS) {
    if (set.has(first) && set.has(second)) return `"${first}" with "${second}": ${why}`;
  }
  return undefined;
}

/** Throws InvalidAccessError when usages must not be given together to a persistent key. */
export function checkPersistentUsages(usages: Iterable<KeyUsage>): void {
  const conflict = unsafeUsagePair(usages);
  if (conflict) throw invalidAccess(`A persistent key may not have ${conflict}; store separate keys for wrapping and for data`);
}
