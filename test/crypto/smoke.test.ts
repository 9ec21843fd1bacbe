import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { config } from "../support/tokens.js";

describe("smoke", () => {
  it("signs on the token and Node verifies", async () => {
    const crypto = new Crypto(config());
    try {
      const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const data = Buffer.from("smoke");
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, data);
      const spki = await crypto.subtle.exportKey("spki", keys.publicKey);
      const publicKey = await globalThis.crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
      assert.equal(await globalThis.crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, signature, data), true);
    } finally {
      await crypto.close();
    }
  });
});
