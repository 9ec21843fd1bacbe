// initToken, initPin and setPin for both roles, wrong PINs and the PIN state they report, and PIN
// functions. Every test here works on throwaway SoftHSM tokens made by initToken in SoftHSM's
// free slot (throwaway-token.ts), so the shared tokens are never re-initialized or locked.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Crypto, initToken, listSlots, type LoginError, type PinSource } from "../../src/index.js";
import { freeSlot, SO_PIN, SOFTHSM_LIBRARY, throwawayToken } from "../support/throwaway-token.js";

const USER = "11112222";
const ec = { name: "ECDSA", namedCurve: "P-256" };

async function fails(call: () => unknown): Promise<LoginError> {
  try {
    await call();
  } catch (error) {
    return error as LoginError;
  }
  assert.fail("expected a failure");
}

/** The TokenError behind an error: itself, or the cause of a WebCrypto OperationError. */
const tokenErrorOf = (error: Error) => (error.name === "TokenError" ? error : (error.cause as Error)) as LoginError;

/** A throwaway token with its user PIN set, and a Crypto on it that is not logged in. */
function preparedToken(prefix: string): { label: string; crypto: Crypto } {
  const { label } = throwawayToken(prefix);
  const crypto = new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: label });
  crypto.initPin(SO_PIN, USER);
  return { label, crypto };
}

