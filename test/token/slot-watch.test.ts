// watchSlots, and a token that goes away under a Crypto and comes back.
//
// SoftHSM cannot lose a token under a loaded module without breaking the whole module (deleting a
// token directory makes C_GetSlotList answer CKR_GENERAL_ERROR until the module is reloaded), so
// removal is tested on a token of our own behind p11-kit's server, whose server we kill: the
// client then answers CKR_DEVICE_ERROR to every call until it is re-initialized.
import assert from "node:assert/strict";
import { Crypto, watchSlots, type SlotEvent } from "../../src/index.js";
import { loadedModuleCount } from "../../src/token/module-registry.js";
import { native } from "../support/oracle.js";
import { P11_KIT_CLIENT, startRemoteToken, type RemoteToken } from "../support/p11kit-remote.js";
import { SOFTHSM_LIBRARY, throwawayToken } from "../support/throwaway-token.js";

/** Waits until `events` holds one matching `match`, or fails after `ms`. */
async function eventually(events: SlotEvent[], match: (event: SlotEvent) => boolean, ms = 5000): Promise<SlotEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = events.find(match);
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`no matching slot event within ${ms} ms; events: ${JSON.stringify(events, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ecdsa = { name: "ECDSA", namedCurve: "P-256" };
const ecdsaSign = { name: "ECDSA", hash: "SHA-256" };

describe("slot watching", () => {
  it("reports a token that initToken puts into SoftHSM's free slot, and stops at close()", async () => {
    const before = loadedModuleCount(SOFTHSM_LIBRARY);
    const events: SlotEvent[] = [];
    const watch = watchSlots({ library: SOFTHSM_LIBRARY }, (event) => events.push(event), { intervalMs: 20 });
    try {
      assert.equal(loadedModuleCount(SOFTHSM_LIBRARY), before + 1, "the watch holds the module");
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.deepEqual(events, [], "nothing changed yet");
      const { label, slot } = throwawayToken("watched");
      const inserted = await eventually(events, (e) => e.type === "inserted" && e.token?.label === label);
      assert.equal(inserted.slotId, slot.slotId);
      assert.equal(inserted.token!.tokenInitialized, true);
      // The free slot's uninitialized token was replaced: SoftHSM reports it gone from that slot.
      await eventually(events, (e) => e.type === "removed" && e.slotId === slot.slotId && e.token?.tokenInitialized === false);
    } finally {
      watch.close();
    }
    assert.equal(watch.closed, true);
    assert.equal(loadedModuleCount(SOFTHSM_LIBRARY), before, "close() released the module");
    const count = events.length;
    throwawayToken("unwatched");
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(events.length, count, "no events after close()");
    watch.close(); // twice is harmless
  });

  it("a listener that throws goes to onError and the watch goes on; bad arguments are TypeErrors", async () => {
    const errors: Error[] = [];
    let calls = 0;
    const watch = watchSlots(
      `pkcs11:?module-path=${encodeURIComponent(SOFTHSM_LIBRARY)}`,
      () => {
        calls++;
        throw new Error("listener bug");
      },
      { intervalMs: 20, onError: (error) => errors.push(error) },
    );
    try {
      throwawayToken("throwing");
      const deadline = Date.now() + 5000;
      while (calls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(calls >= 2, "the listener is called for every event although it throws");
      assert.equal(errors.length, calls);
      assert.equal(errors[0].message, "listener bug");
    } finally {
      watch.close();
    }
    assert.throws(() => watchSlots({ library: SOFTHSM_LIBRARY }, "nope" as never), TypeError);
    assert.throws(() => watchSlots({ library: SOFTHSM_LIBRARY }, () => {}, { intervalMs: 0 }), TypeError);
  });

  describe("a remote token that goes away and comes back", () => {
    let remote: RemoteToken | undefined;
    before(async function () {
      // p11-kit's client reads its server's address when initialized: it must not be in use here
      // already (TEST_TOKEN=remote between files leaves it unloaded; if not, this cannot run).
      if (loadedModuleCount(P11_KIT_CLIENT) > 0) this.skip();
      remote = await startRemoteToken("flaky");
    });
    after(async () => {
      await remote?.stop();
    });

    it("operations fail at once with the CKR code while it is gone, and work again after it is back", async () => {
      const crypto = new Crypto(remote!.config);
      try {
        const keys = (await crypto.subtle.generateKey(ecdsa, false, ["sign", "verify"])) as CryptoKeyPair;
        const data = new Uint8Array([4, 5, 6]);
        await crypto.subtle.sign(ecdsaSign, keys.privateKey, data);

        await remote!.kill();
        const started = Date.now();
        const inFlight = await Promise.allSettled(Array.from({ length: 4 }, () => crypto.subtle.sign(ecdsaSign, keys.privateKey, data)));
        for (const outcome of inFlight) {
          assert.equal(outcome.status, "rejected");
          const error = (outcome as PromiseRejectedResult).reason as DOMException;
          assert.equal(error.name, "OperationError");
          assert.equal((error.cause as { code: string }).code, "CKR_DEVICE_ERROR");
        }
        // Later operations try to find the token again, fail the same clean way, and do not hang.
        await assert.rejects(crypto.subtle.generateKey(ecdsa, false, ["sign"]), (error: DOMException) => {
          assert.equal(error.name, "OperationError");
          assert.match(String((error.cause as Error).message), /not available/);
          return true;
        });
        assert.ok(Date.now() - started < 5000, "failures are prompt");

        await remote!.restart();
        // The token is back: new sessions, a new login with the kept PIN. Session keys died with
        // the old sessions; new keys work and their signatures verify in Node.
        const again = (await crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"])) as CryptoKeyPair;
        const signature = await crypto.subtle.sign(ecdsaSign, again.privateKey, data);
        const spki = await native.importKey("spki", await crypto.subtle.exportKey("spki", again.publicKey), ecdsa, true, ["verify"]);
        assert.equal(await native.verify(ecdsaSign, spki, signature, data), true);
        assert.equal(crypto.isLoggedIn, true);
        // A key from before is refused: its handle number may now name another object (here it
        // does: the new server numbers its objects afresh), and it must never act on that one.
        await assert.rejects(crypto.subtle.sign(ecdsaSign, keys.privateKey, data), (error: DOMException) => {
          assert.equal(error.name, "OperationError");
          assert.equal((error.cause as { code: string }).code, "CKR_OBJECT_HANDLE_INVALID");
          assert.match((error.cause as Error).message, /token was removed after the key was made/);
          return true;
        });
      } finally {
        await crypto.close();
      }
    });

    it("watchSlots on p11-kit's client reports the token removed when its server dies", async () => {
      const events: SlotEvent[] = [];
      const errors: Error[] = [];
      const watch = watchSlots({ library: P11_KIT_CLIENT }, (event) => events.push(event), { intervalMs: 30, onError: (e) => errors.push(e) });
      try {
        await remote!.kill();
        const removed = await eventually(events, (e) => e.type === "removed" && e.token?.label === "flaky");
        assert.ok(errors.some((e) => (e as { code?: string }).code === "CKR_DEVICE_ERROR"), "the listing error is reported");
        await remote!.restart();
        // p11-kit's client sees its server again only once re-initialized; the watch is its
        // module's only user here, so nothing re-initializes it: no insertion is reported.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(events.filter((e) => e.type === "inserted").length, 0);
        assert.equal(removed.type, "removed");
      } finally {
        watch.close();
      }
    });
  });
});
