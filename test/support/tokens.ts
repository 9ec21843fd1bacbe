/**
 * The tokens every test file shares, made once per run by the root hooks (test/support/hooks.ts):
 *   main    the token most tests use, user PIN 1234
 *   second  another token in the same module, to test selection by label and serial
 *   lockout a token whose PIN the bad-PIN tests may lock
 * Import `config()` to get a constructor configuration for one of them.
 */
import type { CryptoParams } from "../../src/index.js";
import { createSoftHsmEnvironment, initToken, SOFTHSM_LIBRARY, USER_PIN, type SoftHsmEnvironment } from "./softhsm.js";

export type TokenName = "main" | "second" | "lockout";

let environment: SoftHsmEnvironment | undefined;
const serials = new Map<TokenName, string>();

export function setUpTokens(): void {
  if (environment) return;
  environment = createSoftHsmEnvironment();
  for (const name of ["main", "second", "lockout"] as const) serials.set(name, initToken(name));
}

export function tearDownTokens(): void {
  environment?.remove();
  environment = undefined;
}

export function tokenSerial(name: TokenName): string {
  const serial = serials.get(name);
  if (!serial) throw new Error("Test tokens are not set up: run the tests through mocha (.mocharc.json loads test/support/hooks.ts)");
  return serial;
}

export function softHsmEnvironment(): SoftHsmEnvironment {
  if (!environment) throw new Error("Test tokens are not set up");
  return environment;
}

/** Constructor configuration for a test token, logged in unless `pin` is overridden. */
export function config(name: TokenName = "main", overrides: Partial<CryptoParams> = {}): CryptoParams {
  return { library: SOFTHSM_LIBRARY, tokenLabel: name, pin: USER_PIN, ...overrides };
}

export { SOFTHSM_LIBRARY, USER_PIN };
