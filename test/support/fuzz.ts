/**
 * A small seeded mutator for the fuzz tests (test/fuzz): byte-level mutations (bit flips,
 * truncation, extension, ASN.1 length and tag tweaks), JWK member mutations and string mutations
 * for PKCS#11 URIs. Every run is reproducible from its seed: FUZZ_SEED picks it (default fixed),
 * and the tests print it in their titles, so a failure can be replayed with the same inputs.
 *
 * FUZZ_ITERATIONS sets the number of mutated inputs per entry point (the CI default is a few
 * hundred; the long run takes thousands). Also here: counting the objects on a token, to show that
 * nothing a fuzzed call did was left behind.
 */
import { writeFileSync } from "node:fs";
import type { Crypto } from "../../src/index.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { tokenOf } from "./capability.js";

/** Mutated inputs per entry point: FUZZ_ITERATIONS, or `ci` by default. */
export function fuzzIterations(ci: number): number {
  const value = Number(process.env.FUZZ_ITERATIONS);
  return Number.isInteger(value) && value > 0 ? value : ci;
}

/** The seed of this run (FUZZ_SEED, default 20261123), shown in the tests' titles. */
export function fuzzSeed(): number {
  const value = Number(process.env.FUZZ_SEED);
  return Number.isInteger(value) ? value >>> 0 : 20261123;
}

/** A small fast PRNG (mulberry32): deterministic from its seed, good enough to pick mutations. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer<ArrayBuffer> {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Byte values that often sit on a parser's edge. */
const interesting = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0xff, 0x30, 0x02, 0x03, 0x04, 0x05, 0x06];

/** One DER tag-length-value found by walking the structure: where its length bytes are. */
interface Tlv {
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first length byte, and how many length bytes there are. */
  lengthOffset: number;
  lengthBytes: number;
  /** The content's length as encoded. */
  length: number;
}

/**
 * The TLVs of a DER buffer, descending into constructed values (and into BIT STRINGs and OCTET
 * STRINGs that hold DER, as SPKI and PKCS#8 nest keys). Stops quietly where the bytes stop being
 * DER: mutations of already-mutated inputs need not parse.
 */
