// Sessions invalidated under us are replaced and the operation retried once; a failed operation
// never leaves its session to the next caller.
//
// A decryption the token refuses is the failure used: AES-GCM of garbage where the token has
// CKM_AES_GCM; RSA-OAEP of garbage where it does not (p11-kit 0.24's remote token drops AES-GCM;
// there, AES-GCM must answer NotSupportedError, which never reaches the token).
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import type { SessionPool } from "../../src/token/session-pool.js";
import type { Token } from "../../src/token/token.js";
import { assertNotSupported } from "../support/capability.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

/** A key that decrypts on the token, with the parameters and a plaintext's encryption. */
interface Decrypting {
  algorithm: AesGcmParams | RsaOaepParams;
  key: CryptoKey;
  /** Bytes the token refuses to decrypt. */
  garbage: Uint8Array<ArrayBuffer>;
  encrypt(data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

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
    key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign", "verify"])) as CryptoKey;
    token = keyObjectOf(key)!.token;
  });
  after(() => crypto.close());

  /** AES-GCM where the token has it, otherwise RSA-OAEP (SHA-1, no label: every test token has it). */
  async function decrypting(): Promise<Decrypting> {
    if (crypto.supports("AES-GCM", "decrypt")) {
      const algorithm = { name: "AES-GCM", iv: new Uint8Array(12) };
      const key = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt", "decrypt"])) as CryptoKey;
      return { algorithm, key, garbage: new Uint8Array(40), encrypt: (data) => crypto.subtle.encrypt(algorithm, key, data) };
    }
    const aes = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt", "decrypt"])) as CryptoKey;
    await assertNotSupported(crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, new Uint8Array(40)), "CKM_AES_GCM");
    const rsa = { name: "RSA-OAEP", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" };
    const pair = (await native.generateKey(rsa, true, ["encrypt", "decrypt"])) as CryptoKeyPair;
    const key = await crypto.subtle.importKey("pkcs8", await native.exportKey("pkcs8", pair.privateKey), rsa, false, ["decrypt"]);
    const algorithm = { name: "RSA-OAEP" };
    return { algorithm, key, garbage: new Uint8Array(128).fill(0xff, 1), encrypt: (data) => native.encrypt(algorithm, pair.publicKey, data) };
  }

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
    const { algorithm, key, garbage, encrypt } = await decrypting();
    await assert.rejects(crypto.subtle.decrypt(algorithm, key, garbage), { name: "OperationError" });
    const ciphertext = await encrypt(new Uint8Array(5));
    assert.deepEqual(new Uint8Array(await crypto.subtle.decrypt(algorithm, key, ciphertext)), new Uint8Array(5));
  });

  it("an OperationError from the token keeps the PKCS#11 return value as its cause", async () => {
    const { algorithm, key, garbage } = await decrypting();
    const error = await crypto.subtle.decrypt(algorithm, key, garbage).then(
      () => assert.fail("decrypting garbage must fail"),
      (e: DOMException) => e,
    );
    assert.equal(error.name, "OperationError");
    const cause = (error as { cause?: { code?: string; method?: string } }).cause;
    assert.ok(cause?.code?.startsWith("CKR_"), `cause code ${cause?.code}`);
    assert.equal(cause?.method, "C_Decrypt");
  });
});
