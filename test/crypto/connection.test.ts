// Connecting to a token: the object form and RFC 7512 URIs, token selection, login, and every
// way a configuration can be wrong. Each wrong configuration must give a clear error that names
// the problem, and none may contain the PIN.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Crypto, TokenError } from "../../src/index.js";
import { loadedModuleCount } from "../../src/token/module-registry.js";
import { softHsmConfig as config, SOFTHSM_LIBRARY, tokenSerial, USER_PIN } from "../support/tokens.js";

const SECRET_PIN = "9876-not-the-pin";

/** Asserts `make` throws a TokenError with `code` whose message matches `pattern` and holds no PIN. */
function assertConnectError(make: () => unknown, code: string, pattern: RegExp): TokenError {
  let caught: unknown;
  try {
    const crypto = make() as Crypto;
    void crypto.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TokenError, `expected a TokenError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, pattern);
  for (const pin of [SECRET_PIN, USER_PIN]) {
    assert.ok(!caught.message.includes(pin), "the message must not contain a PIN");
    assert.ok(!String(caught.stack).includes(pin), "the stack must not contain a PIN");
  }
  return caught;
}

describe("connecting to a token", () => {
  it("selects by label, by serial, and by slot index", async () => {
    const byLabel = new Crypto(config("second"));
    const bySerial = new Crypto({ library: SOFTHSM_LIBRARY, tokenSerial: tokenSerial("second"), pin: USER_PIN });
    const byIndex = new Crypto({ library: SOFTHSM_LIBRARY, slot: 0, pin: USER_PIN });
    try {
      assert.equal(byLabel.tokenLabel, "second");
      assert.equal(bySerial.tokenLabel, "second");
      assert.equal(bySerial.tokenSerial, tokenSerial("second"));
      assert.ok(["main", "second", "lockout"].includes(byIndex.tokenLabel));
    } finally {
      await Promise.all([byLabel.close(), bySerial.close(), byIndex.close()]);
    }
  });

  it("accepts an RFC 7512 URI with pin-value, and one with pin-source", async () => {
    const serial = tokenSerial("main");
    const module = encodeURIComponent(SOFTHSM_LIBRARY).replace(/%2F/g, "/");
    const withValue = new Crypto(`pkcs11:token=main;serial=${serial}?module-path=${module}&pin-value=${USER_PIN}`);
    const pinFile = join(mkdtempSync(join(tmpdir(), "pin-")), "pin");
    writeFileSync(pinFile, `${USER_PIN}\n`);
    const withSource = new Crypto(`pkcs11:token=main?module-path=${module}&pin-source=file:${pinFile}`);
    try {
      for (const crypto of [withValue, withSource]) {
        assert.equal(crypto.tokenLabel, "main");
        assert.equal(crypto.isLoggedIn, true);
        const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"]);
        assert.equal((key as CryptoKey).type, "secret");
      }
    } finally {
      await Promise.all([withValue.close(), withSource.close()]);
    }
  });

  it("decodes percent-encoded URI attributes (a label with a space)", () => {
    assertConnectError(
      () => new Crypto(`pkcs11:token=no%20such%20token?module-path=${SOFTHSM_LIBRARY}`),
      "TOKEN_NOT_FOUND",
      /tokenLabel "no such token"/,
    );
  });

  it("loads a module once for several Crypto instances and finalizes it with the last", async () => {
    const before = loadedModuleCount(SOFTHSM_LIBRARY);
    const a = new Crypto(config("main"));
    const b = new Crypto(config("second"));
    assert.equal(loadedModuleCount(SOFTHSM_LIBRARY), before + 2);
    await a.close();
    // b still works on the shared module after a closed.
    assert.equal((await b.subtle.digest("SHA-256", new Uint8Array(1))).byteLength, 32);
    await b.close();
    assert.equal(loadedModuleCount(SOFTHSM_LIBRARY), before);
    // And a new one initializes it again.
    const c = new Crypto(config("main"));
    assert.equal((await c.subtle.digest("SHA-1", new Uint8Array(1))).byteLength, 20);
    await c.close();
  });

  it("refuses a second set of libraryParameters for a module already loaded", async () => {
    const crypto = new Crypto(config("main"));
    try {
      assertConnectError(
        () => new Crypto(config("main", { libraryParameters: "other" })),
        "MODULE_PARAMETERS_CONFLICT",
        /already loaded in this process with other libraryParameters/,
      );
    } finally {
      await crypto.close();
    }
  });

  it("login(), logout() and isLoggedIn, and a login shared by two connections to one token", async () => {
    const crypto = new Crypto(config("main", { pin: undefined }));
    const other = new Crypto(config("main", { pin: undefined }));
    try {
      assert.equal(crypto.isLoggedIn, false);
      crypto.login(USER_PIN);
      assert.equal(crypto.isLoggedIn, true);
      // Login state belongs to the token and the process: the other connection sees it.
      assert.equal(other.isLoggedIn, true);
      crypto.logout();
      assert.equal(crypto.isLoggedIn, false);
      assert.equal(other.isLoggedIn, false);
    } finally {
      await Promise.all([crypto.close(), other.close()]);
    }
  });

  it("logs in again by itself when another connection logged the token out", async () => {
    const crypto = new Crypto(config("main"));
    const other = new Crypto(config("main"));
    try {
      other.logout();
      assert.equal(crypto.isLoggedIn, false);
      // Private keys need the login; the pool sees CKR_USER_NOT_LOGGED_IN, logs in with the kept PIN, retries.
      const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
      assert.equal((await crypto.subtle.sign("HMAC", key, new Uint8Array(3))).byteLength, 32);
      assert.equal(crypto.isLoggedIn, true);
    } finally {
      await Promise.all([crypto.close(), other.close()]);
    }
  });

  it("without a login, private keys cannot be made and the error says why", async () => {
    const crypto = new Crypto(config("main", { pin: undefined }));
    try {
      if (crypto.isLoggedIn) crypto.logout();
      await assert.rejects(
        crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign"]),
        (error: DOMException) => error.name === "OperationError" && /CKR_USER_NOT_LOGGED_IN/.test(error.message),
      );
      // Digests need no login.
      assert.equal((await crypto.subtle.digest("SHA-256", new Uint8Array(1))).byteLength, 32);
    } finally {
      await crypto.close();
    }
  });

  describe("bad configurations", () => {
    it("a module path that does not exist", () => {
      assertConnectError(() => new Crypto({ library: "/nonexistent/libnothing.so", pin: SECRET_PIN }), "MODULE_NOT_FOUND", /\/nonexistent\/libnothing\.so/);
    });

    it("a file that is not a PKCS#11 module", () => {
      assertConnectError(() => new Crypto({ library: "/etc/hostname", pin: SECRET_PIN }), "MODULE_LOAD_FAILED", /\/etc\/hostname/);
    });

    it("no library at all", () => {
      assertConnectError(() => new Crypto({} as never), "MODULE_NOT_FOUND", /library/);
    });

    it("no token with that label, serial or index; the message lists the tokens present", () => {
      const error = assertConnectError(
        () => new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: "missing", pin: SECRET_PIN }),
        "TOKEN_NOT_FOUND",
        /tokenLabel "missing"/,
      );
      assert.match(error.message, /"main"/);
      assertConnectError(() => new Crypto({ library: SOFTHSM_LIBRARY, tokenSerial: "0000", pin: SECRET_PIN }), "TOKEN_NOT_FOUND", /tokenSerial "0000"/);
      assertConnectError(() => new Crypto({ library: SOFTHSM_LIBRARY, slot: 42, pin: SECRET_PIN }), "TOKEN_NOT_FOUND", /slot 42/);
    });

    it("a wrong PIN, from the object form and from a URI", () => {
      const error = assertConnectError(
        () => new Crypto(config("lockout", { pin: SECRET_PIN })),
        "CKR_PIN_INCORRECT",
        /Login to token "lockout" failed: the PIN is incorrect/,
      );
      assert.equal(error.method, "C_Login");
      assertConnectError(
        () => new Crypto(`pkcs11:token=lockout?module-path=${SOFTHSM_LIBRARY}&pin-value=${SECRET_PIN}`),
        "CKR_PIN_INCORRECT",
        /PIN is incorrect/,
      );
    });

    it("a failed connection leaves the module as it was", async () => {
      const before = loadedModuleCount(SOFTHSM_LIBRARY);
      assertConnectError(() => new Crypto(config("lockout", { pin: SECRET_PIN })), "CKR_PIN_INCORRECT", /incorrect/);
      assertConnectError(() => new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: "missing" }), "TOKEN_NOT_FOUND", /missing/);
      assert.equal(loadedModuleCount(SOFTHSM_LIBRARY), before);
      const crypto = new Crypto(config("lockout"));
      assert.equal(crypto.isLoggedIn, true);
      await crypto.close();
    });

    it("malformed URIs", () => {
      assert.throws(() => new Crypto("pkcs11:token=a;token=b?module-path=/x"), /appears twice/);
      assert.throws(() => new Crypto("pkcs11:colour=blue?module-path=/x"), /Unknown PKCS#11 URI path attribute "colour"/);
      assert.throws(() => new Crypto("pkcs11:token=%zz?module-path=/x"), /percent-encoding/);
      assert.throws(() => new Crypto("pkcs11:token=main"), /names no module/);
      assert.throws(() => new Crypto(`pkcs11:token=main?module-path=${SOFTHSM_LIBRARY}&pin-source=/nonexistent/pin`), /Cannot read the PIN/);
      assert.throws(() => new Crypto("not a uri"), TypeError);
    });

    it("a PIN from an unreadable pin-source is not echoed", () => {
      assert.throws(
        () => new Crypto(`pkcs11:token=main?module-path=${SOFTHSM_LIBRARY}&pin-value=${SECRET_PIN}&pin-source=/x`),
        (error: Error) => /not both/.test(error.message) && !error.message.includes(SECRET_PIN),
      );
    });
  });

  it("close() is idempotent and later operations fail clearly", async () => {
    const crypto = new Crypto(config());
    await crypto.close();
    await crypto.close();
    await assert.rejects(crypto.subtle.digest("SHA-256", new Uint8Array(1)), /closed/);
    // With software: "public" the digest would not touch the token, but a closed Crypto still refuses.
    const softwarePath = new Crypto(config("main", { software: "public" }));
    await softwarePath.close();
    await assert.rejects(softwarePath.subtle.digest("SHA-256", new Uint8Array(1)), /closed/);
    assert.throws(() => crypto.getRandomValues(new Uint8Array(4)), /closed/);
  });
});
