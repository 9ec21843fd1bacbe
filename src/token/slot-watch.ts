import { readSlots, type SlotDescription, type TokenDescription } from "./discovery.js";
import { acquireModule, releaseModule, type ModuleOptions } from "./module-registry.js";
import { pkcs11js } from "./pkcs11.js";
import { ckrOf, toTokenError } from "./token-error.js";

export interface SlotEvent {
  type: "inserted" | "removed";
  slotId: number | bigint;
  /** The token inserted, or the one that was in the slot before it was removed. */
  token?: TokenDescription;
}

export interface SlotWatchOptions {
  /** How often the slots are read, in milliseconds. Default 1000. */
  intervalMs?: number;
  /** Called when the slots cannot be read (they then count as empty) or a listener throws. */
  onError?: (error: Error) => void;
}

export interface SlotWatch {
  /** Stops watching and releases the module. */
  close(): void;
  readonly closed: boolean;
}

const DEFAULT_INTERVAL_MS = 1000;

/**
 * What makes a token "the same token" from one look to the next. A serial alone is not enough:
 * SoftHSM's free slot holds an uninitialized token with an empty serial that becomes a new token
 * when initialized, and a card can be swapped for another between two looks.
 */
function identity(slot: SlotDescription): string | undefined {
  if (!slot.tokenPresent || !slot.token) return undefined;
  const { serial, label, manufacturer, model, tokenInitialized } = slot.token;
  return JSON.stringify([serial, label, manufacturer, model, tokenInitialized]);
}

/**
 * Reports tokens inserted into and removed from a module's slots. pkcs11js's C_WaitForSlotEvent
 * is synchronous, and blocking in it would stop the event loop, so the watch polls: each tick it
 * drains C_WaitForSlotEvent(CKF_DONT_BLOCK) (modules that track readers, such as OpenSC's, update
 * their slots on it) and re-reads the slot list, which is the answer it trusts: SoftHSM answers
 * "no event" even as tokens are initialized, and p11-kit's client answers
 * CKR_FUNCTION_NOT_SUPPORTED. A token swapped between two ticks is reported as removed then
 * inserted. The timer keeps the process alive until close().
 */
export function watchSlots(module: ModuleOptions, listener: (event: SlotEvent) => void, options: SlotWatchOptions = {}): SlotWatch {
  if (typeof listener !== "function") throw new TypeError("watchSlots needs a listener function");
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new TypeError("intervalMs must be a number of milliseconds, at least 10");
  const shared = acquireModule(module);
  const pkcs11 = shared.pkcs11;
  let slotEvents = true;
  let closed = false;

  const report = (error: unknown) => {
    if (options.onError) options.onError(error instanceof Error ? error : new Error(String(error)));
  };

  const read = (): Map<string, SlotDescription> => {
    const slots = new Map<string, SlotDescription>();
    try {
      for (const slot of readSlots(pkcs11)) slots.set(String(slot.slotId), slot);
    } catch (error) {
      // A module that cannot list its slots (a remote token whose connection is gone) has none.
      report(error);
    }
    return slots;
  };

  const drainEvents = () => {
    if (!slotEvents) return;
    try {
      // Bounded: a module that reports events forever must not hold the timer.
      for (let i = 0; i < 64 && pkcs11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK) !== null; i++);
    } catch (error) {
      if (ckrOf(error) === pkcs11js.CKR_FUNCTION_NOT_SUPPORTED) slotEvents = false;
      else report(toTokenError(error, "Reading slot events"));
    }
  };

  drainEvents();
  let known = read();

  const emit = (event: SlotEvent) => {
    try {
      listener(event);
    } catch (error) {
      report(error);
    }
  };

  const tick = () => {
    if (closed) return;
    drainEvents();
    const now = read();
    for (const [id, before] of known) {
      const was = identity(before);
      if (was === undefined) continue;
      const after = now.get(id);
      if (after === undefined || identity(after) !== was) emit({ type: "removed", slotId: before.slotId, token: before.token });
      if (closed) return;
    }
    for (const [id, slot] of now) {
      const is = identity(slot);
      const previous = known.get(id);
      if (is !== undefined && (previous === undefined || identity(previous) !== is)) {
        emit({ type: "inserted", slotId: slot.slotId, token: slot.token });
      }
      if (closed) return;
    }
    known = now;
  };

  const timer = setInterval(tick, intervalMs);
  return {
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      releaseModule(shared);
    },
    get closed() {
      return closed;
    },
  };
}
