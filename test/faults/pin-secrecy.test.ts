// The PIN: a wrong one gives an error that names the token's remaining-tries state (the PIN
// flags it reports), and no PIN, right or wrong, ever shows in an error's message or stack, in
// util.inspect or JSON.stringify of a Crypto or a key, or in a URI parse error. SoftHSM on every
// TEST_TOKEN (the "lockout" token exists for wrong PINs); SoftHSM never counts tries, so its flags
// are all clear and the error must say so by carrying false for each (the wording for each state
// is in test/token/login-errors.test.ts).
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Crypto, parsePkcs11Uri, TokenError } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import type { Token } from "../../src/token/token.js";
import { config, softHsmConfig, SOFTHSM_LIBRARY, USER_PIN } from "../support/tokens.js";

/** Distinctive wrong PINs: any echo of them is plain. */
const WRONG_PINS = ["Wq7-not-the-pin-31", "p\u00e9n:%;?&=x9"];

/** Every text a caller might log of a value, deep and with hidden members. */
function everyRendering(value: unknown): string {
  const parts = [inspect(value, { depth: Infinity, showHidden: true, getters: true })];
  try {
    parts.push(JSON.stringify(value) ?? "");
  } catch (error) {
    parts.push(String(error));
  }
  if (value instanceof Error) parts.push(value.message, String(value.stack), inspect(value.cause, { depth: Infinity, showHidden: true }));
  return parts.join("\n");
}

/** The Token behind a Crypto that is not logged in (through a public key, which needs no login). */
async function publicTokenOf(crypto: Crypto): Promise<Token> {
  const pair = (await globalThis.crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = await globalThis.crypto.subtle.exportKey("spki", pair.publicKey);
  const key = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" } as EcKeyImportParams, false, ["verify"]);
  return keyObjectOf(key)!.token;
}

/** The PIN as util.inspect or JSON would print a string holding it. */
function assertNoPin(text: string, pin: string, what: string): void {
  for (const form of [pin, `'${pin}'`, `"${pin}"`, JSON.stringify(pin)]) {
    // "1234" alone can occur inside a hex serial; the quoted forms cannot, by chance.
    if (form === pin && pin === USER_PIN) continue;
    // Case-blind: a parser may lower-case what it echoes.
    assert.ok(!text.toLowerCase().includes(form.toLowerCase()), `${what} contains the PIN (${form})`);
  }
}

describe("faults: PIN errors and PIN secrecy", () => {
  it("a wrong PIN is CKR_PIN_INCORRECT with the token's PIN-state flags, and the PIN is in none of its renderings", async () => {
    // Not logged in: a logged-in connection in this process would make C_Login answer
    // CKR_USER_ALREADY_LOGGED_IN to any PIN, right or wrong (PKCS#11 logs in applications).
    const reference = new Crypto(softHsmConfig("lockout", { pin: undefined }));
    try {
      const token = await publicTokenOf(reference);
      for (const pin of WRONG_PINS) {
        const error = (() => {
          try {
            new Crypto(softHsmConfig("lockout", { pin }));
          } catch (e) {
            return e as TokenError & { pinCountLow?: boolean; pinFinalTry?: boolean; pinLocked?: boolean };
          }
          assert.fail("a wrong PIN must not connect");
        })();
        assert.ok(error instanceof TokenError);
        assert.equal(error.code, "CKR_PIN_INCORRECT");
        assert.match(error.message, /the PIN is incorrect/);
        // The remaining-tries state, as the token reports it now.
        const { flags } = token.tokenInfo;
        assert.equal(error.pinCountLow, (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) !== 0);
        assert.equal(error.pinFinalTry, (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) !== 0);
        assert.equal(error.pinLocked, (flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0);
        if (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) assert.match(error.message, /One more wrong PIN will lock it/);
        else if (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) assert.match(error.message, /Few tries are left/);
        assertNoPin(everyRendering(error), pin, "the wrong-PIN error");
        // The same through login() and through a URI.
        const later = new Crypto(softHsmConfig("lockout", { pin: undefined }));
        try {
          const loginError = (() => {
            try {
              later.login(pin);
            } catch (e) {
              return e;
            }
            assert.fail("login with a wrong PIN must throw");
          })();
          assert.equal((loginError as TokenError).code, "CKR_PIN_INCORRECT");
          assertNoPin(everyRendering(loginError), pin, "the login() error");
        } finally {
          await later.close();
        }
        const uri = `pkcs11:token=lockout?module-path=${SOFTHSM_LIBRARY}&pin-value=${encodeURIComponent(pin)}`;
        const uriError = (() => {
          try {
            new Crypto(uri);
          } catch (e) {
            return e;
          }
          assert.fail("a wrong PIN in a URI must not connect");
        })();
        assertNoPin(everyRendering(uriError), pin, "the URI connection error");
      }
    } finally {
      await reference.close();
    }
  });

  it("a malformed or misspelt pin-value in a URI is refused without echoing the PIN (found by fuzzing)", () => {
    for (const pin of WRONG_PINS) {
      const encoded = encodeURIComponent(pin);
      for (const uri of [
        `pkcs11:token=main?module-path=/x&pin-value${encoded}`, // the "=" lost
        `pkcs11:token=main?module-path=/x&pin-valu${encoded}=1`, // a name that runs into the PIN
        `pkcs11:token=main;pin-value=${encoded}?module-path=/x`, // in the path, where it does not belong
      ]) {
        assert.throws(() => parsePkcs11Uri(uri), (error: Error) => {
          assert.equal(error.name, "TypeError");
          assertNoPin(everyRendering(error), pin, `the parse error of ${uri}`);
          assertNoPin(everyRendering(error), encoded, `the parse error of ${uri}`);
          return true;
        });
      }
    }
  });

  it("util.inspect and JSON.stringify of a logged-in Crypto and of its keys show no PIN", async () => {
    const crypto = new Crypto(config());
    try {
      const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const secret = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" } as HmacImportParams, true, ["sign"]);
      for (const [what, value] of [["the Crypto", crypto], ["its subtle", crypto.subtle], ["a private key", pair.privateKey], ["a key pair", pair], ["a secret key", secret]] as const) {
        assertNoPin(everyRendering(value), USER_PIN, `util.inspect/JSON of ${what}`);
      }
      // And an operation's error (a wrong key usage) carries none either.
      const error = await crypto.subtle.sign("HMAC", pair.privateKey, new Uint8Array(1)).then(() => undefined, (e: Error) => e);
      assert.ok(error);
      assertNoPin(everyRendering(error), USER_PIN, "an operation's error");
    } finally {
      await crypto.close();
    }
  });
});
