import { inspect } from "node:util";
import type { Handle } from "../token/pkcs11.js";
import type { Token } from "../token/token.js";
import { forgetWhenCollected, wipeWhenCollected } from "./session-key-reaper.js";

/** What a CryptoKey stands for on the token; reachable only from inside the library. */
export interface KeyObjectRef {
  readonly token: Token;
  /**
   * The key's token object. A key held in JavaScript (`material`, see createHeldSecretKey) has
   * none, and reading its handle throws, so no path can hand pkcs11js a handle that is not there.
   */
  readonly handle: Handle;
  /** A token object (CKA_TOKEN=true) outlives us; a session object is destroyed with its key. */
  readonly persistent: boolean;
  /** The key's bytes, for a key with no token object (createHeldSecretKey); undefined otherwise. */
  readonly material?: Buffer;
}

const objects = new WeakMap<object, KeyObjectRef>();

/**
 * A CryptoKey whose key material is an object on a PKCS#11 token.
 *
 * Its prototype chain includes Node's own CryptoKey.prototype, so `key instanceof CryptoKey` holds
 * for code written against globalThis.crypto (jose, pkijs); the getters below shadow Node's, which
 * would look for Node's private slots.
 */
export class Pkcs11CryptoKey {
  readonly #type: KeyType;
  readonly #extractable: boolean;
  readonly #algorithm: KeyAlgorithm;
  readonly #usages: KeyUsage[];

  /** @internal Use createCryptoKey. */
  constructor(type: KeyType, extractable: boolean, algorithm: KeyAlgorithm, usages: KeyUsage[]) {
    this.#type = type;
    this.#extractable = extractable;
    this.#algorithm = algorithm;
    this.#usages = usages;
  }

  get type(): KeyType {
    return this.#type;
  }
  get extractable(): boolean {
    return this.#extractable;
  }
  get algorithm(): KeyAlgorithm {
    return this.#algorithm;
  }
  get usages(): KeyUsage[] {
    return [...this.#usages];
  }
  get [Symbol.toStringTag](): string {
    return "CryptoKey";
  }
  [inspect.custom](depth: number, options: object): string {
    const shown = { type: this.type, extractable: this.extractable, algorithm: this.algorithm, usages: this.usages };
    return `CryptoKey ${inspect(shown, { ...options, depth })}`;
  }
}

if (typeof globalThis.CryptoKey === "function") {
  Object.setPrototypeOf(Pkcs11CryptoKey.prototype, globalThis.CryptoKey.prototype);
}

/** Usages in the canonical order the Web Crypto spec and Node report them. */
const usageOrder: KeyUsage[] = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];

export function canonicalUsages(usages: Iterable<KeyUsage>): KeyUsage[] {
  const set = new Set(usages);
  return usageOrder.filter((usage) => set.has(usage));
}

export function createCryptoKey(
  ref: KeyObjectRef,
  type: KeyType,
  extractable: boolean,
  algorithm: KeyAlgorithm,
  usages: Iterable<KeyUsage>,
): CryptoKey {
  const key = new Pkcs11CryptoKey(type, extractable, algorithm, canonicalUsages(usages));
  objects.set(key, ref);
  if (ref.material !== undefined) wipeWhenCollected(key, ref.material);
  else if (!ref.persistent) forgetWhenCollected(key, ref);
  return key as unknown as CryptoKey;
}

/**
 * A secret key whose material is held here, in JavaScript, with no token object at all. This is
 * for HKDF and PBKDF2 keys on tokens that cannot run those derivations (SoftHSM has neither
 * CKM_HKDF_DERIVE nor CKM_PKCS5_PBKD2; see src/mechanisms/kdf/): Web Crypto makes such keys only
 * from bytes the caller already holds (importKey "raw"), the derivation then runs in Node's
 * crypto, and a token object would add nothing but a copy of the password that the token would
 * have to keep readable for us to derive from it. So the bytes live only in this key's ref,
 * reachable from inside the library alone, in memory of their own (not a slice of Node's shared
 * Buffer pool), for as long as the CryptoKey: when it is garbage-collected they are overwritten
 * with zeros (session-key-reaper.ts).
 */
export function createHeldSecretKey(
  token: Token,
  material: Buffer,
  extractable: boolean,
  algorithm: KeyAlgorithm,
  usages: Iterable<KeyUsage>,
): CryptoKey {
  const held = Buffer.allocUnsafeSlow(material.length);
  material.copy(held);
  const ref: KeyObjectRef = {
    token,
    persistent: false,
    material: held,
    get handle(): Handle {
      throw new Error(`This ${algorithm.name} key has no token object: its material is held in JavaScript`);
    },
  };
  return createCryptoKey(ref, "secret", extractable, algorithm, usages);
}

/** The token object (or held material) behind a key of ours, or undefined for anything else. */
export function keyObjectOf(key: unknown): KeyObjectRef | undefined {
  return typeof key === "object" && key !== null ? objects.get(key) : undefined;
}

export function isOurCryptoKey(key: unknown): key is CryptoKey {
  return keyObjectOf(key) !== undefined;
}
