import { pkcs11js, type TokenInfo } from "./pkcs11.js";
import { ckrName, ckrOf, toTokenError, TokenError } from "./token-error.js";

const { CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED } = pkcs11js;

/** The token's user-PIN state in words, from its flags, for login error messages. */
function pinState(readInfo: () => TokenInfo): { text: string; countLow: boolean; finalTry: boolean; locked: boolean } {
  let flags = 0;
  try {
    flags = readInfo().flags;
  } catch {
    // Without token info we can still say what failed.
  }
  const countLow = (flags & CKF_USER_PIN_COUNT_LOW) !== 0;
  const finalTry = (flags & CKF_USER_PIN_FINAL_TRY) !== 0;
  const locked = (flags & CKF_USER_PIN_LOCKED) !== 0;
  const text = locked
    ? " The user PIN is now locked."
    : finalTry
      ? " One more wrong PIN will lock it."
      : countLow
        ? " Few tries are left before the PIN locks."
        : "";
  return { text, countLow, finalTry, locked };
}

export interface LoginError extends TokenError {
  pinCountLow: boolean;
  pinFinalTry: boolean;
  pinLocked: boolean;
}

/** A login failure as a TokenError whose message says what is wrong with the PIN (never the PIN). */
export function describeLoginFailure(error: unknown, label: string, readInfo: () => TokenInfo): TokenError {
  const code = ckrOf(error);
  const what: Record<number, string> = {
    [pkcs11js.CKR_PIN_INCORRECT]: "the PIN is incorrect",
    [pkcs11js.CKR_PIN_LOCKED]: "the user PIN is locked; the security officer must unblock it",
    [pkcs11js.CKR_PIN_EXPIRED]: "the PIN has expired and must be changed",
    [pkcs11js.CKR_PIN_LEN_RANGE]: "the PIN is too short or too long for this token",
    [pkcs11js.CKR_PIN_INVALID]: "the PIN contains characters the token does not accept",
    [pkcs11js.CKR_USER_PIN_NOT_INITIALIZED]: "the token has no user PIN yet (it must be initialized with C_InitPIN)",
    [pkcs11js.CKR_USER_ANOTHER_ALREADY_LOGGED_IN]: "another user (the security officer) is logged in",
  };
  if (code === undefined || what[code] === undefined) return toTokenError(error, `Login to token "${label}"`);
  const state = pinState(readInfo);
  const name = ckrName(code);
  const result = new TokenError(`Login to token "${label}" failed: ${what[code]} (${name}).${state.text}`, {
    code: name,
    ckr: code,
    method: "C_Login",
  }) as LoginError;
  result.pinCountLow = state.countLow;
  result.pinFinalTry = state.finalTry;
  result.pinLocked = state.locked || code === pkcs11js.CKR_PIN_LOCKED;
  return result;
}