export function derTlvs(der: Buffer, start = 0, end = der.length, found: Tlv[] = [], depth = 0): Tlv[] {
  let offset = start;
  while (offset + 2 <= end && depth < 16) {
    const tag = der[offset];
    const lengthOffset = offset + 1;
    if ((tag & 0x1f) === 0x1f) return found; // high tag numbers: not in keys
    const first = der[lengthOffset];
    let length: number;
    let lengthBytes: number;
    if (first < 0x80) {
      length = first;
      lengthBytes = 1;
    } else {
      const count = first & 0x7f;
      if (count === 0 || count > 3 || lengthOffset + 1 + count > end) return found;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + der[lengthOffset + 1 + i];
      lengthBytes = 1 + count;
    }
    const contentStart = lengthOffset + lengthBytes;
    if (contentStart + length > end) return found;
    found.push({ offset, lengthOffset, lengthBytes, length });
    const constructed = (tag & 0x20) !== 0;
    if (constructed) derTlvs(der, contentStart, contentStart + length, found, depth + 1);
    else if (tag === 0x03 && length > 1) derTlvs(der, contentStart + 1, contentStart + length, found, depth + 1);
    else if (tag === 0x04 && length > 1 && der[contentStart] === 0x30) derTlvs(der, contentStart, contentStart + length, found, depth + 1);
    offset = contentStart + length;
  }
  return found;
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Rewrites one TLV's length: off by one, zero, indefinite (0x80), too long, or non-minimal. */
function tweakAsn1Length(random: Random, der: Buffer): Buffer {
  const tlvs = derTlvs(der);
  if (tlvs.length === 0) return flipBit(random, der);
  const tlv = random.pick(tlvs);
  const choice = random.int(7);
  let encoded: Buffer;
  switch (choice) {
    case 0: encoded = encodeLength(tlv.length + 1); break;
    case 1: encoded = encodeLength(Math.max(0, tlv.length - 1)); break;
    case 2: encoded = Buffer.of(0x00); break;
    case 3: encoded = Buffer.of(0x80); break; // indefinite: not DER
    case 4: encoded = Buffer.of(0x84, 0xff, 0xff, 0xff, 0xff); break; // far past the end
    case 5: encoded = Buffer.concat([Buffer.of(0x82), Buffer.of(tlv.length >> 8, tlv.length & 0xff)]); break; // non-minimal
    default: encoded = encodeLength(random.int(0x10000)); break;
  }
  return Buffer.concat([der.subarray(0, tlv.lengthOffset), encoded, der.subarray(tlv.lengthOffset + tlv.lengthBytes)]);
}

/** Changes one TLV's tag (universal tags that keys use, or the constructed bit). */
function tweakAsn1Tag(random: Random, der: Buffer): Buffer {
  const tlvs = derTlvs(der);
  if (tlvs.length === 0) return setByte(random, der);
  const tlv = random.pick(tlvs);
  const out = Buffer.from(der);
  out[tlv.offset] = random.chance(0.3) ? out[tlv.offset] ^ 0x20 : random.pick([0x02, 0x03, 0x04, 0x05, 0x06, 0x30, 0x31, 0xa0, 0xa1]);
  return out;
}

function flipBit(random: Random, data: Buffer): Buffer {
  if (data.length === 0) return random.bytes(1);
  const out = Buffer.from(data);
  out[random.int(out.length)] ^= 1 << random.int(8);
  return out;
}

function setByte(random: Random, data: Buffer): Buffer {
  if (data.length === 0) return random.bytes(1);
  const out = Buffer.from(data);
  out[random.int(out.length)] = random.chance(0.5) ? random.pick(interesting) : random.int(256);
  return out;
}

function truncate(random: Random, data: Buffer): Buffer {
  return data.subarray(0, random.int(data.length + 1));
}

function extend(random: Random, data: Buffer): Buffer {
  return Buffer.concat([data, random.chance(0.5) ? Buffer.alloc(1 + random.int(8)) : random.bytes(1 + random.int(64))]);
}

function insertOrDelete(random: Random, data: Buffer): Buffer {
  const at = random.int(data.length + 1);
  if (random.chance(0.5)) return Buffer.concat([data.subarray(0, at), random.bytes(1 + random.int(4)), data.subarray(at)]);
  return Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + 1 + random.int(4)))]);
}

function duplicateChunk(random: Random, data: Buffer): Buffer {
  if (data.length < 2) return extend(random, data);
  const from = random.int(data.length);
  const chunk = data.subarray(from, from + 1 + random.int(16));
  const at = random.int(data.length + 1);
  return Buffer.concat([data.subarray(0, at), chunk, data.subarray(at)]);
}

export const byteMutators = { flipBit, setByte, truncate, extend, insertOrDelete, duplicateChunk, tweakAsn1Length, tweakAsn1Tag };
export type ByteMutation = keyof typeof byteMutators;

/** One to three byte mutations of `data` (never `data` itself), with their names. */
export function mutateBytes(random: Random, data: Buffer): { data: Buffer<ArrayBuffer>; applied: ByteMutation[] } {
  const names = Object.keys(byteMutators) as ByteMutation[];
  const applied: ByteMutation[] = [];
  let out = data;
  const count = 1 + (random.chance(0.7) ? 0 : random.int(3));
  for (let i = 0; i < count; i++) {
    const name = random.pick(names);
    applied.push(name);
    out = byteMutators[name](random, out);
  }
  return { data: Buffer.from(out), applied };
}

/** Values of other types, and edge strings, for a JWK member. */
function strangeValue(random: Random): unknown {
  return random.pick<unknown>([
    "", " ", "=", "AA==", "A", "AAAA", "====", "!!", "\u00e9", "a".repeat(2000), 0, -1, 1e308, NaN, true, false, null, {}, [], ["x"],
    { toString: () => "AQAB" },
  ]);
}

