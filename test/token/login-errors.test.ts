// The login error messages for each PIN problem. SoftHSM never locks or expires a PIN, so the
// token's answers are made here as pkcs11js makes them (Pkcs11Error with a CKR code), and the
// token's PIN-state flags are given as the token would report them.
import assert from "node:assert/strict";
import { describeLoginFailure, type LoginError } from "../../src/token/login-errors.js";
import { pkcs11js, type TokenInfo } from "../../src/token/pkcs11.js";

const answer = (code: number) => new pkcs11js.Pkcs11Error("CKR", code, "C_Login");
const info = (flags: number) => () => ({ flags }) as TokenInfo;

describe("login errors", () => {
  it("an incorrect PIN, and the warnings as tries run out", () => {
    const plain = describeLoginFailure(answer(pkcs11js.CKR_PIN_INCORRECT), "card", info(0)) as LoginError;
    assert.equal(plain.code, "CKR_PIN_INCORRECT");
    assert.equal(plain.method, "C_Login");
    assert.match(plain.message, /^Login to token "card" failed: the PIN is incorrect \(CKR_PIN_INCORRECT\)\.$/);
    assert.equal(plain.pinFinalTry, false);
    const low = describeLoginFailure(answer(pkcs11js.CKR_PIN_INCORRECT), "card", info(pkcs11js.CKF_USER_PIN_COUNT_LOW)) as LoginError;
    assert.match(low.message, /Few tries are left/);
    assert.equal(low.pinCountLow, true);
    const last = describeLoginFailure(answer(pkcs11js.CKR_PIN_INCORRECT), "card", info(pkcs11js.CKF_USER_PIN_FINAL_TRY)) as LoginError;
    assert.match(last.message, /One more wrong PIN will lock it/);
    assert.equal(last.pinFinalTry, true);
  });

  it("a locked, expired, badly sized or uninitialized PIN each say so", () => {
    const locked = describeLoginFailure(answer(pkcs11js.CKR_PIN_LOCKED), "card", info(pkcs11js.CKF_USER_PIN_LOCKED)) as LoginError;
    assert.equal(locked.code, "CKR_PIN_LOCKED");
    assert.match(locked.message, /locked; the security officer must unblock it/);
    assert.equal(locked.pinLocked, true);
    assert.match(describeLoginFailure(answer(pkcs11js.CKR_PIN_EXPIRED), "card", info(0)).message, /expired/);
    assert.match(describeLoginFailure(answer(pkcs11js.CKR_PIN_LEN_RANGE), "card", info(0)).message, /too short or too long/);
    assert.match(describeLoginFailure(answer(pkcs11js.CKR_USER_PIN_NOT_INITIALIZED), "card", info(0)).message, /no user PIN yet/);
  });

  it("other failures keep their CKR name, and an unreadable token info does not hide the cause", () => {
    const other = describeLoginFailure(answer(pkcs11js.CKR_DEVICE_REMOVED), "card", () => {
      throw new Error("gone");
    });
    assert.equal(other.code, "CKR_DEVICE_REMOVED");
    assert.match(other.message, /C_Login returned CKR_DEVICE_REMOVED/);
  });
});
