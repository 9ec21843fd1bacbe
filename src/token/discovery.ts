import { acquireModule, releaseModule, type ModuleOptions } from "./module-registry.js";
import { handleToBigInt, pkcs11js, type Handle, type PKCS11, type TokenInfo } from "./pkcs11.js";
import { trimPadded } from "./slot-selector.js";
import { toTokenError } from "./token-error.js";

/**
 * What a token says about itself (C_GetTokenInfo), with its flags as booleans. Read without a
 * session and without logging in, so it is what anyone with the module can see.
 */
export interface TokenDescription {
  label: string;
  serial: string;
  manufacturer: string;
  model: string;
  /** A user must log in to use private objects. */
  loginRequired: boolean;
  userPinInitialized: boolean;
  /** A wrong user PIN was given since the last good one. */
  userPinCountLow: boolean;
  /** One more wrong user PIN locks it. */
  userPinFinalTry: boolean;
  userPinLocked: boolean;
  userPinToBeChanged: boolean;
  soPinCountLow: boolean;
  soPinFinalTry: boolean;
  soPinLocked: boolean;
  soPinToBeChanged: boolean;
  tokenInitialized: boolean;
  writeProtected: boolean;
  /** PINs are entered on the device (a PIN pad), not passed through the API. */
  protectedAuthenticationPath: boolean;
  /** The token has a random number generator (getRandomValues). */
  rng: boolean;
}

export interface SlotDescription {
  /** The module's own slot number (RFC 7512's slot-id): a number, or a bigint beyond 2^53. */
  slotId: number | bigint;
  description: string;
  manufacturer: string;
  tokenPresent: boolean;
  /** A reader whose token can be taken out (a card reader, a USB port). */
  removableDevice: boolean;
  hardwareSlot: boolean;
  /** The token, when one is present and the module recognizes it. */
  token?: TokenDescription;
}

const has = (flags: number, flag: number) => (flags & flag) !== 0;
// Slot flags from the PKCS#11 specification (pkcs11js's type declarations lack them).
const CKF_TOKEN_PRESENT = 0x1;
const CKF_REMOVABLE_DEVICE = 0x2;
const CKF_HW_SLOT = 0x4;

export function describeToken(info: TokenInfo): TokenDescription {
  const flags = info.flags;
  return {
    label: trimPadded(info.label),
    serial: trimPadded(info.serialNumber),
    manufacturer: trimPadded(info.manufacturerID),
    model: trimPadded(info.model),
    loginRequired: has(flags, pkcs11js.CKF_LOGIN_REQUIRED),
    userPinInitialized: has(flags, pkcs11js.CKF_USER_PIN_INITIALIZED),
    userPinCountLow: has(flags, pkcs11js.CKF_USER_PIN_COUNT_LOW),
    userPinFinalTry: has(flags, pkcs11js.CKF_USER_PIN_FINAL_TRY),
    userPinLocked: has(flags, pkcs11js.CKF_USER_PIN_LOCKED),
    userPinToBeChanged: has(flags, pkcs11js.CKF_USER_PIN_TO_BE_CHANGED),
    soPinCountLow: has(flags, pkcs11js.CKF_SO_PIN_COUNT_LOW),
    soPinFinalTry: has(flags, pkcs11js.CKF_SO_PIN_FINAL_TRY),
    soPinLocked: has(flags, pkcs11js.CKF_SO_PIN_LOCKED),
    soPinToBeChanged: has(flags, pkcs11js.CKF_SO_PIN_TO_BE_CHANGED),
    tokenInitialized: has(flags, pkcs11js.CKF_TOKEN_INITIALIZED),
    writeProtected: has(flags, pkcs11js.CKF_WRITE_PROTECTED),
    protectedAuthenticationPath: has(flags, pkcs11js.CKF_PROTECTED_AUTHENTICATION_PATH),
    rng: has(flags, pkcs11js.CKF_RNG),
  };
}

/** A slot handle as the number users see: a number when it fits exactly, a bigint otherwise. */
export function slotIdOf(slot: Handle): number | bigint {
  const id = handleToBigInt(slot);
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
}

/** One slot read now. A token the module cannot read (CKR_TOKEN_NOT_RECOGNIZED, ...) is left out. */
export function describeSlot(pkcs11: PKCS11, slot: Handle): SlotDescription {
  const info = pkcs11.C_GetSlotInfo(slot);
  const tokenPresent = has(info.flags, CKF_TOKEN_PRESENT);
  const description: SlotDescription = {
    slotId: slotIdOf(slot),
    description: trimPadded(info.slotDescription),
    manufacturer: trimPadded(info.manufacturerID),
    tokenPresent,
    removableDevice: has(info.flags, CKF_REMOVABLE_DEVICE),
    hardwareSlot: has(info.flags, CKF_HW_SLOT),
  };
  if (tokenPresent) {
    try {
      description.token = describeToken(pkcs11.C_GetTokenInfo(slot));
    } catch {
      // Present but unreadable (an unformatted card, one pulled out between the two calls).
    }
  }
  return description;
}

/** Every slot of a loaded module, read now (C_GetSlotList asks the module afresh each time). */
export function readSlots(pkcs11: PKCS11): SlotDescription[] {
  let slots: Handle[];
  try {
    slots = pkcs11.C_GetSlotList(false);
  } catch (error) {
    throw toTokenError(error, "Listing the module's slots");
  }
  return slots.map((slot) => describeSlot(pkcs11, slot));
}

/**
 * Every slot of a module with its token, without opening a session or logging in. Loads the
 * module through the shared registry (so a module already in use is not initialized twice) and
 * releases it afterwards.
 */
export function listSlots(module: ModuleOptions): SlotDescription[] {
  const shared = acquireModule(module);
  try {
    return readSlots(shared.pkcs11);
  } finally {
    releaseModule(shared);
  }
}