/** A base64url string with its decoded bytes mutated, or the string itself bent. */
function mutateBase64url(random: Random, value: string): string {
  switch (random.int(5)) {
    case 0:
      return mutateBytes(random, Buffer.from(value, "base64url")).data.toString("base64url");
    case 1:
      return value.slice(0, random.int(value.length + 1));
    case 2: {
      const at = random.int(value.length + 1);
      return value.slice(0, at) + random.pick(["+", "/", "=", " ", "\n", ".", "%", "\u0000", "\u00ff", "AA"]) + value.slice(at);
    }
    case 3:
      // Standard base64 with padding: Node's base64url decoding reads it too.
      return Buffer.from(value, "base64url").toString("base64");
    default:
      return Buffer.concat([Buffer.alloc(1 + random.int(3)), Buffer.from(value, "base64url")]).toString("base64url"); // leading zeros
  }
}

const jwkEnumValues: Record<string, readonly string[]> = {
  kty: ["EC", "RSA", "OKP", "oct", "ec", ""],
  crv: ["P-256", "P-384", "P-521", "Ed25519", "X25519", "secp256k1", "Ed448"],
  alg: ["ES256", "ES384", "ES512", "RS256", "RS1", "PS256", "RSA-OAEP", "RSA-OAEP-256", "HS256", "HS512", "A128GCM", "A256KW", "EdDSA", "none"],
  use: ["sig", "enc", "wrap", ""],
};
const keyOpsChoices = ["sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits", "frobnicate"];

/** One to three mutations of a JWK's members, on a deep copy. */
export function mutateJwk(random: Random, jwk: JsonWebKey): { jwk: Record<string, unknown>; applied: string[] } {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(jwk));
  const applied: string[] = [];
  const count = 1 + (random.chance(0.6) ? 0 : random.int(3));
  for (let i = 0; i < count; i++) {
    const members = Object.keys(out);
    const member = members.length > 0 ? random.pick(members) : "kty";
    const choice = random.int(9);
    applied.push(`${member}:${choice}`);
    switch (choice) {
      case 0:
        delete out[member];
        break;
      case 1:
        out[member] = strangeValue(random);
        break;
      case 2:
        if (typeof out[member] === "string" && !(member in jwkEnumValues)) out[member] = mutateBase64url(random, out[member] as string);
        else out[member] = mutateBase64url(random, "AQAB");
        break;
      case 3: {
        const enumMember = random.pick(Object.keys(jwkEnumValues));
        out[enumMember] = random.pick(jwkEnumValues[enumMember]);
        break;
      }
      case 4: {
        const ops: string[] = [];
        for (let n = random.int(4); n > 0; n--) ops.push(random.pick(keyOpsChoices));
        out.key_ops = random.chance(0.1) ? "sign" : ops;
        break;
      }
      case 5:
        out.ext = random.chance(0.2) ? "false" : !(out.ext ?? true);
        break;
      case 6: {
        // Swap two members' values (x and y, d and x, n and e, ...).
        const other = random.pick(members.length > 0 ? members : ["kty"]);
        [out[member], out[other]] = [out[other], out[member]];
        break;
      }
      case 7:
        out[random.pick(["oth", "x5c", "kid", "k", "d", "p", "dp"])] = strangeValue(random);
        break;
      default:
        if (typeof out[member] === "string") out[member] = mutateBase64url(random, out[member] as string);
        break;
    }
  }
  return { jwk: out, applied };
}

const uriAlphabet = ["a", "Z", "0", "9", ";", "?", "&", "=", "%", "%2", "%zz", "%00", "%41", "/", ":", " ", "\u00e9", "\u0000", "-", "x-", "pkcs11:", "slot-id=", "pin-value=", "module-path=", "token=", "\\"];

