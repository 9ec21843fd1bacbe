import { inspect } from "node:util";
import type { Handle } from "../token/pkcs11.js";
import type { Token } from "../token/token.js";
import { forgetWhenCollected } from "./session-key-reaper.js";

/** What a CryptoKey stands for on the token; reachable only from inside the library. */
export interface KeyObjectRef {
  readonly token: Token;
  readonly handle: Handle;
  /** A token object (CKA_TOKEN=true) outlives us; a session object is destroyed with its key. */
  readonly persistent: boolean;
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
  if (!ref.persistent) forgetWhenCollected(key, ref);
  return key as unknown as CryptoKey;
}

/** The token object behind a key of ours, or undefined for anything else. */
export function keyObjectOf(key: unknown): KeyObjectRef | undefined {
  return typeof key === "object" && key !== null ? objects.get(key) : undefined;
}

export function isOurCryptoKey(key: unknown): key is CryptoKey {
  return keyObjectOf(key) !== undefined;
}
