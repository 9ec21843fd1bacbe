import { pkcs11js, type TokenInfo } from "./pkcs11.js";
import { ckrName, ckrOf, toTokenError, TokenError } from "./token-error.js";

/** Whose PIN: the normal user's, or the security officer's (who initializes tokens and user PINs). */
export type PinRole = "user" | "so";

const flagsOf: Record<PinRole, { countLow: number; finalTry: number; locked: number }> = {
  user: { countLow: pkcs11js.CKF_USER_PIN_COUNT_LOW, finalTry: pkcs11js.CKF_USER_PIN_FINAL_TRY, locked: pkcs11js.CKF_USER_PIN_LOCKED },
  so: { countLow: pkcs11js.CKF_SO_PIN_COUNT_LOW, finalTry: pkcs11js.CKF_SO_PIN_FINAL_TRY, locked: pkcs11js.CKF_SO_PIN_LOCKED },
};

/** The PIN state of one role in words, from the token's flags read after the failure. */
function pinState(readInfo: () => TokenInfo, role: PinRole): { text: string; countLow: boolean; finalTry: boolean; locked: boolean } {
  let flags = 0;
  try {
    flags = readInfo().flags;
  } catch {
    // Without token info we can still say what failed.
  }
  const bits = flagsOf[role];
  const countLow = (flags & bits.countLow) !== 0;
  const finalTry = (flags & bits.finalTry) !== 0;
  const locked = (flags & bits.locked) !== 0;
  const whose = role === "so" ? "security officer's" : "user";
  const text = locked
    ? ` The ${whose} PIN is now locked.`
    : finalTry
      ? " One more wrong PIN will lock it."
      : countLow
        ? " Few tries are left before the PIN locks."
        : "";
  return { text, countLow, finalTry, locked };
}

/**
 * A failed login or PIN change. `pinCountLow`, `pinFinalTry` and `pinLocked` are the token's PIN
 * state for `role`, read right after the failure; the PIN itself is never part of it.
 */
export interface LoginError extends TokenError {
  role: PinRole;
  pinCountLow: boolean;
  pinFinalTry: boolean;
  pinLocked: boolean;
}

export interface LoginFailureContext {
  /** Whose PIN was given. Default "user". */
  role?: PinRole;
  /** What was being done, for the message. Default `Login to token "<label>"`. */
  doing?: string;
  /** The PKCS#11 function that failed. Default C_Login. */
  method?: string;
}

/** A PIN failure as a TokenError whose message says what is wrong with the PIN (never the PIN). */
export function describeLoginFailure(
  error: unknown,
  label: string,
  readInfo: () => TokenInfo,
  context: LoginFailureContext = {},
): TokenError {
  const role = context.role ?? "user";
  const doing = context.doing ?? `Login to token "${label}"`;
  const code = ckrOf(error);
  const lockedBy = role === "so" ? "the security officer's PIN is locked; the token must be re-initialized or unblocked by its vendor's tool" : "the user PIN is locked; the security officer must unblock it";
  const what: Record<number, string> = {
    [pkcs11js.CKR_PIN_INCORRECT]: "the PIN is incorrect",
    [pkcs11js.CKR_PIN_LOCKED]: lockedBy,
    [pkcs11js.CKR_PIN_EXPIRED]: "the PIN has expired and must be changed",
    [pkcs11js.CKR_PIN_LEN_RANGE]: "the PIN is too short or too long for this token",
    [pkcs11js.CKR_PIN_INVALID]: "the PIN contains characters the token does not accept",
    [pkcs11js.CKR_USER_PIN_NOT_INITIALIZED]: "the token has no user PIN yet (it must be initialized with C_InitPIN)",
    [pkcs11js.CKR_USER_ANOTHER_ALREADY_LOGGED_IN]:
      role === "so" ? "the user is logged in; log out first" : "another user (the security officer) is logged in",
    [pkcs11js.CKR_SESSION_READ_ONLY_EXISTS]: "the security officer can log in only when no read-only session is open (readWrite: false)",
    [pkcs11js.CKR_USER_TOO_MANY_TYPES]: "the token allows no more users logged in at once",
  };
  if (code === undefined || what[code] === undefined) return toTokenError(error, doing);
  const state = pinState(readInfo, role);
  const name = ckrName(code);
  const result = new TokenError(`${doing} failed: ${what[code]} (${name}).${state.text}`, {
    code: name,
    ckr: code,
    method: context.method ?? "C_Login",
  }) as LoginError;
  result.role = role;
  result.pinCountLow = state.countLow;
  result.pinFinalTry = state.finalTry;
  result.pinLocked = state.locked || code === pkcs11js.CKR_PIN_LOCKED;
  return result;
}
