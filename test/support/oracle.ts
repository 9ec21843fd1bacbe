/**
 * Node's own WebCrypto is the oracle: helpers to run the same call on both and compare.
 */
import assert from "node:assert/strict";

export const native = globalThis.crypto.subtle;

/** The error name a call produces, or "ok" if it succeeds. */
export async function outcome(call: () => unknown): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

/**
 * Node 20 names a few errors differently from the Web Crypto spec; where we follow the spec, this
 * maps Node's name to the spec's so that comparisons still hold. (Node 20 says
 * "InvalidAccessException" when exporting a non-extractable key; the spec and later Node versions
 * say "InvalidAccessError".)
 */
const nodeBugs: Record<string, string> = { InvalidAccessException: "InvalidAccessError" };

/** Runs both calls and asserts they fail (or succeed) the same way; returns the common outcome. */
export async function assertSameOutcome(label: string, ours: () => unknown, theirs: () => unknown): Promise<string> {
  const [a, b] = await Promise.all([outcome(ours), outcome(theirs)]);
  assert.equal(a, nodeBugs[b] ?? b, `${label}: ours ${a}, Node's ${b}`);
  return a;
}

export function bytes(buffer: ArrayBuffer | ArrayBufferView): Buffer {
  return buffer instanceof ArrayBuffer ? Buffer.from(buffer) : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The observable parts of a CryptoKey, for deep comparison with Node's. */
export function keyShape(key: CryptoKey) {
  return {
    tag: Object.prototype.toString.call(key),
    type: key.type,
    extractable: key.extractable,
    algorithm: key.algorithm,
    usages: key.usages,
    isCryptoKey: key instanceof CryptoKey,
  };
}

export function assertSameShape(ours: CryptoKey, theirs: CryptoKey, label: string): void {
  assert.deepStrictEqual(keyShape(ours), keyShape(theirs), `${label}: key shapes differ`);
}

/** SubtleCrypto with every parameter loosened, to pass the bad arguments error tests need. */
export type Loose = { [K in keyof SubtleCrypto]: (...args: unknown[]) => Promise<unknown> };
export const loose = (subtle: unknown) => subtle as Loose;
