/**
 * The tokens every test file shares, made once per run by the root hooks (test/support/hooks.ts).
 *
 * TEST_TOKEN chooses the token `config()` gives, so the same suite runs on each kind:
 *   softhsm (default) a SoftHSM token in this process
 *   nss               NSS softokn's "NSS Certificate DB" token on a throwaway database (nss.ts)
 *   remote            a SoftHSM token behind `p11-kit server`, through p11-kit-client.so (p11kit-remote.ts)
 *
 * Three SoftHSM tokens are made whatever TEST_TOKEN says, user PIN 1234:
 *   main    the token most tests use when TEST_TOKEN=softhsm
 *   second  another token in the same module, to test selection by label and serial
 *   lockout a token whose PIN the bad-PIN tests may lock
 * nss and remote have one token, "main"; tests of token selection and PIN lockout are about
 * connection logic, not algorithms, and use SoftHSM on every run through `softHsmConfig()`.
 */
import type { CryptoParams } from "../../src/index.js";
import { nssDatabase, type NssDatabase } from "./nss.js";
import { startRemoteToken, type RemoteToken } from "./p11kit-remote.js";
import { createSoftHsmEnvironment, initToken, SOFTHSM_LIBRARY, USER_PIN, type SoftHsmEnvironment } from "./softhsm.js";

export type TokenName = "main" | "second" | "lockout";
export type TokenKind = "softhsm" | "nss" | "remote";

const KINDS: readonly TokenKind[] = ["softhsm", "nss", "remote"];

/** The token kind this run tests, from TEST_TOKEN; a typo stops the run rather than testing SoftHSM. */
export function tokenKind(): TokenKind {
  const value = process.env.TEST_TOKEN || "softhsm";
  if (!(KINDS as readonly string[]).includes(value)) throw new Error(`TEST_TOKEN=${value} is not one of ${KINDS.join(", ")}`);
  return value as TokenKind;
}

let environment: SoftHsmEnvironment | undefined;
const serials = new Map<TokenName, string>();
let nss: NssDatabase | undefined;
let remote: RemoteToken | undefined;
/** The chosen token's configuration when it is not SoftHSM. */
let mainConfig: CryptoParams | undefined;

export async function setUpTokens(): Promise<void> {
  if (environment) return;
  const kind = tokenKind();
  environment = createSoftHsmEnvironment();
  for (const name of ["main", "second", "lockout"] as const) serials.set(name, initToken(name));
  if (kind === "nss") {
    nss = nssDatabase();
    mainConfig = nss.config;
  } else if (kind === "remote") {
    remote = await startRemoteToken("main");
    mainConfig = remote.config;
  }
}

export async function tearDownTokens(): Promise<void> {
  try {
    await remote?.stop();
    nss?.remove();
  } finally {
    environment?.remove();
    environment = undefined;
    remote = undefined;
    nss = undefined;
    mainConfig = undefined;
    serials.clear();
  }
}

/** Serial of a SoftHSM test token (on every TEST_TOKEN). */
export function tokenSerial(name: TokenName): string {
  const serial = serials.get(name);
  if (!serial) throw new Error("Test tokens are not set up: run the tests through mocha (.mocharc.json loads test/support/hooks.ts)");
  return serial;
}

export function softHsmEnvironment(): SoftHsmEnvironment {
  if (!environment) throw new Error("Test tokens are not set up");
  return environment;
}

/** Constructor configuration for a SoftHSM test token, whatever TEST_TOKEN says. */
export function softHsmConfig(name: TokenName = "main", overrides: Partial<CryptoParams> = {}): CryptoParams {
  return { library: SOFTHSM_LIBRARY, tokenLabel: name, pin: USER_PIN, ...overrides };
}

/** Constructor configuration for a test token of the kind TEST_TOKEN chooses, logged in unless `pin` is overridden. */
export function config(name: TokenName = "main", overrides: Partial<CryptoParams> = {}): CryptoParams {
  const kind = tokenKind();
  if (kind === "softhsm") return softHsmConfig(name, overrides);
  // Falling back to SoftHSM here would mix two modules in one test without saying so.
  if (name !== "main") throw new Error(`TEST_TOKEN=${kind} has only the "main" token: use softHsmConfig("${name}") for token "${name}"`);
  if (!mainConfig) throw new Error("Test tokens are not set up: run the tests through mocha (.mocharc.json loads test/support/hooks.ts)");
  return { ...mainConfig, ...overrides };
}

export { SOFTHSM_LIBRARY, USER_PIN };
