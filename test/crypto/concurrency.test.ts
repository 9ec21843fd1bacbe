// Promise.all of many operations must just work: every operation leases its own session, so
// nothing fails with CKR_OPERATION_ACTIVE, and every result is checked against Node's crypto.
// Where the token lacks a mechanism of the mix (NSS's "NSS Certificate DB": no CKM_SHA256; p11-kit
// 0.24's remote token: no CKM_AES_GCM), those operations stay in the mix and must each fail with
// NotSupportedError naming it, while the others around them still succeed.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { assertNotSupported } from "../support/capability.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

describe("concurrency", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  it("1,000 concurrent mixed sign/verify/encrypt/decrypt/digest operations, all correct", async function () {
    this.timeout(180_000);
    const subtle = crypto.subtle;
    const hasGcm = crypto.supports("AES-GCM", "encrypt");
    const hasDigest = crypto.supports("SHA-256", "digest");
    const lacking = [hasGcm ? "" : "AES-GCM", hasDigest ? "" : "SHA-256"].filter(Boolean);
    if (lacking.length > 0) this.test!.title += ` [${lacking.join(", ")}: NotSupportedError, not on this token]`;
    const ec = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const ecPublic = await native.importKey("spki", await subtle.exportKey("spki", ec.publicKey), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const rsa = (await subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams,
      false,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const rsaPublic = await native.importKey("spki", await subtle.exportKey("spki", rsa.publicKey), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
    const hmacBytes = randomBytes(32);
    const hmac = await subtle.importKey("raw", hmacBytes, { name: "HMAC", hash: "SHA-256" } as HmacImportParams, false, ["sign", "verify"]);
    const hmacNative = await native.importKey("raw", hmacBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const aesBytes = randomBytes(32);
    const aes = await subtle.importKey("raw", aesBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    const aesNative = await native.importKey("raw", aesBytes, "AES-GCM", false, ["encrypt", "decrypt"]);

    const kinds = ["ecdsa", "rsa", "hmac", "aes", "digest", "verify"] as const;
    const tasks = Array.from({ length: 1000 }, (_, i) => async (): Promise<string> => {
      const kind = kinds[i % kinds.length];
      const data = randomBytes(1 + (i % 300));
      switch (kind) {
        case "ecdsa": {
          const signature = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ec.privateKey, data);
          assert.ok(await native.verify({ name: "ECDSA", hash: "SHA-256" }, ecPublic, signature, data), `ecdsa ${i}`);
          break;
        }
        case "rsa": {
          const signature = await subtle.sign("RSASSA-PKCS1-v1_5", rsa.privateKey, data);
          assert.ok(await native.verify("RSASSA-PKCS1-v1_5", rsaPublic, signature, data), `rsa ${i}`);
          break;
        }
        case "hmac": {
          const ours = Buffer.from(await subtle.sign("HMAC", hmac, data));
          assert.deepEqual(ours, Buffer.from(await native.sign("HMAC", hmacNative, data)), `hmac ${i}`);
          break;
        }
        case "aes": {
          const iv = randomBytes(12);
          if (!hasGcm) {
            await assertNotSupported(subtle.encrypt({ name: "AES-GCM", iv }, aes, data), "CKM_AES_GCM", `aes ${i}`);
            const ciphertext = await native.encrypt({ name: "AES-GCM", iv }, aesNative, data);
            await assertNotSupported(subtle.decrypt({ name: "AES-GCM", iv }, aes, ciphertext), "CKM_AES_GCM", `aes back ${i}`);
            break;
          }
          const ciphertext = await subtle.encrypt({ name: "AES-GCM", iv }, aes, data);
          assert.deepEqual(Buffer.from(await native.decrypt({ name: "AES-GCM", iv }, aesNative, ciphertext)), data, `aes ${i}`);
          assert.deepEqual(Buffer.from(await subtle.decrypt({ name: "AES-GCM", iv }, aes, ciphertext)), data, `aes back ${i}`);
          break;
        }
        case "digest":
          if (!hasDigest) {
            await assertNotSupported(subtle.digest("SHA-256", data), "CKM_SHA256", `digest ${i}`);
            break;
          }
          assert.deepEqual(Buffer.from(await subtle.digest("SHA-256", data)), createHash("sha256").update(data).digest(), `digest ${i}`);
          break;
        case "verify": {
          const signature = await native.sign("HMAC", hmacNative, data);
          assert.equal(await subtle.verify("HMAC", hmac, signature, data), true, `verify ${i}`);
          break;
        }
      }
      return kind;
    });
    const results = await Promise.allSettled(tasks.map((task) => task()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(failures.length, 0, `failures: ${failures.slice(0, 3).map((f) => String(f.reason)).join("; ")}`);
    const done = results.map((r) => (r as PromiseFulfilledResult<string>).value);
    for (const kind of kinds) assert.ok(done.filter((k) => k === kind).length >= 166, kind);
  });

  it("256 concurrent key generations each get their own key", async function () {
    this.timeout(60_000);
    const keys = await Promise.all(
      Array.from({ length: 256 }, () => crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, true, ["encrypt"]) as Promise<CryptoKey>),
    );
    const raw = await Promise.all(keys.map((key) => crypto.subtle.exportKey("raw", key)));
    assert.equal(new Set(raw.map((r) => Buffer.from(r).toString("hex"))).size, 256);
  });
});
