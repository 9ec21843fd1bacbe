// Sessions invalidated under us are replaced and the operation retried once; a failed operation
// never leaves its session to the next caller.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import type { SessionPool } from "../../src/token/session-pool.js";
import type { Token } from "../../src/token/token.js";
import { config } from "../support/tokens.js";

/** The operation pool of a connection (private; reached here to break it on purpose). */
function operationPool(token: Token): SessionPool {
  return (token as unknown as { operationSessions: SessionPool }).operationSessions;
}

describe("session recovery", () => {
  let crypto: Crypto;
  let key: CryptoKey;
  let token: Token;
  before(async () => {
    crypto = new Crypto(config("main", { poolSize: 1 }));
    key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])) as CryptoKey;
    token = keyObjectOf(key)!.token;
  });
  after(() => crypto.close());

  it("a session closed behind the pool's back is replaced, and the operation succeeds", async () => {
    const pool = operationPool(token);
    const session = await pool.lease();
    token.module.pkcs11.C_CloseSession(session);
    pool.release(session); // the pool now holds a dead session
    const mac = await crypto.subtle.sign("HMAC", key, new Uint8Array([1, 2, 3]));
    assert.equal(mac.byteLength, 32);
    assert.equal(await crypto.subtle.verify("HMAC", key, mac, new Uint8Array([1, 2, 3])), true);
  });

  it("after an operation fails on the token, the next one on the same (single-session) pool works", async () => {
    const aes = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt", "decrypt"])) as CryptoKey;
    const iv = new Uint8Array(12);
    await assert.rejects(crypto.subtle.decrypt({ name: "AES-GCM", iv }, aes, new Uint8Array(40)), { name: "OperationError" });
    const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, new Uint8Array(5));
    assert.deepEqual(new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, aes, ciphertext)), new Uint8Array(5));
  });

  it("an OperationError from the token keeps the PKCS#11 return value as its cause", async () => {
    const aes = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["decrypt"])) as CryptoKey;
    const error = await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, new Uint8Array(40)).then(
      () => assert.fail("decrypting garbage must fail"),
      (e: DOMException) => e,
    );
    assert.equal(error.name, "OperationError");
    const cause = (error as { cause?: { code?: string; method?: string } }).cause;
    assert.ok(cause?.code?.startsWith("CKR_"), `cause code ${cause?.code}`);
    assert.equal(cause?.method, "C_Decrypt");
  });
});
