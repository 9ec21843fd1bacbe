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
