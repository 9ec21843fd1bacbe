/**
 * Throwaway SoftHSM tokens made by this library's own initToken, for tests that change PINs, give
 * wrong ones, or watch slots. The run's SoftHSM module is loaded once per process and does not see
 * tokens that softhsm2-util makes after that, so these are made in SoftHSM's free slot through
 * C_InitToken (which is also what is under test). They live in the run's temporary token
 * directory and go with it; the shared main, second and lockout tokens are never touched.
 */
import { randomBytes } from "node:crypto";
import { initToken, listSlots, type SlotDescription } from "../../src/index.js";
import { SO_PIN, SOFTHSM_LIBRARY } from "./softhsm.js";

export { SO_PIN, SOFTHSM_LIBRARY };

/** The slot SoftHSM keeps free: a token present but not initialized. */
export function freeSlot(): SlotDescription {
  const free = listSlots({ library: SOFTHSM_LIBRARY }).find((slot) => slot.tokenPresent && slot.token && !slot.token.tokenInitialized);
  if (!free) throw new Error("SoftHSM shows no free slot");
  return free;
}

/** A new token with a unique label and the SO PIN; no user PIN yet. */
export function throwawayToken(prefix: string): { label: string; slot: SlotDescription } {
  const label = `${prefix}-${randomBytes(4).toString("hex")}`;
  const slot = initToken({ library: SOFTHSM_LIBRARY, slotId: freeSlot().slotId, soPin: SO_PIN, label });
  return { label, slot };
}
