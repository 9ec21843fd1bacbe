import { listSlots as listModuleSlots, type SlotDescription } from "../token/discovery.js";
import { watchSlots as watchModuleSlots, type SlotEvent, type SlotWatch, type SlotWatchOptions } from "../token/slot-watch.js";
import { initToken as initModuleToken, type InitTokenOptions } from "../token/token-admin.js";
import { resolveModule, type ModuleSpec } from "./config.js";

/**
 * The token-management functions that need no connection, taking the module as the object form
 * ({ library, libraryParameters }) or a PKCS#11 URI, whose module-path / module-name and
 * x-library-parameters are used (its token attributes are not: every slot is listed or watched).
 */

/** Every slot of the module, with its token's label, serial and flags; no session, no login. */
export function listSlots(module: ModuleSpec): SlotDescription[] {
  return listModuleSlots(resolveModule(module));
}

/** Reports tokens inserted and removed until the returned handle's close(). */
export function watchSlots(module: ModuleSpec, listener: (event: SlotEvent) => void, options?: SlotWatchOptions): SlotWatch {
  return watchModuleSlots(resolveModule(module), listener, options);
}

/** Initializes the token in a slot (C_InitToken): sets its SO PIN and label, erasing it. */
export function initToken(options: InitTokenOptions): SlotDescription {
  if (typeof options !== "object" || options === null) throw new TypeError("initToken takes { library, libraryParameters?, slotId, soPin, label }");
  return initModuleToken({ ...options, ...resolveModule(options) });
}
