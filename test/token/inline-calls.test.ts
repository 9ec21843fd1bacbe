// Inline calls: small operations on a token that answers in microseconds run without the trip to
// a worker thread. The choice is measured at connection and can be turned off; either way the
// results are the same (the differential suites run with the default, this checks "never" too).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { native } from "../support/oracle.js";
import { config, tokenKind } from "../support/tokens.js";

async function tokenOf(crypto: Crypto) {
  const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign", "verify"])) as CryptoKey;
  return { key, token: keyObjectOf(key)!.token };
}

describe("inline calls", () => {
  it(`are chosen by measuring the token (${tokenKind()}): in-process tokens are quick, a token behind p11-kit's socket is not`, async () => {
    const crypto = new Crypto(config());
    try {
      const { token } = await tokenOf(crypto);
      assert.equal(token.quickCalls, tokenKind() !== "remote");
    } finally {
      await crypto.close();
    }
  });

  it("inlineCalls: \"never\" keeps every call on worker threads, with the same results", async () => {
    const crypto = new Crypto(config("main", { inlineCalls: "never" }));
    try {
      const { key, token } = await tokenOf(crypto);
      assert.equal(token.quickCalls, false);
      const data = randomBytes(100);
      const mac = await crypto.subtle.sign("HMAC", key, data);
      assert.equal(await crypto.subtle.verify("HMAC", key, mac, data), true);
      if (crypto.supports("SHA-256", "digest")) {
        assert.deepEqual(Buffer.from(await crypto.subtle.digest("SHA-256", data)), createHash("sha256").update(data).digest());
      }
      if (crypto.supports("AES-GCM", "encrypt")) {
        const raw = randomBytes(16);
        const aes = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
        const iv = randomBytes(12);
        const nodeKey = await native.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
        assert.deepEqual(Buffer.from(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, data)), Buffer.from(await native.encrypt({ name: "AES-GCM", iv }, nodeKey, data)));
      }
    } finally {
      await crypto.close();
    }
  });
});
