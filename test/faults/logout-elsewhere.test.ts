// A logout by another connection while operations run, and a logout by another process.
//
// PKCS#11 makes login state per application, not per connection: when another Crypto on the
// same module logs out, this one is logged out too, and the token destroys the application's
// private session objects and invalidates its handles to private objects (C_Logout; SoftHSM does
// exactly that). Defined behaviour, tested here: operations in flight and later ones on such keys
// fail with an OperationError that says the key no longer exists (CKR_OBJECT_HANDLE_INVALID),
// never a crash or a hang; the connection itself recovers: it logs in again with its kept PIN on
// the next operation that needs a login, and new keys work. A logout in another process changes
// nothing here (each process has its own login state).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Crypto } from "../../src/index.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { tokenOf } from "../support/capability.js";
import { withTimeout } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config, softHsmConfig, SOFTHSM_LIBRARY, tokenKind, USER_PIN } from "../support/tokens.js";

const execFileAsync = promisify(execFile);

/** Destroys the token objects with this label (the persistent key a test made), logged in again. */
async function removeTokenObjects(crypto: Crypto, label: string): Promise<void> {
  const token = await tokenOf(crypto); // (an operation that logs in again if needed)
  const pkcs11 = token.module.pkcs11;
  const session = pkcs11.C_OpenSession(token.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
    const handles = pkcs11.C_FindObjects(session, 100);
    pkcs11.C_FindObjectsFinal(session);
    for (const handle of handles) pkcs11.C_DestroyObject(session, handle);
  } finally {
    pkcs11.C_CloseSession(session);
  }
}

/** Outcomes of settled promises, by "ok" or error name and message. */
function outcomes(results: PromiseSettledResult<unknown>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const result of results) {
    const key = result.status === "fulfilled" ? "ok" : `${(result.reason as Error).name}: ${(result.reason as Error).message}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe("faults: logout by another connection or process", () => {
  it("a logout by another Crypto mid-load: in-flight operations succeed or say the key is gone; the connection logs in again and new keys work", async function () {
    this.timeout(60_000);
    const crypto = new Crypto(config());
    const other = new Crypto(config());
    try {
      const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const nodePublic = await native.importKey("spki", await crypto.subtle.exportKey("spki", pair.publicKey), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
      const data = new Uint8Array([1, 2, 3]);
      const load = Array.from({ length: 400 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i % 40)).then(async () => {
          const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
          assert.ok(await native.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data), "a signature made across the logout must verify");
        }),
      );
      const logout = new Promise((resolve) => setTimeout(resolve, 15)).then(() => other.logout());
      const results = await withTimeout(Promise.allSettled([...load, logout]), 30_000, "operations across a logout");
      const counts = outcomes(results);
      for (const [outcome, n] of counts) {
        assert.ok(outcome === "ok" || /^OperationError: .*CKR_OBJECT_HANDLE_INVALID: the key no longer exists on the token/.test(outcome), `unexpected outcome (${n}x): ${outcome}`);
      }
      assert.ok((counts.get("ok") ?? 0) > 0, "some operations ran before the logout");
      this.test!.title += ` [${[...counts].map(([k, n]) => `${n}x ${k.slice(0, 60)}`).join("; ")}]`;
      // The pair was a private session object: SoftHSM destroyed it with the logout (PKCS#11's
      // rule); a token that keeps it (NSS) must still sign correctly with it.
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data).then(
        async (signature) => assert.ok(await native.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data)),
        (error: Error) => assert.match(`${error.name}: ${error.message}`, /^OperationError: .*the key no longer exists on the token/),
      );
      // The connection recovers: a private key needs the login, which it redoes with its PIN.
      const fresh = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, fresh.privateKey, data);
      assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, fresh.publicKey, signature, data), true);
      assert.equal(crypto.isLoggedIn, true);
    } finally {
      await Promise.all([crypto.close(), other.close()]);
    }
  });

  it("a persistent private key's handle dies with a logout too: OperationError, and the error says why", async function () {
    const crypto = new Crypto(config());
    const other = new Crypto(config());
    try {
      const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256", token: true, label: "faults-logout" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
      assert.equal((await crypto.subtle.sign("HMAC", key, new Uint8Array(1))).byteLength, 32);
      other.logout();
      const error = await crypto.subtle.sign("HMAC", key, new Uint8Array(1)).then(
        () => undefined,
        (e: Error) => e,
      );
      // Where a token keeps the handle, the sign succeeds after the login is redone. SoftHSM
      // invalidates it (CKR_OBJECT_HANDLE_INVALID), and the message must say what that means.
      // (NSS answers CKR_KEY_SIZE_RANGE to a private token key while logged out, which does not
      // say "log in": an OperationError naming it is all we can give.)
      if (error) {
        assert.equal(error.name, "OperationError");
        const code = (error as { cause?: { code?: string } }).cause?.code;
        if (code === "CKR_OBJECT_HANDLE_INVALID") assert.match(error.message, /the key no longer exists on the token/);
        else assert.match(error.message, /CKR_/);
        this.test!.title += ` [${code}]`;
      }
    } finally {
      await removeTokenObjects(crypto, "faults-logout");
      await Promise.all([crypto.close(), other.close()]);
    }
  });

  it("a login and logout by another process (pkcs11-tool) while operations run changes nothing here", async function () {
    this.timeout(60_000);
    // Another process's login state is its own: the SoftHSM token, whatever TEST_TOKEN says.
    const crypto = new Crypto(softHsmConfig("main"));
    try {
      const key = await crypto.subtle.importKey("raw", new Uint8Array(32).fill(7), { name: "HMAC", hash: "SHA-256" } as HmacImportParams, false, ["sign"]);
      const expected = Buffer.from(await native.sign("HMAC", await native.importKey("raw", new Uint8Array(32).fill(7), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new Uint8Array(5)));
      let stop = false;
      let signed = 0;
      const loop = (async () => {
        while (!stop) {
          assert.deepEqual(Buffer.from(await crypto.subtle.sign("HMAC", key, new Uint8Array(5))), expected);
          signed++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      // pkcs11-tool logs in, lists the private objects and logs out (C_Logout, then C_Finalize),
      // several times, while the loop above keeps signing.
      for (let i = 0; i < 3; i++) {
        await execFileAsync("pkcs11-tool", ["--module", SOFTHSM_LIBRARY, "--token-label", "main", "--login", "--pin", USER_PIN, "--list-objects"], { env: process.env });
      }
      stop = true;
      await withTimeout(loop, 20_000, "signing during another process's login");
      assert.ok(signed > 0);
      assert.equal(crypto.isLoggedIn, true);
      assert.deepEqual(Buffer.from(await crypto.subtle.sign("HMAC", key, new Uint8Array(5))), expected);
      this.test!.title += ` [${signed} MACs meanwhile${tokenKind() === "softhsm" ? "" : "; on SoftHSM"}]`;
    } finally {
      await crypto.close();
    }
  });
});
