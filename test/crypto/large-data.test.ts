// 64 MiB through the token's asynchronous calls while the garbage collector is forced to run:
// pkcs11js does not keep the buffers of its asynchronous calls alive, so if we did not, the
// collector would free them under the worker thread and the process would crash (this is how
// node-webcrypto-p11 dies hashing 8 MiB). The tests run under `node --expose-gc` (.mocharc.json).
// A token without the digest (NSS's "NSS Certificate DB") or AES-GCM (p11-kit 0.24's remote token)
// must refuse with NotSupportedError naming the mechanism.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { itIfSupported } from "../support/capability.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

const SIZE = 64 * 1024 * 1024;

/** Runs `work` while calling gc() every millisecond, then returns its result. */
async function underGcPressure<T>(work: () => Promise<T>): Promise<T> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "these tests need node --expose-gc");
  let collections = 0;
  const timer = setInterval(() => {
    gc();
    collections++;
  }, 1);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    assert.ok(collections > 0, "the collector must have run during the operation");
  }
}

describe("large data under forced garbage collection", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  const hasDigests = () => crypto.supports("SHA-256", "digest") && crypto.supports("SHA-512", "digest");
  const smallDigests = () => Promise.all(["SHA-256", "SHA-512"].map((hash) => crypto.subtle.digest(hash, new Uint8Array(64))));

  itIfSupported(hasDigests, "SHA-256 and SHA-512 of 64 MiB equal Node's, with no reference kept to the input", async function () {
    this.timeout(120_000);
    const seed = randomBytes(SIZE);
    const expected256 = createHash("sha256").update(seed).digest();
    const expected512 = createHash("sha512").update(seed).digest();
    // The inputs are fresh copies that only the calls see.
    const [d256, d512] = await underGcPressure(() =>
      Promise.all([crypto.subtle.digest("SHA-256", Uint8Array.from(seed)), crypto.subtle.digest("SHA-512", Uint8Array.from(seed))]),
    );
    assert.deepEqual(Buffer.from(d256), expected256);
    assert.deepEqual(Buffer.from(d512), expected512);
  }, { mechanism: /CKM_SHA(256|512)\b/, call: smallDigests });

  itIfSupported(() => crypto.supports("AES-GCM", "encrypt"), "AES-GCM over 64 MiB: ciphertext equals Node's and decrypts back", async function () {
    this.timeout(180_000);
    const keyBytes = randomBytes(32);
    const key = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    const nativeKey = await native.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt"]);
    const iv = randomBytes(12);
    const plaintext = randomBytes(SIZE);
    const expected = Buffer.from(await native.encrypt({ name: "AES-GCM", iv }, nativeKey, plaintext));
    const ciphertext = await underGcPressure(() => crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, Uint8Array.from(plaintext)));
    assert.equal(ciphertext.byteLength, SIZE + 16);
    assert.ok(Buffer.from(ciphertext).equals(expected), "ciphertext differs from Node's");
    const decrypted = await underGcPressure(() => crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, ciphertext));
    assert.ok(Buffer.from(decrypted).equals(plaintext), "decryption differs from the plaintext");
  }, {
    mechanism: "CKM_AES_GCM",
    call: async () => {
      const key = await crypto.subtle.importKey("raw", randomBytes(32), "AES-GCM", false, ["encrypt", "decrypt"]);
      return crypto.subtle.encrypt({ name: "AES-GCM", iv: randomBytes(12) }, key, new Uint8Array(64));
    },
  });

  itIfSupported(() => crypto.supports("SHA-256", "digest"), "many concurrent 1 MiB digests with collections in between", async function () {
    this.timeout(120_000);
    const inputs = Array.from({ length: 32 }, () => randomBytes(1024 * 1024));
    const results = await underGcPressure(() => Promise.all(inputs.map((input) => crypto.subtle.digest("SHA-256", Uint8Array.from(input)))));
    results.forEach((result, i) => assert.deepEqual(Buffer.from(result), createHash("sha256").update(inputs[i]).digest()));
  }, { mechanism: "CKM_SHA256", call: () => crypto.subtle.digest("SHA-256", new Uint8Array(64)) });

  // One at a time, a large digest on a quick token runs in slices (src/token/operations.ts) on an
  // input copied into reused memory (src/crypto/input-copies.ts): sizes around the slice and
  // size-class edges, with the caller's buffer changed as soon as each call returns (the copy is
  // taken at the call, as the spec says) and the reused memory dirty from the call before.
  itIfSupported(() => crypto.supports("SHA-256", "digest"), "sequential large digests equal Node's at slice and pool edges, whatever the caller does to its buffer after the call", async function () {
    this.timeout(60_000);
    const KiB = 1024;
    for (const size of [64 * KiB - 1, 64 * KiB, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 1024 * KiB + 3, 3 * 1024 * KiB, 8 * 1024 * KiB + 1]) {
      const input = randomBytes(size);
      const expected = createHash("sha256").update(input).digest();
      const pending = crypto.subtle.digest("SHA-256", input);
      input.fill(0);
      assert.deepEqual(Buffer.from(await pending), expected, `${size} bytes`);
      const view = new Uint8Array(randomBytes(size + 7).buffer, 7, size);
      assert.deepEqual(Buffer.from(await crypto.subtle.digest("SHA-256", view)), createHash("sha256").update(view).digest(), `${size} bytes at an offset`);
    }
  }, { mechanism: "CKM_SHA256", call: () => crypto.subtle.digest("SHA-256", new Uint8Array(64)) });
});
