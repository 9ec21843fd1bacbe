// wrapKey and unwrapKey: the argument checks the face makes before any algorithm is involved,
// with Node's error names. (No algorithm wraps yet: wrapping with a key that has only the
// wrapKey usage takes C_WrapKey, which the algorithm families do not implement yet.)
import { randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { assertSameOutcome, native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

describe("wrapKey and unwrapKey argument checks", () => {
  let crypto: Crypto;
  const kek = randomBytes(32);
  let ourKek: CryptoKey;
  let nodeKek: CryptoKey;
  const gcm = { name: "AES-GCM", iv: randomBytes(12) };

  before(async () => {
    crypto = new Crypto(config());
    ourKek = await crypto.subtle.importKey("raw", kek, "AES-GCM", false, ["wrapKey", "unwrapKey"]);
    nodeKek = await native.importKey("raw", kek, "AES-GCM", false, ["wrapKey", "unwrapKey"]);
  });
  after(() => crypto.close());

  it("error names equal Node's", async () => {
    const hmac = { name: "HMAC", hash: "SHA-256" };
    const sealed = (await crypto.subtle.generateKey(hmac, false, ["sign"])) as CryptoKey;
    const nodeSealed = (await native.generateKey(hmac, false, ["sign"])) as CryptoKey;
    const open = (await crypto.subtle.generateKey(hmac, true, ["sign"])) as CryptoKey;
    const nodeOpen = (await native.generateKey(hmac, true, ["sign"])) as CryptoKey;
    const encryptOnly = await crypto.subtle.importKey("raw", kek, "AES-GCM", false, ["encrypt"]);
    const nodeEncryptOnly = await native.importKey("raw", kek, "AES-GCM", false, ["encrypt"]);
    await assertSameOutcome("non-extractable key", () => crypto.subtle.wrapKey("raw", sealed, ourKek, gcm), () => native.wrapKey("raw", nodeSealed, nodeKek, gcm));
    await assertSameOutcome("wrapping key without wrapKey usage", () => crypto.subtle.wrapKey("raw", open, encryptOnly, gcm), () => native.wrapKey("raw", nodeOpen, nodeEncryptOnly, gcm));
    await assertSameOutcome("unknown wrap algorithm", () => crypto.subtle.wrapKey("raw", open, ourKek, { name: "FOO" }), () => native.wrapKey("raw", nodeOpen, nodeKek, { name: "FOO" }));
    await assertSameOutcome("wrong format for the key", () => crypto.subtle.wrapKey("spki", open, ourKek, gcm), () => native.wrapKey("spki", nodeOpen, nodeKek, gcm));
    await assertSameOutcome("bad format", () => crypto.subtle.wrapKey("foo" as never, open, ourKek, gcm), () => native.wrapKey("foo" as never, nodeOpen, nodeKek, gcm));
    await assertSameOutcome("unwrapping key without unwrapKey usage", () => crypto.subtle.unwrapKey("raw", randomBytes(48), encryptOnly, gcm, hmac, true, ["sign"]), () => native.unwrapKey("raw", randomBytes(48), nodeEncryptOnly, gcm, hmac, true, ["sign"]));
  });
});