/** One to three character-level mutations of a string (a PKCS#11 URI), biased toward its delimiters. */
export function mutateString(random: Random, value: string): string {
  let out = value;
  const count = 1 + random.int(3);
  for (let i = 0; i < count; i++) {
    const at = random.int(out.length + 1);
    switch (random.int(6)) {
      case 0:
        out = out.slice(0, at) + random.pick(uriAlphabet) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + random.int(8));
        break;
      case 2:
        out = out.slice(0, at);
        break;
      case 3: {
        const from = random.int(out.length);
        out = out.slice(0, at) + out.slice(from, from + 1 + random.int(20)) + out.slice(at);
        break;
      }
      case 4:
        out = random.chance(0.5) ? out.toUpperCase() : out.slice(0, at) + out.slice(at, at + 5).toUpperCase() + out.slice(at + 5);
        break;
      default:
        out = out.replace(random.pick([";", "&", "=", "?", "%"]), random.pick(["", ";", "&", "=", "?", "%", "%%"]));
        break;
    }
  }
  return out;
}

/** A promise that rejects if `work` takes longer than `ms`: a hang is a finding, not a stuck run. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Every object on the token that this process can see (token objects, and the session objects of
 * every session of this process: PKCS#11 shows an application all its session objects), counted
 * in a session of its own with C_FindObjects over an empty template.
 */
export async function countTokenObjects(crypto: Crypto): Promise<number> {
  const token = await tokenOf(crypto);
  const pkcs11 = token.module.pkcs11;
  const session = pkcs11.C_OpenSession(token.slot, pkcs11js.CKF_SERIAL_SESSION);
  try {
    pkcs11.C_FindObjectsInit(session, []);
    let count = 0;
    for (;;) {
      const batch = pkcs11.C_FindObjects(session, 1024);
      count += batch.length;
      if (batch.length < 1024) break;
    }
    pkcs11.C_FindObjectsFinal(session);
    return count;
  } finally {
    pkcs11.C_CloseSession(session);
  }
}

/**
 * The object count once dropped keys are gone: forces collection (run mocha with --expose-gc)
 * and lets the FinalizationRegistry callbacks that destroy session keys run (they are tasks of
 * their own), until two readings agree.
 */
export async function settledObjectCount(crypto: Crypto): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("Run with --expose-gc (the mocha command in the developer guide does)");
  let previous = -1;
  for (let round = 0; round < 20; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const count = await countTokenObjects(crypto);
    if (count === previous) return count;
    previous = count;
  }
  return previous;
}

/** Error names a Web Crypto call may give for bad input (what Node gives, and the spec). */
export const SPEC_ERRORS = new Set(["DataError", "TypeError", "SyntaxError", "NotSupportedError", "OperationError", "InvalidAccessError"]);

/** How one input came out on one side: "ok" or the error's name, with the error for messages. */
export interface Outcome {
  name: string;
  error?: unknown;
  value?: unknown;
}

export async function settle(call: () => Promise<unknown>, ms: number, what: string): Promise<Outcome> {
  try {
    return { name: "ok", value: await withTimeout(Promise.resolve().then(call), ms, what) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith(`${what}: no answer`)) return { name: "HANG", error };
    return { name: (error as Error)?.name ?? typeof error, error };
  }
}

/** Counts of outcomes and the disagreements found, for one entry point. */
export class FuzzTally {
  readonly outcomes = new Map<string, number>();
  readonly findings: string[] = [];
  /** Disagreements with Node that are documented differences, by reason. */
  readonly known = new Map<string, number>();
  inputs = 0;
  private readonly started = Date.now();

  count(name: string): void {
    this.inputs++;
    this.outcomes.set(name, (this.outcomes.get(name) ?? 0) + 1);
  }

  finding(text: string): void {
    this.findings.push(text);
  }

  knownDifference(reason: string): void {
    this.known.set(reason, (this.known.get(reason) ?? 0) + 1);
  }

