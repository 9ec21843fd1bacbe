// listSlots and crypto.token: what the module says about its slots and tokens, without a session,
// compared with what the test setup made (SoftHSM) and with the configured token (TEST_TOKEN).
import assert from "node:assert/strict";
import { Crypto, listSlots } from "../../src/index.js";
import { loadedModuleCount } from "../../src/token/module-registry.js";
import { config, SOFTHSM_LIBRARY, tokenSerial, USER_PIN } from "../support/tokens.js";

describe("token discovery", () => {
  it("lists every SoftHSM slot with its token's label, serial and flags, and releases the module", () => {
    const before = loadedModuleCount(SOFTHSM_LIBRARY);
    const slots = listSlots({ library: SOFTHSM_LIBRARY });
    assert.equal(loadedModuleCount(SOFTHSM_LIBRARY), before);
    for (const name of ["main", "second", "lockout"] as const) {
      const slot = slots.find((s) => s.token?.label === name);
      assert.ok(slot, `token "${name}" is listed`);
      assert.equal(slot.tokenPresent, true);
      assert.equal(typeof slot.slotId, "number");
      assert.match(slot.description, /SoftHSM/);
      const token = slot.token!;
      assert.equal(token.serial, tokenSerial(name));
      assert.equal(token.manufacturer, "SoftHSM project");
      assert.equal(token.model, "SoftHSM v2");
      assert.equal(token.tokenInitialized, true);
      assert.equal(token.userPinInitialized, true);
      assert.equal(token.loginRequired, true);
      assert.equal(token.rng, true);
      assert.equal(token.writeProtected, false);
      assert.equal(token.protectedAuthenticationPath, false);
      assert.equal(token.userPinLocked, false);
      assert.equal(token.soPinLocked, false);
    }
    // SoftHSM always keeps one slot with an uninitialized token, for the next C_InitToken.
    const free = slots.filter((s) => s.tokenPresent && s.token && !s.token.tokenInitialized);
    assert.equal(free.length, 1);
    assert.equal(free[0].token!.userPinInitialized, false);
    assert.equal(new Set(slots.map((s) => s.slotId)).size, slots.length, "slot ids are distinct");
  });

  it("takes a PKCS#11 URI as the module, and its slot ids select the same tokens as labels and serials", async () => {
    const byObject = listSlots({ library: SOFTHSM_LIBRARY });
    const byUri = listSlots(`pkcs11:?module-path=${encodeURIComponent(SOFTHSM_LIBRARY)}`);
    assert.deepEqual(byUri, byObject);
    const second = byObject.find((s) => s.token?.label === "second")!;
    const connections = [
      new Crypto({ library: SOFTHSM_LIBRARY, tokenSerial: second.token!.serial, pin: USER_PIN }),
      new Crypto(`pkcs11:slot-id=${second.slotId}?module-path=${encodeURIComponent(SOFTHSM_LIBRARY)}&pin-value=${USER_PIN}`),
      new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: "second", pin: USER_PIN }),
    ];
    try {
      for (const crypto of connections) {
        assert.equal(crypto.tokenLabel, "second");
        assert.equal(crypto.token.slotId, second.slotId);
        assert.equal(crypto.token.serial, second.token!.serial);
      }
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it("bad module arguments are TypeErrors or say the module is missing", () => {
    assert.throws(() => listSlots(42 as never), TypeError);
    assert.throws(() => listSlots("not a uri"), TypeError);
    assert.throws(() => listSlots("pkcs11:token=x"), { name: "TokenError", code: "MODULE_NOT_FOUND" });
    assert.throws(() => listSlots({ library: "/nonexistent/module.so" }), { name: "TokenError", code: "MODULE_NOT_FOUND" });
  });

  it("crypto.token describes the configured token (TEST_TOKEN) as listSlots does, read afresh each time", async () => {
    const params = config();
    const crypto = new Crypto(params);
    try {
      const listed = listSlots({ library: params.library, libraryParameters: params.libraryParameters }).find(
        (s) => s.token?.label === crypto.tokenLabel,
      );
      assert.ok(listed, `listSlots shows the connected token "${crypto.tokenLabel}"`);
      const token = crypto.token;
      assert.equal(token.slotId, listed.slotId);
      assert.deepEqual({ ...token, slotId: undefined }, { ...listed.token, slotId: undefined });
      assert.equal(token.serial, crypto.tokenSerial);
      assert.equal(token.loginRequired, true);
      assert.equal(token.userPinInitialized, true);
      assert.notEqual(crypto.token, crypto.token, "a new object on each access");
    } finally {
      await crypto.close();
    }
  });
});
