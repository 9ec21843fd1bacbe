import { parseArgs } from "node:util";
import type { OptionSpec, OptionValues } from "./command.js";
import { UsageError } from "./exit-codes.js";

/** How to reach the token: the library's configuration, as options. */
export const CONNECTION_OPTIONS: Record<string, OptionSpec> = {
  module: { type: "string", value: "PATH", description: "the PKCS#11 module (.so) to load" },
  "library-parameters": { type: "string", value: "S", description: "the module's initialization string (NSS softokn: configdir=...)" },
  token: { type: "string", value: "LABEL", description: "select the token by its label" },
  serial: { type: "string", value: "SERIAL", description: "select the token by its serial number" },
  slot: { type: "string", value: "N", description: "select the token by index among slots with a token (default 0)" },
  uri: { type: "string", value: "URI", description: 'an RFC 7512 URI: "pkcs11:token=...?module-path=...&pin-source=file:..."' },
  config: { type: "string", value: "FILE", description: "a JSON file with the library's configuration object ({ library, tokenLabel, ... })" },
  "pin-env": { type: "string", value: "VAR", description: "read the user PIN from environment variable VAR" },
  "pin-file": { type: "string", value: "FILE", description: "read the user PIN from the first line of FILE" },
};

export const OUTPUT_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print the result as JSON" },
  help: { type: "boolean", description: "show this help" },
};

export const PIN_HELP = `The PIN is asked for at the terminal (never echoed), or read from --pin-env VAR or
--pin-file FILE (or a --config file's "pin", or a URI's pin-source). There is no option that
takes the PIN itself: a command line is visible to every user of the machine (ps, /proc).`;

/**
 * Options that must never be given a value on the command line. An attempt is refused without
 * repeating what was typed, since the value may be the PIN.
 */
const REFUSED = new Map([
  ["pin", "there is no --pin option: a command line is visible to other users (ps, /proc); use --pin-env VAR, --pin-file FILE or the prompt"],
  ["so-pin", "the CLI never takes a PIN on the command line; use --pin-env VAR or --pin-file FILE"],
]);

export interface ParsedCommandLine {
  values: OptionValues;
  positionals: string[];
}

/**
 * node:util parseArgs, with messages of our own: parseArgs's messages repeat the argument as
 * typed, and `--pin=1234` must not be echoed back (to a terminal, a log, a CI transcript).
 */
export function parseCommandLine(args: string[], options: Record<string, OptionSpec>): ParsedCommandLine {
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(options)) config[name] = spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type };
  for (const arg of args) {
    if (arg === "--") break;
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).split("=", 1)[0];
    const refused = REFUSED.get(name.toLowerCase());
    if (refused) throw new UsageError(refused);
    if (!(name in config)) throw new UsageError(`unknown option --${name}`);
    if (config[name].type === "boolean" && arg.includes("=")) throw new UsageError(`option --${name} takes no value`);
  }
  try {
    const { values, positionals } = parseArgs({ args, options: config, allowPositionals: true, strict: true });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const name = /--([a-z-]+)/.exec((error as Error).message)?.[1];
      throw new UsageError(name ? `option --${name} needs a value` : "an option is missing its value");
    }
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError("unknown option (short options are not used; see --help)");
    throw new UsageError("the command line could not be parsed; see --help");
  }
}

function optionLine(name: string, spec: OptionSpec): string {
  const left = `  --${name}${spec.value ? ` ${spec.value}` : ""}`;
  return left.length < 28 ? `${left.padEnd(28)}${spec.description}` : `${left}\n${"".padEnd(28)}${spec.description}`;
}

export function optionsHelp(options: Record<string, OptionSpec>): string {
  return Object.entries(options).map(([name, spec]) => optionLine(name, spec)).join("\n");
}
