// A session key's token object must outlive every operation that uses it, even when the caller
// drops the CryptoKey as soon as the call is made: `subtle.verify(alg, pair.publicKey, ...)` with
// `pair` gone right after is ordinary code. Found by the 100,000-operation stress run
// (STRESS_SCALE=10): 10 verifications with freshly made keys failed with CKR_OBJECT_HANDLE_INVALID,
// because the key was collected, and its object destroyed, while the operation waited for a session.
// Here the wait is made certain: one operation session, held by a long digest, and forced
// collections while the verification waits for it.
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { config } from "../support/tokens.js";

const gc = () => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error("run mocha with --expose-gc");
  collect();
};
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("stress: keys dropped while their operations wait", () => {
  it("a verification whose key is dropped and collected while it waits for a session still verifies", async function () {
    this.timeout(60_000);
    const crypto = new Crypto(config("main", { poolSize: 1, inlineCalls: "never" }));
    try {
      const data = new Uint8Array([1, 2, 3]);
      const big = new Uint8Array(32 << 20);
      const hasDigest = crypto.supports("SHA-256", "digest");
      const results: Promise<boolean>[] = [];
      for (let round = 0; round < 5; round++) {
        let pair: CryptoKeyPair | undefined = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
        const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
        // Occupy the only operation session (a 32 MiB digest on a worker thread, or a sign loop
        // where the token has no digest), then queue the verification behind it.
        const blocker = hasDigest
          ? crypto.subtle.digest("SHA-256", big)
          : Promise.all(Array.from({ length: 200 }, () => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair!.privateKey, data)));
        results.push(crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, data));
        pair = undefined;
        for (let i = 0; i < 3; i++) {
          gc();
          await tick(5); // finalizers run as tasks of their own
        }
        await blocker;
      }
      assert.deepEqual(await Promise.all(results), [true, true, true, true, true]);
    } finally {
      await crypto.close();
    }
  });
});