describe("PINs and roles", () => {
  const open: Crypto[] = [];
  const connect = (label: string, pin?: PinSource) => {
    const crypto = new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: label, ...(pin === undefined ? {} : { pin }) });
    open.push(crypto);
    return crypto;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it("initToken puts a new token in the free slot; initPin sets its user PIN, which then logs in", async () => {
    const free = freeSlot();
    const { label, slot } = throwawayToken("init");
    assert.equal(slot.slotId, free.slotId);
    assert.equal(slot.token!.label, label);
    assert.equal(slot.token!.tokenInitialized, true);
    assert.equal(slot.token!.userPinInitialized, false);
    assert.ok(listSlots({ library: SOFTHSM_LIBRARY }).some((s) => s.token?.label === label));
    assert.notEqual(freeSlot().slotId, free.slotId, "SoftHSM offers a new free slot");

    const crypto = connect(label);
    assert.equal(crypto.token.userPinInitialized, false);
    assert.throws(() => crypto.login(USER), { code: "CKR_USER_PIN_NOT_INITIALIZED" });
    crypto.initPin(SO_PIN, USER);
    assert.equal(crypto.token.userPinInitialized, true);
    assert.equal(crypto.isLoggedIn, false, "the SO's login ended with initPin");
    crypto.login(USER);
    const keys = (await crypto.subtle.generateKey(ec, false, ["sign", "verify"])) as CryptoKeyPair;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(3));
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, keys.publicKey, signature, new Uint8Array(3)), true);
  });

  it("initToken refuses a wrong SO PIN for an initialized token, a token in use, a long label, an unknown slot", async () => {
    const { label } = throwawayToken("reinit");
    // A SoftHSM token keeps the free slot's id only while the module stays loaded; once reloaded
    // (listSlots releases it), the slot id derives from the serial. So look it up by label.
    const slot = listSlots({ library: SOFTHSM_LIBRARY }).find((s) => s.token?.label === label)!;
    const wrong = await fails(() => initToken({ library: SOFTHSM_LIBRARY, slotId: slot.slotId, soPin: "00000000", label }));
    assert.equal(wrong.code, "CKR_PIN_INCORRECT");
    assert.equal(wrong.role, "so");
    assert.equal(wrong.method, "C_InitToken");
    assert.equal(wrong.pinCountLow, listSlots({ library: SOFTHSM_LIBRARY }).find((s) => s.slotId === slot.slotId)!.token!.soPinCountLow);
    assert.doesNotMatch(wrong.message, /00000000/);
    connect(label);
    const busy = await fails(() => initToken({ library: SOFTHSM_LIBRARY, slotId: slot.slotId, soPin: SO_PIN, label }));
    assert.equal(busy.code, "CKR_SESSION_EXISTS");
    assert.throws(() => initToken({ library: SOFTHSM_LIBRARY, slotId: freeSlot().slotId, soPin: SO_PIN, label: "x".repeat(33) }), TypeError);
    assert.throws(() => initToken({ library: SOFTHSM_LIBRARY, slotId: 987654, soPin: SO_PIN, label: "none" }), { code: "SLOT_NOT_FOUND" });
    // Re-initializing with the right SO PIN, once nothing is connected, erases the user PIN.
    await Promise.all(open.splice(0).map((c) => c.close()));
    const again = initToken({ library: SOFTHSM_LIBRARY, slotId: slot.slotId, soPin: SO_PIN, label: `${label}-b` });
    assert.equal(again.token!.label, `${label}-b`);
    assert.equal(again.token!.userPinInitialized, false);
  });

  it("setPin changes the user PIN (logged in or not), and the old one stops working", async () => {
    const { label, crypto } = preparedToken("setpin");
    crypto.setPin(USER, "22223333");
    assert.equal(crypto.isLoggedIn, false);
    assert.throws(() => connect(label, USER), { code: "CKR_PIN_INCORRECT" });
    crypto.login("22223333");
    crypto.setPin("22223333", "33334444");
    // The connection keeps the new PIN for logging in again after a logout elsewhere.
    const other = connect(label, "33334444");
    other.logout();
    const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    assert.equal((await crypto.subtle.sign("HMAC", key, new Uint8Array(1))).byteLength, 32);
    const wrongOld = await fails(() => crypto.setPin("99999999", "44445555"));
    assert.equal(wrongOld.code, "CKR_PIN_INCORRECT");
    assert.equal(wrongOld.method, "C_SetPIN");
    assert.doesNotMatch(wrongOld.message + inspect(wrongOld), /99999999|44445555/);
  });

  it("setPin with role so changes the SO PIN: initPin then takes the new one and refuses the old", async () => {
    const { crypto } = preparedToken("sopin");
    crypto.setPin(SO_PIN, "56785678", { role: "so" });
    const old = await fails(() => crypto.initPin(SO_PIN, USER));
    assert.equal(old.code, "CKR_PIN_INCORRECT");
    assert.equal(old.role, "so");
    assert.equal(old.pinCountLow, crypto.token.soPinCountLow);
    crypto.initPin("56785678", "55556666");
    crypto.login("55556666");
    // The SO cannot log in while the user is.
    const busy = await fails(() => crypto.setPin("56785678", SO_PIN, { role: "so" }));
    assert.equal(busy.code, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN");
    assert.match(busy.message, /log out first/);
    assert.throws(() => crypto.setPin(USER, "x", { role: "admin" as never }), TypeError);
  });

  it("a wrong PIN reports the PIN state the token then shows; SoftHSM flags count-low and never locks", async () => {
    const { label, crypto } = preparedToken("wrongpin");
    assert.equal(crypto.token.userPinCountLow, false);
    for (let i = 0; i < 12; i++) {
      const error = await fails(() => crypto.login("00000000"));
      assert.equal(error.code, "CKR_PIN_INCORRECT");
      assert.equal(error.role, "user");
      const state = crypto.token;
      assert.equal(error.pinCountLow, state.userPinCountLow);
      assert.equal(error.pinFinalTry, state.userPinFinalTry);
      assert.equal(error.pinLocked, state.userPinLocked);
      assert.doesNotMatch(error.message + (error.stack ?? ""), /00000000/);
    }
    // SoftHSM 2.6: count low after a failure, never final try, never locked.
    assert.equal(crypto.token.userPinCountLow, true);
    assert.equal(crypto.token.userPinLocked, false);
    connect(label, USER);
    assert.equal(crypto.token.userPinCountLow, false, "a good login clears it");
  });

  describe("a pin function", () => {
    it("is not called at construction, then once for the first operation, however many run at once", async () => {
      const { label } = preparedToken("fn");
      let calls = 0;
      const crypto = connect(label, async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return USER;
      });
      assert.equal(calls, 0);
      assert.equal(crypto.isLoggedIn, false);
      // A digest needs no login and does not ask.
      await crypto.subtle.digest("SHA-256", new Uint8Array(1));
      assert.equal(calls, 0);
      const keys = await Promise.all(Array.from({ length: 5 }, () => crypto.subtle.generateKey(ec, false, ["sign"])));
      assert.equal(keys.length, 5);
      assert.equal(calls, 1);
      assert.equal(crypto.isLoggedIn, true);
      await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"]);
      assert.equal(calls, 1);
    });

    it("is asked again after the token logged us out, and a synchronous one works too", async () => {
      const { label } = preparedToken("fn2");
      let calls = 0;
      const crypto = connect(label, () => {
        calls++;
        return USER;
      });
      await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"]);
      assert.equal(calls, 1);
      // The login belongs to the token: this logs out both (and destroys private session keys).
      connect(label, USER).logout();
      assert.equal(crypto.isLoggedIn, false);
      const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
      assert.equal(calls, 2);
      assert.equal((await crypto.subtle.sign("HMAC", key, new Uint8Array(1))).byteLength, 32);
      assert.equal(calls, 2);
    });

    it("a wrong answer fails the operation with the PIN state, and the next operation asks again", async () => {
      const { label } = preparedToken("fn3");
      const answers = ["00000000", USER];
      const crypto = connect(label, () => answers.shift()!);
      const error = await fails(() => crypto.subtle.generateKey(ec, false, ["sign"]));
      const cause = tokenErrorOf(error as Error);
      assert.equal(cause.code, "CKR_PIN_INCORRECT");
      assert.equal(cause.pinCountLow, true);
      assert.doesNotMatch(String((error as Error).message) + inspect(error), /00000000|11112222/);
      await crypto.subtle.generateKey(ec, false, ["sign"]);
      assert.equal(answers.length, 0);
    });

    it("a function that throws or returns no string gives a clear error; a bad pin type is a TypeError", async () => {
      const { label } = preparedToken("fn4");
      const thrower = connect(label, () => {
        throw new Error("prompt cancelled");
      });
      const thrown = tokenErrorOf((await fails(() => thrower.subtle.generateKey(ec, false, ["sign"]))) as Error);
      assert.equal(thrown.code, "PIN_UNAVAILABLE");
      assert.match(thrown.message, /prompt cancelled/);
      const numeric = connect(label, (() => 1234) as never);
      assert.equal(tokenErrorOf((await fails(() => numeric.subtle.generateKey(ec, false, ["sign"]))) as Error).code, "PIN_UNAVAILABLE");
      assert.throws(() => new Crypto({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: 1234 as never }), TypeError);
    });
  });

  it("public keys can be imported and used without logging in; private keys cannot be made", async () => {
    const { label } = preparedToken("public");
    const crypto = connect(label);
    const pair = (await globalThis.crypto.subtle.generateKey(ec, true, ["sign", "verify"])) as CryptoKeyPair;
    const spki = await globalThis.crypto.subtle.exportKey("spki", pair.publicKey);
    const publicKey = await crypto.subtle.importKey("spki", spki, ec, true, ["verify"]);
    const data = new Uint8Array([1, 2, 3]);
    const signature = await globalThis.crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, signature, data), true);
    assert.equal(crypto.isLoggedIn, false);
    await assert.rejects(crypto.subtle.generateKey(ec, false, ["sign"]), (error: Error) => tokenErrorOf(error).code === "CKR_USER_NOT_LOGGED_IN");
  });
});
