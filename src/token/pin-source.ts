import { TokenError } from "./token-error.js";

/**
 * Where a PIN comes from: the PIN itself, or a function (synchronous or asynchronous) that returns
 * it when a login is needed, for PINs that should not sit in a configuration object: asked of a
 * user, read from a file or a secret store at the moment of use, different for every signature
 * with an always-authenticate key.
 */
export type PinSource = string | (() => string | Promise<string>);

/** Checks a configured PIN source; the message never shows the value. */
export function checkPinSource(pin: unknown, what = "pin"): PinSource | undefined {
  if (pin === undefined) return undefined;
  if (typeof pin === "string" || typeof pin === "function") return pin as PinSource;
  throw new TypeError(`${what} must be a string or a function returning the PIN (or a promise of it)`);
}

/** The PIN now: the string itself, or what the function returns (awaited). */
export async function resolvePin(source: PinSource): Promise<string> {
  if (typeof source === "string") return source;
  let pin: unknown;
  try {
    pin = await source();
  } catch (error) {
    // The function's own error says why (a cancelled prompt, an unreadable file); keep it as the cause.
    throw new TokenError(`The pin function failed: ${error instanceof Error ? error.message : String(error)}`, {
      code: "PIN_UNAVAILABLE",
      cause: error,
    });
  }
  if (typeof pin !== "string") {
    throw new TokenError(`The pin function must return a string (or a promise of one), not ${pin === null ? "null" : typeof pin}`, {
      code: "PIN_UNAVAILABLE",
    });
  }
  return pin;
}
