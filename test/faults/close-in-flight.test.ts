// close() while operations are in flight. Defined behaviour (README: "close() waits for
// operations in flight, then closes every session"): an operation that started before close()
// finishes with its correct result; one started after it fails at once with an error that says
// the connection is closed (an OperationError whose cause is a TokenError with code CLOSED, or
// that TokenError itself for calls outside an algorithm); close() resolves once the last
// operation in flight is done, including an RSA key generation on a worker thread; nothing
// crashes or hangs (timeouts), and calling close() again is harmless.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { withTimeout } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

const isClosedError = (error: unknown) =>
  (error as Error)?.name !== undefined &&
  ["OperationError", "TokenError"].includes((error as Error).name) &&
  /connection to token .* is closed/.test((error as Error).message) &&
  ((error as { code?: string }).code === "CLOSED" || (error as { cause?: { code?: string } }).cause?.code === "CLOSED");

describe("faults: close() with operations in flight", () => {
  it("operations started before close() complete correctly, later ones fail saying the connection is closed, close() resolves", async function () {
    this.timeout(60_000);
    const crypto = new Crypto(config());
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const nodePublic = await native.importKey("spki", await crypto.subtle.exportKey("spki", pair.publicKey), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const hasDigest = crypto.supports("SHA-256", "digest");
    const data = new Uint8Array(100).fill(3);
    let closeCalled = false;
    // Started before close(), marked as such; then close() is called while they run, and more
    // operations start after it.
    const operation = async (i: number) => {
      const startedBeforeClose = !closeCalled;
      try {
        if (i % 3 === 0 && hasDigest) {
          assert.deepEqual(Buffer.from(await crypto.subtle.digest("SHA-256", data)), createHash("sha256").update(data).digest());
        } else if (i % 3 === 1) {
          await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"]);
        } else {
          const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
          assert.ok(await native.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data));
        }
        return startedBeforeClose ? "before: ok" : "after: ok";
      } catch (error) {
        if (!startedBeforeClose && isClosedError(error)) return "after: closed";
        throw error;
      }
    };
    const before = Array.from({ length: 300 }, (_, i) => operation(i));
    // A slow one on a worker thread: RSA key generation.
    const rsa = crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams, false, ["sign"]);
    closeCalled = true;
    const closing = crypto.close();
    const after = Array.from({ length: 100 }, (_, i) => operation(i));
    const results = await withTimeout(Promise.all([...before, ...after]), 30_000, "operations around close()");
    assert.ok(((await withTimeout(rsa, 30_000, "RSA generation in flight")) as CryptoKeyPair).privateKey, "the RSA generation in flight completes");
    await withTimeout(closing, 30_000, "close()");
    const counts = new Map<string, number>();
    for (const result of results) counts.set(result, (counts.get(result) ?? 0) + 1);
    this.test!.title += ` [${[...counts].map(([k, n]) => `${k} ${n}`).join(", ")}]`;
    assert.equal(counts.get("before: ok"), 300, "every operation started before close() completes");
    assert.equal(counts.get("after: closed"), 100, "every operation started after close() fails saying so");
    // After close: everything says closed, close() again is harmless.
    await assert.rejects(crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data), isClosedError);
    assert.throws(() => crypto.getRandomValues(new Uint8Array(4)), isClosedError);
    await withTimeout(crypto.close(), 5_000, "a second close()");
  });

  it("a key collected after close() is not destroyed on a closed connection (no crash), and close() with nothing in flight is prompt", async function () {
    this.timeout(30_000);
    const crypto = new Crypto(config());
    let key: CryptoKey | undefined = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    assert.equal((await crypto.subtle.sign("HMAC", key, new Uint8Array(1))).byteLength, 32);
    const started = Date.now();
    await withTimeout(crypto.close(), 5_000, "close()");
    assert.ok(Date.now() - started < 5_000);
    key = undefined;
    (globalThis as { gc?: () => void }).gc?.();
    // The key's finalizer runs as a task: let it. It must leave the closed connection alone (and
    // the module, finalized if this was its last connection, untouched): a new one then works.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = new Crypto(config());
    try {
      const fresh = (await again.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
      assert.equal((await again.subtle.sign("HMAC", fresh, new Uint8Array(1))).byteLength, 32);
    } finally {
      await again.close();
    }
  });
});
