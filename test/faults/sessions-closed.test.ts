// Sessions closed under us: C_CloseAllSessions on our slot by other code in this process (the
// module is shared, so it closes every session this process has on the token), while operations
// run.
//
// PKCS#11 says what that destroys: every session object of the application (all session keys)
// and, with the last session, the login. Defined behaviour, tested here: operations in flight
// finish or fail with an OperationError (a key that no longer exists, or a session closed under
// them), never a crash or a hang; afterwards the same Crypto works again: it replaces its dead
// sessions (the pools and the control session), logs in again with its kept PIN, and makes,
// uses and exports new keys; getRandomValues and isLoggedIn work.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { tokenOf } from "../support/capability.js";
import { withTimeout } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

describe("faults: sessions closed under us", () => {
  it("C_CloseAllSessions mid-load: in-flight operations succeed or fail cleanly, and the same Crypto recovers", async function () {
    this.timeout(60_000);
    const crypto = new Crypto(config());
    const other = new Crypto(config());
    try {
      const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const nodePublic = await native.importKey("spki", await crypto.subtle.exportKey("spki", pair.publicKey), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
      const data = new Uint8Array([4, 5, 6]);
      const load = Array.from({ length: 400 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i % 40)).then(async () => {
          if (i % 4 === 0) {
            // Digests need no key: they must survive by replacing the session.
            assert.equal((await crypto.subtle.digest("SHA-256", data)).byteLength, 32);
            return;
          }
          const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
          assert.ok(await native.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data));
        }),
      );
      const token = await tokenOf(other);
      const closeAll = new Promise((resolve) => setTimeout(resolve, 15)).then(() => token.module.pkcs11.C_CloseAllSessions(token.slot));
      const results = await withTimeout(Promise.allSettled([...load, closeAll]), 30_000, "operations across C_CloseAllSessions");
      const counts = new Map<string, number>();
      for (const result of results) {
        const outcome = result.status === "fulfilled" ? "ok" : `${(result.reason as Error).name}: ${(result.reason as Error).message}`;
        counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      }
      this.test!.title += ` [${[...counts].map(([k, n]) => `${n}x ${k.slice(0, 70)}`).join("; ")}]`;
      for (const [outcome, n] of counts) {
        // A digest may only fail if the token lacks it (NSS): then NotSupportedError.
        assert.ok(outcome === "ok" || /^OperationError: /.test(outcome) || /^NotSupportedError: .*CKM_SHA256/.test(outcome), `unexpected (${n}x): ${outcome}`);
      }
      assert.ok((counts.get("ok") ?? 0) > 0);

      // The same Crypto recovers: new keys, their use and export, the control session's calls.
      const fresh = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, true, ["sign", "verify"])) as CryptoKeyPair;
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, fresh.privateKey, data);
      assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, fresh.publicKey, signature, data), true);
      assert.equal((await crypto.subtle.exportKey("jwk", fresh.privateKey)).kty, "EC");
      assert.equal(crypto.isLoggedIn, true);
      assert.equal(crypto.getRandomValues(new Uint8Array(16)).length, 16);
      // The other connection recovers the same way.
      const hmac = (await other.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
      assert.equal((await other.subtle.sign("HMAC", hmac, data)).byteLength, 32);
      // The old session key is gone with its session, and says so.
      await assert.rejects(crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data), (error: Error) => {
        assert.equal(error.name, "OperationError");
        assert.match(error.message, /the key no longer exists on the token/);
        return true;
      });
    } finally {
      await Promise.all([crypto.close(), other.close()]);
    }
  });
});
