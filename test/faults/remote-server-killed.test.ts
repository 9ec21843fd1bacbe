// A remote token (SoftHSM behind `p11-kit server`, through p11-kit-client.so) whose server dies
// mid-load: the server and its per-connection p11-kit-remote processes are killed (SIGKILL), as
// a crash or a lost machine would.
//
// Defined behaviour, tested here:
// - operations in flight finish or fail with an OperationError whose cause is a TokenError naming
//   the PKCS#11 return value (CKR_DEVICE_ERROR from p11-kit's client), never a crash or a hang
//   (every wait is bounded);
// - while the server is gone, every call fails at once the same way (getRandomValues: TokenError);
// - once the server is back on the same socket, the same Crypto recovers: its next operations
//   find the token again (p11-kit's client is initialized again, since it reconnects only then;
//   new sessions, a new login), and new keys work; keys from before fail with an OperationError
//   (CKR_OBJECT_HANDLE_INVALID), since their handles belonged to the dead server process and may
//   now name other objects. close() is prompt, and a new Crypto works too.
// This test starts its own server whatever TEST_TOKEN says; it cannot run while another Crypto
// in this process holds p11-kit-client.so (the module could not be initialized again).
import assert from "node:assert/strict";
import { Crypto, TokenError } from "../../src/index.js";
import { loadedModuleCount } from "../../src/token/module-registry.js";
import { withTimeout } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { P11_KIT_CLIENT, startRemoteToken, type RemoteToken } from "../support/p11kit-remote.js";

const LIMIT_MS = 20_000;
const data = new Uint8Array([7, 7, 7]);

/** The remote failure every call must show: an OperationError (or a TokenError) over a CKR_ code. */
function assertRemoteFailure(error: unknown, what: string): void {
  const e = error as Error & { code?: string; cause?: { code?: string } };
  assert.ok(e.name === "OperationError" || e.name === "TokenError", `${what}: ${e.name}: ${e.message}`);
  const code = e.name === "TokenError" ? e.code : e.cause?.code;
  assert.match(String(code), /^CKR_(DEVICE_ERROR|DEVICE_REMOVED|TOKEN_NOT_PRESENT|TOKEN_NOT_RECOGNIZED|SLOT_ID_INVALID|CRYPTOKI_NOT_INITIALIZED|SESSION_HANDLE_INVALID|SESSION_CLOSED|GENERAL_ERROR)$/, `${what}: code ${code} (${e.message})`);
}

describe("faults: the remote token's server killed mid-load", () => {
  let remote: RemoteToken;
  before(async function () {
    this.timeout(30_000);
    if (loadedModuleCount(P11_KIT_CLIENT) > 0) throw new Error("another Crypto in this process holds p11-kit-client.so: this test needs its own server");
    remote = await startRemoteToken("faults");
  });
  after(async () => {
    await remote?.stop();
  });

  it("in-flight calls fail with a clear error, nothing hangs, and the same Crypto recovers once the server is back", async function () {
    this.timeout(120_000);
    const crypto = new Crypto(remote.config);
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const nodePublic = await native.importKey("spki", await crypto.subtle.exportKey("spki", pair.publicKey), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);

    // Load: 8 workers signing (and checking each signature) until they fail; the kill comes
    // while they run.
    let signed = 0;
    const worker = async () => {
      for (;;) {
        const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
        assert.ok(await native.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data), "a signature made before the kill verifies");
        signed++;
      }
    };
    const workers = Array.from({ length: 8 }, () => worker().then(() => assert.fail("a worker cannot finish"), (error: unknown) => error));
    while (signed < 50) await new Promise((resolve) => setTimeout(resolve, 5));
    await remote.kill();
    const errors = await withTimeout(Promise.all(workers), LIMIT_MS, "operations in flight when the server died");
    errors.forEach((error, i) => assertRemoteFailure(error, `worker ${i}`));
    this.test!.title += ` [${signed} signatures before the kill; the in-flight ones: ${(errors[0] as Error).message}]`;

    // Dead server: each call fails at once, the same way.
    for (const call of [
      () => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data),
      () => crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"]),
      () => crypto.subtle.digest("SHA-256", data),
    ]) {
      await withTimeout(call().then(() => assert.fail("a call to a dead server succeeded"), (error) => assertRemoteFailure(error, "a call to the dead server")), LIMIT_MS, "a call to the dead server");
    }
    assert.throws(() => crypto.getRandomValues(new Uint8Array(4)), (error: unknown) => {
      assert.ok(error instanceof TokenError);
      assertRemoteFailure(error, "getRandomValues");
      return true;
    });

    // The server is back on the same socket: the same Crypto finds the token again (its next
    // operations reconnect: p11-kit's client is initialized again, new sessions, a new login).
    await remote.restart();
    let recovered: CryptoKeyPair | undefined;
    const failuresMeanwhile: string[] = [];
    const started = Date.now();
    while (!recovered && Date.now() - started < LIMIT_MS) {
      try {
        recovered = (await withTimeout(crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"]), LIMIT_MS, "a call after the restart")) as CryptoKeyPair;
      } catch (error) {
        assertRemoteFailure(error, "a call after the restart, before the reconnection");
        failuresMeanwhile.push((error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    assert.ok(recovered, `the same Crypto did not recover within ${LIMIT_MS} ms: ${failuresMeanwhile.slice(-1)[0]}`);
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, recovered.privateKey, data);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, recovered.publicKey, signature, data), true);
    assert.equal(crypto.isLoggedIn, true);
    assert.equal(crypto.getRandomValues(new Uint8Array(8)).length, 8);
    this.test!.title += ` [recovered after ${failuresMeanwhile.length} failed calls]`;
    // A key from before the kill belonged to the dead server process: its handle may now name
    // another object, so it must fail, never sign with whatever key has that number now.
    await assert.rejects(crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data), (error: Error) => {
      assert.equal(error.name, "OperationError");
      assert.equal((error as { cause?: { code?: string } }).cause?.code, "CKR_OBJECT_HANDLE_INVALID", error.message);
      return true;
    });
    await withTimeout(crypto.close(), 5_000, "close() after the recovery");
    // And close() plus a new Crypto works as well (the path for a module other connections share).
    const again = new Crypto(remote.config);
    try {
      const fresh = (await again.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const freshSignature = await again.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, fresh.privateKey, data);
      assert.equal(await again.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, fresh.publicKey, freshSignature, data), true);
    } finally {
      await again.close();
    }
  });
});
