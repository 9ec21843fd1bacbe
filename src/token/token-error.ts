import { randomFillSync } from "node:crypto";
import { pkcs11js } from "./pkcs11.js";

/** Names of PKCS#11 return values, built once from the constants pkcs11js exports. */
const ckrNames = new Map<number, string>();
for (const [name, value] of Object.entries(pkcs11js)) {
  if (name.startsWith("CKR_") && typeof value === "number" && !ckrNames.has(value)) ckrNames.set(value, name);
}

export function ckrName(code: number): string {
  return ckrNames.get(code) ?? `CKR_0x${code.toString(16).padStart(8, "0")}`;
}

/**
 * An error from the token or its module, outside any WebCrypto operation (connecting, selecting a
 * token, logging in) or below one (kept as the `cause` of the WebCrypto error).
 *
 * `code` is the CKR_* name when the token answered with one, or one of our own codes
 * (MODULE_NOT_FOUND, TOKEN_NOT_FOUND, ...) when the problem was found before any PKCS#11 call.
 * Messages never contain a PIN.
 */
export class TokenError extends Error {
  override name = "TokenError";
  /** CKR_* name, or one of our codes. */
  readonly code: string;
  /** The numeric CK_RV, when the module returned one. */
  readonly ckr?: number;
  /** The PKCS#11 function that failed, when there was one. */
  readonly method?: string;

  constructor(message: string, options: { code: string; ckr?: number; method?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.ckr = options.ckr;
    this.method = options.method;
  }
}

/** The CK_RV carried by an error thrown by pkcs11js, if it is a PKCS#11 error at all. */
export function ckrOf(error: unknown): number | undefined {
  if (error instanceof TokenError) return error.ckr;
  if (error instanceof pkcs11js.Pkcs11Error) return error.code;
  return unwrappedCkr(error)?.code;
}

/**
 * pkcs11js 2.1.7 overrides C_CreateObject, C_CopyObject and C_SetAttributeValue in its PKCS11
 * class and calls the native methods directly, so their failures arrive as plain Errors whose
 * message is "CKR_NAME:number" instead of Pkcs11Errors.
 */
function unwrappedCkr(error: unknown): { name: string; code: number } | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^(CKR_[A-Z0-9_]+):(\d+)$/.exec(error.message);
  return match ? { name: match[1], code: Number(match[2]) } : undefined;
}

const scratch = Buffer.alloc(1);

/**
 * Empties OpenSSL's error queue on the calling (main) thread after a token call failed.
 *
 * A software token loaded in this process (SoftHSM) shares Node's libcrypto, and a failed
 * operation (an ECDSA signature that does not verify, an AES-KW unwrap whose integrity check
 * fails) leaves its OpenSSL errors on the queue of the thread that called it. Node's WebCrypto
 * expects that queue empty: its next job that succeeds finds the stale errors and aborts the
 * whole process (an assertion in CipherJob::ToResult). Found by fuzzing unwrapKey next to Node's;
 * test/faults/openssl-error-queue.test.ts shows it. Node has no ERR_clear_error; a synchronous
 * crypto job (randomFillSync) drains the queue as it finishes, in about 3 µs, paid only on failure.
 * Calls on worker threads need nothing: Node's jobs there read the queue only when they fail.
 */
export function clearOpenSslErrors(): void {
  randomFillSync(scratch);
}

/** Turns whatever a pkcs11js call threw into a TokenError that says what was being done. */
export function toTokenError(error: unknown, doing: string): TokenError {
  clearOpenSslErrors();
  if (error instanceof TokenError) return error;
  if (error instanceof pkcs11js.Pkcs11Error) {
    const name = ckrName(error.code);
    return new TokenError(`${doing} failed: ${error.method || "PKCS#11 call"} returned ${name}`, {
      code: name,
      ckr: error.code,
      method: error.method || undefined,
      cause: error,
    });
  }
  const unwrapped = unwrappedCkr(error);
  if (unwrapped) {
    return new TokenError(`${doing} failed: returned ${unwrapped.name}`, { code: unwrapped.name, ckr: unwrapped.code, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TokenError(`${doing} failed: ${message}`, { code: "NATIVE_ERROR", cause: error });
}

/** Return values that mean the session is gone: replace it and, where safe, try once more. */
const sessionLost = new Set<number>([
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
]);

export function isSessionLost(error: unknown): boolean {
  const code = ckrOf(error);
  return code !== undefined && sessionLost.has(code);
}

export function isNotLoggedIn(error: unknown): boolean {
  return ckrOf(error) === pkcs11js.CKR_USER_NOT_LOGGED_IN;
}
