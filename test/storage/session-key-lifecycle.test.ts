// Session keys are token objects that must not outlive their CryptoKeys: a loop making 100,000
// ephemeral keys keeps the token's count of session objects bounded, because each collected
// CryptoKey's object is destroyed (src/keys/session-key-reaper.ts); close() destroys the rest.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { findObjects } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import type { Token } from "../../src/token/token.js";
import { config } from "../support/tokens.js";

/** LIFECYCLE_KEYS overrides the count (the figure is the default). */
const KEYS = Number(process.env.LIFECYCLE_KEYS ?? 100_000);
const BATCH = 1_000;
/** Live session objects allowed at any check: a few batches whose keys are not yet collected. */
const BOUND = 5 * BATCH;

const sessionObjects = async (token: Token) => (await findObjects(token, [{ type: pkcs11js.CKA_TOKEN, value: false }])).length;

describe("session key lifecycle", () => {
  it(`${KEYS.toLocaleString("en")} ephemeral keys leave at most ${BOUND.toLocaleString("en")} session objects at any time, and none after close()`, async function () {
    this.timeout(600_000);
    const crypto = new Crypto(config());
    const probe = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    const token = keyObjectOf(probe)!.token;
    const start = await sessionObjects(token);
    let highest = 0;
    // HMAC keys: a secret-key generation every token here has (NSS and the remote token too).
    for (let made = 0; made < KEYS; made += BATCH) {
      const batch = [];
      for (let i = 0; i < BATCH; i++) batch.push(crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 256 } as HmacKeyGenParams, false, ["sign"]));
      await Promise.all(batch);
      batch.length = 0;
      global.gc?.();
      await new Promise((resolve) => setImmediate(resolve));
      highest = Math.max(highest, (await sessionObjects(token)) - start);
    }
    assert.ok(highest <= BOUND, `up to ${highest} session objects were alive at once`);
    // A key kept alive is not destroyed under its holder.
    assert.equal((await crypto.subtle.sign("HMAC", probe, Buffer.from("still here"))).byteLength, 32);
    await crypto.close();
    // The objects of this connection die with its sessions; a new connection sees none of them.
    const after = new Crypto(config());
    const fresh = (await after.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    assert.ok((await sessionObjects(keyObjectOf(fresh)!.token)) <= start + 1, "session objects survived close()");
    await after.close();
  });
});
