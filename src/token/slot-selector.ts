import { handleToBigInt, type Handle, type PKCS11, type TokenInfo } from "./pkcs11.js";
import { toTokenError, TokenError } from "./token-error.js";

/**
 * Which token to use. Every given field must match; none given means the first slot with a token.
 * `slot` is an index into the list of slots that have a token (node-webcrypto-p11's meaning);
 * `slotId` is the module's own slot number (RFC 7512's slot-id).
 */
export interface TokenSelector {
  slot?: number;
  slotId?: number | bigint;
  tokenLabel?: string;
  tokenSerial?: string;
  manufacturer?: string;
  model?: string;
}

export interface SelectedSlot {
  slot: Handle;
  tokenInfo: TokenInfo;
}

/** PKCS#11 pads its fixed-width strings with blanks. */
export function trimPadded(value: string): string {
  return value.replace(/[\s\u0000]+$/, "");
}

const selectorFields: Array<keyof TokenSelector> = ["slot", "slotId", "tokenLabel", "tokenSerial", "manufacturer", "model"];

/** The selector in words. Only selector fields: the object it comes from also holds the PIN. */
function describe(selector: TokenSelector): string {
  const parts = selectorFields
    .map((key) => [key, selector[key]] as const)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${JSON.stringify(typeof value === "bigint" ? value.toString() : value)}`);
  return parts.length ? parts.join(", ") : "the first token";
}

export function selectSlot(pkcs11: PKCS11, library: string, selector: TokenSelector): SelectedSlot {
  let slots: Handle[];
  try {
    slots = pkcs11.C_GetSlotList(true);
  } catch (error) {
    throw toTokenError(error, "Listing the module's slots");
  }
  const candidates = slots.map((slot) => ({ slot, tokenInfo: pkcs11.C_GetTokenInfo(slot) }));
  let matching = candidates;
  if (selector.slotId !== undefined) {
    const wanted = BigInt(selector.slotId);
    matching = matching.filter((c) => handleToBigInt(c.slot) === wanted);
  }
  const byText = (field: "label" | "serialNumber" | "manufacturerID" | "model", wanted?: string) => {
    if (wanted !== undefined) matching = matching.filter((c) => trimPadded(c.tokenInfo[field]) === wanted);
  };
  byText("label", selector.tokenLabel);
  byText("serialNumber", selector.tokenSerial);
  byText("manufacturerID", selector.manufacturer);
  byText("model", selector.model);
  const index = selector.slot ?? 0;
  if (!Number.isInteger(index) || index < 0) {
    throw new TokenError(`slot must be a non-negative integer index, got ${String(selector.slot)}`, { code: "BAD_CONFIG" });
  }
  const chosen = matching[index];
  if (!chosen) {
    const present = candidates.length
      ? candidates.map((c) => `"${trimPadded(c.tokenInfo.label)}" (serial ${trimPadded(c.tokenInfo.serialNumber)})`).join(", ")
      : "none";
    throw new TokenError(
      `No token matches ${describe(selector)} in PKCS#11 module ${library}; tokens present: ${present}`,
      { code: "TOKEN_NOT_FOUND" },
    );
  }
  return chosen;
}
