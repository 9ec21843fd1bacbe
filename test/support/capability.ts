/**
 * Tests of what a token may lack. The rule: the whole suite runs on every test token; where the
 * token lacks a mechanism (or the parameters), the test checks that we answer NotSupportedError,
 * never a wrong answer and never a silent skip.
 *
 * Whether a token has something is decided from what the token reports (C_GetMechanismList and
 * C_GetMechanismInfo, as `crypto.supports`, `crypto.mechanisms` and `mechanismInfo` show them),
 * not from the token's name. The decision is made when the test runs: the tokens exist only once
 * the root hooks have run, after mocha has loaded the files.
 *
 *   itIfSupported(() => crypto.supports("AES-GCM", "encrypt"), "AES-GCM round trip", async () => { ... },
 *     { mechanism: "CKM_AES_GCM" });
 *
 * runs the body where the token has AES-GCM; elsewhere the body (or `call`) must reject with
 * NotSupportedError whose message names CKM_AES_GCM, and the test's title says so.
 */
import assert from "node:assert/strict";
import type { Context } from "mocha";
import type { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { pkcs11js, type MechanismInfo } from "../../src/token/pkcs11.js";
import type { Token } from "../../src/token/token.js";

/** A pattern the NotSupportedError's message must match: a mechanism name (CKM_...) or a RegExp. */
export type Naming = string | RegExp;

export type Supported = () => boolean | Promise<boolean>;

export interface WhereUnsupported {
  /**
   * What the message of the NotSupportedError must contain (a string) or match (a RegExp); a
   * function where that is known only when the test runs.
   */
  mechanism?: Naming | (() => Naming | Promise<Naming>);
  /**
   * The call that must reject where the token lacks the mechanism; the test's body when absent.
   * Give one where the body compares outcomes with Node (an AssertionError, not the
   * NotSupportedError, would come out of the body) or needs fixtures the token cannot make.
   */
  call?: (this: Context) => unknown;
}

/** Suffix of the title of a test that checked NotSupportedError instead of its body. */
export const NOT_SUPPORTED_TITLE = " [NotSupportedError: not on this token]";

function matches(message: string, naming: Naming): boolean {
  return typeof naming === "string" ? message.includes(naming) : naming.test(message);
}

/** Asserts that `call` (a function or a promise) rejects or throws NotSupportedError naming `mechanism`. */
export async function assertNotSupported(call: Promise<unknown> | (() => unknown), mechanism?: Naming, label = "the call"): Promise<void> {
  await assert.rejects(
    async () => (typeof call === "function" ? call() : call),
    (error: Error) => {
      assert.equal(error?.name, "NotSupportedError", `${label}: expected NotSupportedError, got ${error?.name}: ${error?.message}`);
      if (mechanism !== undefined) {
        assert.ok(matches(error.message, mechanism), `${label}: the NotSupportedError "${error.message}" does not name ${String(mechanism)}`);
      }
      return true;
    },
    `${label}: expected NotSupportedError, but it succeeded`,
  );
}

/**
 * A test of something the token may lack: where `supported()` holds, the body runs; otherwise
 * the body (or `options.call`) must fail with NotSupportedError (naming `options.mechanism`), and
 * the title says so in the report.
 */
export function itIfSupported(supported: Supported, title: string, body: (this: Context) => Promise<unknown>, options: WhereUnsupported = {}): Mocha.Test {
  return it(title, async function () {
    if (await supported()) {
      await body.call(this);
      return;
    }
    this.test!.title += NOT_SUPPORTED_TITLE;
    const naming = typeof options.mechanism === "function" ? await options.mechanism() : options.mechanism;
    await assertNotSupported(() => (options.call ?? body).call(this), naming);
  });
}

/** The token behind a Crypto (read through a throwaway session key: Crypto keeps its Token private). */
const tokens = new WeakMap<Crypto, Token>();
export async function tokenOf(crypto: Crypto): Promise<Token> {
  let token = tokens.get(crypto);
  if (!token) {
    const probe = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" } as HmacImportParams, false, ["sign"]);
    token = keyObjectOf(probe)!.token;
    tokens.set(crypto, token);
  }
  return token;
}

/** The mechanism number of a CKM_ name (pkcs11js's constants, plus the PKCS#11 3.0 ones it lacks). */
export function mechanismNumber(name: string): number {
  const extra: Record<string, number> = { CKM_EC_EDWARDS_KEY_PAIR_GEN: 0x1055, CKM_EC_MONTGOMERY_KEY_PAIR_GEN: 0x1056, CKM_EDDSA: 0x1057 };
  const value = extra[name] ?? (pkcs11js as unknown as Record<string, unknown>)[name];
  if (typeof value !== "number") throw new Error(`no mechanism named ${name}`);
  return value;
}

/** What the token says of a mechanism (C_GetMechanismInfo), or undefined where it does not list it. */
export async function mechanismInfo(crypto: Crypto, name: string): Promise<MechanismInfo | undefined> {
  return (await tokenOf(crypto)).mechanismInfo(mechanismNumber(name));
}

/** Whether the token lists the mechanism with all of `flags` (CKF_WRAP, CKF_DERIVE, ...). */
export async function mechanismHas(crypto: Crypto, name: string, flags = 0): Promise<boolean> {
  const info = await mechanismInfo(crypto, name);
  return info !== undefined && (info.flags & flags) === flags;
}

/** The digest mechanism of a Web Crypto hash name: SHA-1 -> CKM_SHA_1, SHA-256 -> CKM_SHA256. */
export function digestMechanism(hash: string): string {
  return hash === "SHA-1" ? "CKM_SHA_1" : `CKM_${hash.replace("-", "")}`;
}
