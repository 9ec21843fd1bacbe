import { describeLoginFailure, type PinRole } from "./login-errors.js";
import { acquireModule, releaseModule, type ModuleOptions } from "./module-registry.js";
import { describeSlot, type SlotDescription } from "./discovery.js";
import { handleToBigInt, pkcs11js, type Handle, type PKCS11 } from "./pkcs11.js";
import { ckrOf, toTokenError, TokenError } from "./token-error.js";
import type { Token } from "./token.js";

/**
 * The security officer's and the user's PIN management: C_InitToken, C_InitPIN, C_SetPIN. Each runs
 * in a read/write session of its own, opened for the call and closed after it, so that nothing
 * here disturbs the sessions a connection's operations lease.
 */

/** PKCS#11 labels are 32 bytes of UTF-8, blank-padded (a shorter string would be read past its end). */
const LABEL_BYTES = 32;

function paddedLabel(label: string): string {
  if (typeof label !== "string") throw new TypeError("label must be a string");
  const length = Buffer.byteLength(label, "utf8");
  if (length > LABEL_BYTES) throw new TypeError(`A token label holds at most ${LABEL_BYTES} bytes of UTF-8; "${label}" has ${length}`);
  return label + " ".repeat(LABEL_BYTES - length);
}

function checkPin(pin: unknown, what: string): string {
  if (typeof pin !== "string") throw new TypeError(`${what} must be a string`);
  return pin;
}

function findSlot(pkcs11: PKCS11, slotId: number | bigint): Handle {
  if (typeof slotId !== "bigint" && !Number.isSafeInteger(slotId)) throw new TypeError("slotId must be an integer (number or bigint)");
  const wanted = BigInt(slotId);
  let slots: Handle[];
  try {
    slots = pkcs11.C_GetSlotList(false);
  } catch (error) {
    throw toTokenError(error, "Listing the module's slots");
  }
  const slot = slots.find((candidate) => handleToBigInt(candidate) === wanted);
  if (!slot) {
    const ids = slots.map((candidate) => handleToBigInt(candidate).toString()).join(", ") || "none";
    throw new TokenError(`The module has no slot with slotId ${wanted}; its slots: ${ids}`, { code: "SLOT_NOT_FOUND" });
  }
  return slot;
}

export interface InitTokenOptions extends ModuleOptions {
  /** The module's own number for the slot (listSlots' slotId). */
  slotId: number | bigint;
  /** The security officer's PIN: set on a new token, checked on one already initialized. */
  soPin: string;
  /** At most 32 bytes of UTF-8. */
  label: string;
}

/**
 * Initializes (or re-initializes, destroying every object on it) the token in a slot. The token
 * then has an SO PIN and a label but no user PIN: connect without a PIN and call initPin.
 * Returns the slot as it reads afterwards.
 */
export function initToken(options: InitTokenOptions): SlotDescription {
  const soPin = checkPin(options.soPin, "soPin");
  const label = paddedLabel(options.label);
  const shared = acquireModule(options);
  try {
    const pkcs11 = shared.pkcs11;
    const slot = findSlot(pkcs11, options.slotId);
    const doing = `Initializing the token in slot ${BigInt(options.slotId)}`;
    try {
      pkcs11.C_InitToken(slot, soPin, label);
    } catch (error) {
      if (ckrOf(error) === pkcs11js.CKR_SESSION_EXISTS) {
        throw new TokenError(`${doing} failed: sessions are open on it; close every Crypto connected to it first (CKR_SESSION_EXISTS)`, {
          code: "CKR_SESSION_EXISTS",
          ckr: pkcs11js.CKR_SESSION_EXISTS,
          method: "C_InitToken",
        });
      }
      throw describeLoginFailure(error, "", () => pkcs11.C_GetTokenInfo(slot), { role: "so", doing, method: "C_InitToken" });
    }
    return describeSlot(pkcs11, slot);
  } finally {
    releaseModule(shared);
  }
}

/** Runs `fn` in a new read/write session on the token's slot, logged in as `role` if a PIN is given. */
function inAdminSession<T>(token: Token, what: string, login: { role: PinRole; pin: string } | undefined, fn: (session: Handle) => T): T {
  const pkcs11 = token.module.pkcs11;
  let session: Handle;
  try {
    session = pkcs11.C_OpenSession(token.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  } catch (error) {
    throw toTokenError(error, `${what} on token "${token.label}"`);
  }
  const readInfo = () => token.tokenInfo;
  try {
    if (login) {
      try {
        pkcs11.C_Login(session, login.role === "so" ? pkcs11js.CKU_SO : pkcs11js.CKU_USER, login.pin);
      } catch (error) {
        throw describeLoginFailure(error, token.label, readInfo, {
          role: login.role,
          doing: `${what} on token "${token.label}": the ${login.role === "so" ? "security officer's" : "user"} login`,
        });
      }
    }
    try {
      return fn(session);
    } finally {
      // The SO's login is the whole application's: end it at once, so that the user can log in again.
      if (login?.role === "so") {
        try {
          pkcs11.C_Logout(session);
        } catch {
          // Closing the last session logs out as well.
        }
      }
    }
  } finally {
    try {
      pkcs11.C_CloseSession(session);
    } catch {
      // The token is gone; nothing is left open.
    }
  }
}

/** C_InitPIN: the security officer sets (or resets, unblocking it) the user PIN. */
export function initPin(token: Token, soPin: string, userPin: string): void {
  checkPin(soPin, "soPin");
  checkPin(userPin, "userPin");
  const what = "Setting the user PIN";
  inAdminSession(token, what, { role: "so", pin: soPin }, (session) => {
    try {
      token.module.pkcs11.C_InitPIN(session, userPin);
    } catch (error) {
      throw describeLoginFailure(error, token.label, () => token.tokenInfo, { role: "user", doing: `${what} on token "${token.label}"`, method: "C_InitPIN" });
    }
  });
}

/**
 * C_SetPIN. For the user, in a session that is either not logged in or logged in as the user
 * (PKCS#11 changes the PIN of whoever is logged in, or the user's when nobody is); for the SO,
 * after logging in as the SO with the old PIN, which fails while the user is logged in.
 */
export function setPin(token: Token, oldPin: string, newPin: string, role: PinRole = "user"): void {
  checkPin(oldPin, "oldPin");
  checkPin(newPin, "newPin");
  if (role !== "user" && role !== "so") throw new TypeError('role must be "user" or "so"');
  const what = `Changing the ${role === "so" ? "security officer's" : "user"} PIN`;
  inAdminSession(token, what, role === "so" ? { role, pin: oldPin } : undefined, (session) => {
    try {
      token.module.pkcs11.C_SetPIN(session, oldPin, newPin);
    } catch (error) {
      throw describeLoginFailure(error, token.label, () => token.tokenInfo, { role, doing: `${what} on token "${token.label}"`, method: "C_SetPIN" });
    }
  });
}