  /** "300 inputs in 1.2 s: ok 12, DataError 288" */
  summary(): string {
    const parts = [...this.outcomes].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`);
    const known = [...this.known].map(([reason, n]) => `${n} known differences from Node (${reason})`);
    return `${this.inputs} inputs in ${((Date.now() - this.started) / 1000).toFixed(1)} s: ${[...parts, ...known].join(", ")}`;
  }
}

/** A short printable form of an input, for a finding's message. */
export function describeInput(input: unknown): string {
  if (Buffer.isBuffer(input)) return `hex ${input.toString("hex").slice(0, 160)}${input.length > 80 ? "..." : ""} (${input.length} bytes)`;
  const text = JSON.stringify(input, (_, value) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value));
  return text === undefined ? String(input) : text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

type ImportFormat = "raw" | "spki" | "pkcs8" | "jwk";
type Subtle = { importKey(...args: unknown[]): Promise<CryptoKey>; exportKey(format: string, key: CryptoKey): Promise<unknown> };

/** A valid input to importKey and the arguments that go with it; the fuzzer mutates `data`. */
export interface ImportSeed {
  data: Buffer | JsonWebKey;
  algorithm: Record<string, unknown>;
  usages: KeyUsage[];
  extractable: boolean;
}

/** One importKey entry point (an algorithm and a format), fuzzed against Node's importKey. */
export interface ImportEntry {
  format: ImportFormat;
  seeds: ImportSeed[];
  /** The token lacks the algorithm: our NotSupportedError where Node succeeds is the right answer. */
  tokenLacks?: boolean;
  /** A documented difference from Node: its reason when (ours, Node's, input) is one, else undefined. */
  knownDifference?: (ours: Outcome, node: Outcome, input: unknown) => string | undefined;
  /**
   * Whether two keys imported from the same input are the same key; by default, the same shape
   * and (when extractable) the same export in the import format.
   */
  sameKey?: (ours: CryptoKey, theirs: CryptoKey, seed: ImportSeed) => Promise<string | undefined>;
}

/** JSON with object members in sorted order: JWK member order carries no meaning. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));

const shapeOf = (key: CryptoKey) => JSON.stringify({ type: key.type, extractable: key.extractable, algorithm: normalizeForCompare(key.algorithm), usages: key.usages });

function normalizeForCompare(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeForCompare(v)]));
  return value;
}

async function defaultSameKey(ours: CryptoKey, theirs: CryptoKey, seed: ImportSeed, format: ImportFormat, subtle: Subtle, native: Subtle): Promise<string | undefined> {
  if (shapeOf(ours) !== shapeOf(theirs)) return `shapes differ: ours ${shapeOf(ours)}, Node's ${shapeOf(theirs)}`;
  if (!seed.extractable && ours.type !== "public") return undefined;
  const [a, b] = await Promise.all([subtle.exportKey(format, ours), native.exportKey(format, theirs)]);
  const same = a instanceof ArrayBuffer ? Buffer.from(a).equals(Buffer.from(b as ArrayBuffer)) : canonicalJson(a) === canonicalJson(b);
  if (!same && (format === "pkcs8" || format === "spki")) {
    // Node keeps some non-canonical DER it accepted and exports it again (an ECPrivateKey version
    // other than 1, say) where we export the canonical encoding: the same key if the JWKs agree.
    const [c, d] = await Promise.all([subtle.exportKey("jwk", ours), native.exportKey("jwk", theirs)]);
    if (canonicalJson(c) === canonicalJson(d)) return undefined;
  }
  return same ? undefined : `exports differ: ours ${describeInput(a instanceof ArrayBuffer ? Buffer.from(a) : a)}, Node's ${describeInput(b instanceof ArrayBuffer ? Buffer.from(b as ArrayBuffer) : b)}`;
}

/** Per-call limit: a call that takes longer is reported as a hang. */
const CALL_LIMIT_MS = 10_000;

/**
 * Feeds `iterations` mutations of the entry's seeds to our importKey and to Node's, and records
 * a finding wherever they disagree (one succeeds and the other fails, or the error names differ,
 * or both succeed with different keys), wherever ours fails with an error that is not a Web
 * Crypto error, and wherever a call hangs. The unmutated seeds come first and must import on both
 * sides (on ours: NotSupportedError where the token lacks the algorithm).
 */
export async function fuzzImport(subtle: unknown, random: Random, entry: ImportEntry, iterations: number): Promise<FuzzTally> {
  const ours = subtle as Subtle;
  const native = globalThis.crypto.subtle as unknown as Subtle;
  const tally = new FuzzTally();
  for (let i = 0; i < iterations + entry.seeds.length; i++) {
    const seed = i < entry.seeds.length ? entry.seeds[i] : random.pick(entry.seeds);
    const input = i < entry.seeds.length ? seed.data : Buffer.isBuffer(seed.data) ? mutateBytes(random, seed.data).data : mutateJwk(random, seed.data).jwk;
    traceInput(`${String(seed.algorithm.name)} ${entry.format} #${i}`, input);
    const call = (subtle: Subtle) => () => subtle.importKey(entry.format, input, seed.algorithm, seed.extractable, seed.usages);
    const [a, b] = await Promise.all([settle(call(ours), CALL_LIMIT_MS, "our importKey"), settle(call(native), CALL_LIMIT_MS, "Node's importKey")]);
    tally.count(a.name);
    const where = `${String(seed.algorithm.name)} ${entry.format} input #${i} ${describeInput(input)}`;
    if (i < entry.seeds.length && (b.name !== "ok" || (a.name !== "ok" && !(entry.tokenLacks && a.name === "NotSupportedError")))) {
      tally.finding(`unmutated seed: ours ${a.name}, Node's ${b.name}: ${where}; ${String((a.error ?? b.error) as Error)}`);
      continue;
    }
    if (a.name !== "ok" && !SPEC_ERRORS.has(a.name)) {
      tally.finding(`ours failed with ${a.name} (not a Web Crypto error): ${String((a.error as Error)?.message)}: ${where}`);
      continue;
    }
    if (a.name === b.name) {
      if (a.name === "ok") {
        const difference = await (entry.sameKey
          ? entry.sameKey(a.value as CryptoKey, b.value as CryptoKey, seed)
          : defaultSameKey(a.value as CryptoKey, b.value as CryptoKey, seed, entry.format, ours, native));
        if (difference) tally.finding(`both imported, but ${difference}: ${where}`);
      }
      continue;
    }
    if (entry.tokenLacks && a.name === "NotSupportedError" && b.name === "ok") continue;
    const reason = entry.knownDifference?.(a, b, input);
    if (reason) {
      tally.knownDifference(reason);
      continue;
    }
    tally.finding(`ours ${a.name}${a.error ? ` (${(a.error as Error).message})` : ""}, Node's ${b.name}${b.error ? ` (${(b.error as Error).message})` : ""}: ${where}`);
  }
  return tally;
}

/**
 * With FUZZ_TRACE=<file>, each input is written there before it is used: a crash (an abort in
 * native code takes the process down with no stack of ours) leaves the input that caused it.
 */
export function traceInput(label: string, input: unknown): void {
  const path = process.env.FUZZ_TRACE;
  if (!path) return;
  const text = Buffer.isBuffer(input) ? `hex:${input.toString("hex")}` : typeof input === "string" ? `string:${JSON.stringify(input)}` : `json:${JSON.stringify(input)}`;
  writeFileSync(path, `${label}\n${text}\n`);
}

/** A number from a label, so that each entry point has its own stream of inputs under one seed. */
export function labelSeed(label: string): number {
  let hash = fuzzSeed() ^ 0x811c9dc5;
  for (const char of label) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return hash >>> 0;
}

/**
 * A mocha test that fuzzes one importKey entry point: no finding, and as many objects on the
 * token afterwards as before (once dropped keys are collected). The title gets the counts.
 */
export function itFuzzesImport(label: string, crypto: () => Crypto, entry: () => ImportEntry | Promise<ImportEntry>, ciIterations = 200): Mocha.Test {
  return it(`${label} (seed ${fuzzSeed()})`, async function () {
    this.timeout(600_000);
    const before = await settledObjectCount(crypto());
    const tally = await fuzzImport(crypto().subtle, new Random(labelSeed(label)), await entry(), fuzzIterations(ciIterations));
    const after = await settledObjectCount(crypto());
    this.test!.title += ` [${tally.summary()}; ${tally.findings.length} findings]`;
    if (tally.findings.length > 0) {
      throw new Error(`${tally.findings.length} findings, the first ones:\n  ${tally.findings.slice(0, 6).join("\n  ")}`);
    }
    if (after !== before) throw new Error(`${after - before} objects left on the token (${before} before, ${after} after)`);
  });
}
