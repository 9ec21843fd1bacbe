// listSlots reads slots and tokens with the module alone: no session, no login.
import { listSlots, parsePkcs11Uri, type SlotDescription } from "../../index.js";
import { stringOption, type Command, type OptionValues } from "../command.js";
import { configFromOptions } from "../connect.js";
import { EXIT, UsageError } from "../exit-codes.js";
import { printJson, printTable } from "../output.js";

type SlotListing = Omit<SlotDescription, "slotId"> & { slotId: number | string; index?: number };

/** Token flags worth a word in the table, in the order people look for them. */
const TOKEN_FLAGS: [keyof NonNullable<SlotDescription["token"]>, string][] = [
  ["tokenInitialized", "initialized"], ["loginRequired", "login required"], ["userPinInitialized", "user PIN set"],
  ["protectedAuthenticationPath", "PIN pad"], ["writeProtected", "write-protected"], ["rng", "RNG"],
  ["userPinCountLow", "user PIN count low"], ["userPinFinalTry", "user PIN final try"], ["userPinLocked", "user PIN locked"],
  ["userPinToBeChanged", "user PIN to be changed"], ["soPinLocked", "SO PIN locked"],
];

function flagsOf(slot: SlotListing): string {
  if (!slot.token) return [slot.tokenPresent ? "token unreadable" : "no token", slot.removableDevice ? "removable" : "", slot.hardwareSlot ? "hardware" : ""].filter(Boolean).join(", ");
  const token = slot.token;
  return TOKEN_FLAGS.filter(([flag]) => token[flag] === true).map(([, word]) => word).join(", ");
}

/** Slots with the index --slot takes (position among slots with a token), slot ids JSON can hold. */
function listing(slots: SlotDescription[]): SlotListing[] {
  let index = 0;
  return slots.map((slot) => ({
    ...slot,
    slotId: typeof slot.slotId === "bigint" ? slot.slotId.toString() : slot.slotId,
    ...(slot.tokenPresent ? { index: index++ } : {}),
  }));
}

/** The module the options name (a URI's token attributes are ignored); slots need nothing else, no token selection, no PIN. */
function moduleOf(values: OptionValues): string | { library: string; libraryParameters?: string } {
  const uri = stringOption(values, "uri");
  if (uri !== undefined) {
    if (parsePkcs11Uri(uri).pinValue !== undefined) throw new UsageError("the --uri has a pin-value: a command line is visible to other users; use pin-source");
    return uri;
  }
  const config = configFromOptions(values) as { library: string; libraryParameters?: string };
  return { library: config.library, libraryParameters: config.libraryParameters };
}

function makeCommand(name: "slots" | "tokens"): Command {
  const tokensOnly = name === "tokens";
  return {
    name,
    summary: tokensOnly ? "list the tokens of the module (label, serial, manufacturer, model, flags)" : "list the module's slots and their tokens",
    usage: "",
    description: tokensOnly
      ? "INDEX is what --slot takes. Only the module is loaded: no session, no PIN."
      : "Every slot, with or without a token. INDEX (slots with a token) is what --slot takes.\nOnly the module is loaded: no session, no PIN.",
    options: {},
    args: { min: 0, max: 0 },
    connection: "module",
    async run({ values, json, io }) {
      const all = listing(listSlots(moduleOf(values)));
      const slots = tokensOnly ? all.filter((slot) => slot.token) : all;
      if (json) {
        printJson(io, slots);
        return EXIT.ok;
      }
      printTable<SlotListing>(io, slots, [
        ["INDEX", (slot) => (slot.index === undefined ? "-" : String(slot.index))],
        ["SLOT ID", (slot) => String(slot.slotId)],
        ["LABEL", (slot) => slot.token?.label ?? "(no token)"],
        ["SERIAL", (slot) => slot.token?.serial ?? "-"],
        ["MANUFACTURER", (slot) => slot.token?.manufacturer ?? slot.manufacturer],
        ["MODEL", (slot) => slot.token?.model ?? "-"],
        ["FLAGS", flagsOf],
      ], tokensOnly ? "No tokens." : "No slots.");
      return EXIT.ok;
    },
  };
}

export const slotCommands: readonly Command[] = [makeCommand("slots"), makeCommand("tokens")];
