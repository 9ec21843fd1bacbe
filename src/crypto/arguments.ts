import { isOurCryptoKey } from "../keys/crypto-key.js";
import { invalidAccess } from "../webcrypto-errors.js";

/**
 * WebIDL conversions of SubtleCrypto's arguments, with Node's error types: a missing argument or
 * one of the wrong type is a TypeError.
 */
export function requireArguments(args: ArrayLike<unknown>, count: number, method: string): void {
  if (args.length < count) {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${count} arguments required, but only ${args.length} present.`);
  }
}

const ordinal = (n: number) => ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th"][n - 1] ?? `${n}th`;

/** Copies a BufferSource: the spec takes the bytes at call time, and we hand them to another thread. */
export function bufferSource(value: unknown, method: string, position: number): Buffer {
  if (value instanceof ArrayBuffer) return copyOf(new Uint8Array(value));
  // WebIDL's BufferSource excludes views on a SharedArrayBuffer.
  if (ArrayBuffer.isView(value) && !(value.buffer instanceof SharedArrayBuffer)) {
    return copyOf(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  throw new TypeError(
    `Failed to execute '${method}' on 'SubtleCrypto': ${ordinal(position)} argument is not instance of ArrayBuffer, Buffer, TypedArray, or DataView.`,
  );
}

/**
 * A copy of the bytes. Small ones come from Node's shared pool; large ones get memory of their
 * own, filled with set() (a memcpy), which is faster than Buffer.from's element-wise path: this
 * copy is most of the event loop's wait on a 64 MiB operation.
 */
function copyOf(view: Uint8Array): Buffer {
  if (view.byteLength < 4096) return Buffer.from(view);
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  copy.set(view);
  return copy;
}

const jwkStringMembers = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"] as const;

/**
 * WebIDL's conversion to the JsonWebKey dictionary, as Node does it: string members become
 * strings, `ext` a boolean, `key_ops` must be a sequence (TypeError otherwise). A non-object is a
 * TypeError; a BufferSource is Node's DataError.
 */
export function jsonWebKey(value: unknown): JsonWebKey {
  // WebIDL turns null, undefined and any object without the members (a buffer, say) into an
  // empty dictionary, which then lacks kty: DataError from the family, or NotSupportedError from
  // a family that takes no JWK at all (HKDF, PBKDF2), as in Node.
  if (value === null || value === undefined || isBufferSource(value)) return {};
  if (typeof value !== "object" || value === null) {
    throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': 2nd argument is not a JsonWebKey dictionary.");
  }
  const given = value as Record<string, unknown>;
  const jwk: Record<string, unknown> = {};
  for (const member of jwkStringMembers) if (given[member] !== undefined) jwk[member] = String(given[member]);
  if (given.ext !== undefined) jwk.ext = Boolean(given.ext);
  if (given.key_ops !== undefined) {
    const ops = given.key_ops;
    if (typeof ops !== "object" || ops === null || typeof (ops as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': key_ops is not a sequence.");
    }
    jwk.key_ops = [...(ops as Iterable<unknown>)].map(String);
  }
  if (given.oth !== undefined) jwk.oth = otherPrimesInfo(given.oth);
  return jwk as JsonWebKey;
}

/**
 * `oth` is a sequence<RsaOtherPrimesInfo> in WebIDL: anything else is a TypeError at conversion,
 * before any key check (Node's too; found by fuzzing: `oth: {}` was a DataError here).
 */
function otherPrimesInfo(value: unknown): RsaOtherPrimesInfo[] {
  if (typeof value !== "object" || value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': 'oth' of 'JsonWebKey' (2nd argument) can not be converted to sequence.");
  }
  return [...(value as Iterable<unknown>)].map((item) => {
    if (item === undefined || item === null) return {};
    if (typeof item !== "object" && typeof item !== "function") {
      throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': an 'oth' member of 'JsonWebKey' (2nd argument) is not a dictionary.");
    }
    const info: Record<string, string> = {};
    for (const member of ["d", "r", "t"] as const) {
      const field = (item as Record<string, unknown>)[member];
      if (field !== undefined) info[member] = String(field);
    }
    return info as RsaOtherPrimesInfo;
  });
}

export function isBufferSource(value: unknown): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** A CryptoKey of ours. Node's own keys are CryptoKeys too, but their material is not on our token. */
export function cryptoKey(value: unknown, method: string, position: number): CryptoKey {
  if (isOurCryptoKey(value)) return value;
  if (typeof globalThis.CryptoKey === "function" && value instanceof globalThis.CryptoKey) {
    throw invalidAccess(
      `The ${ordinal(position)} argument to '${method}' is a CryptoKey of another implementation (such as Node's own); import its material into the token first`,
    );
  }
  throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${ordinal(position)} argument is not of type CryptoKey.`);
}

/**
 * WebIDL's unsigned long (deriveBits's length has no [EnforceRange]): NaN and infinities are 0,
 * other numbers are truncated and taken modulo 2^32, so -8 is 4294967288.
 */
export function unsignedLong(value: unknown): number {
  if (typeof value === "symbol" || typeof value === "bigint") throw new TypeError("Cannot convert the length to an unsigned long");
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const integer = Math.trunc(number) % 2 ** 32;
  return integer < 0 ? integer + 2 ** 32 : integer;
}

const formats = ["raw", "spki", "pkcs8", "jwk"] as const;
export type KeyFormatName = (typeof formats)[number];

export function keyFormat(value: unknown, method: string): KeyFormatName {
  if (!formats.includes(value as KeyFormatName)) {
    throw new TypeError(
      `Failed to execute '${method}' on 'SubtleCrypto': 1st argument value '${String(value)}' is not a valid enum value of type KeyFormat.`,
    );
  }
  return value as KeyFormatName;
}

const usageNames: KeyUsage[] = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];

export function keyUsages(value: unknown, method: string, position: number): KeyUsage[] {
  if (typeof value !== "object" || value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${ordinal(position)} argument is not a sequence of KeyUsage.`);
  }
  const usages = new Set<KeyUsage>();
  for (const usage of value as Iterable<unknown>) {
    if (!usageNames.includes(usage as KeyUsage)) {
      throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': '${String(usage)}' is not a valid enum value of type KeyUsage.`);
    }
    usages.add(usage as KeyUsage);
  }
  return [...usages];
}
