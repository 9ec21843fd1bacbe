import type { Crypto } from "../index.js";
import type { Command, CommandContext } from "./command.js";
import { algorithmCommands } from "./commands/algorithms.js";
import { certificateCommands } from "./commands/certs.js";
import { keyCommands } from "./commands/keys.js";
import { pkiCommands } from "./commands/pki.js";
import { signatureCommands } from "./commands/signatures.js";
import { slotCommands } from "./commands/slots.js";
import { connect } from "./connect.js";
import { describeError, EXIT, EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exit-codes.js";
import { CONNECTION_OPTIONS, optionsHelp, OUTPUT_OPTIONS, parseCommandLine, PIN_HELP } from "./options.js";
import type { Io } from "./output.js";
import { readPin } from "./pin.js";

const PROGRAM = "pkcs11-webcrypto";

export const commands: readonly Command[] = [
  ...slotCommands,
  ...algorithmCommands,
  ...keyCommands,
  ...certificateCommands,
  ...pkiCommands,
  ...signatureCommands,
];

const CONNECTION_HELP = `Token: --module PATH [--library-parameters S] [--token LABEL | --serial SERIAL | --slot N],
or --uri "pkcs11:token=...?module-path=...", or --config FILE (the library's configuration
object as JSON: { "library": ..., "tokenLabel": ..., ... }).`;

function overview(): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    "",
    "Day-to-day work on a PKCS#11 token (HSM, smart card, SoftHSM) through Web Crypto: keys,",
    "certificates, requests and signatures. Private keys never leave the token.",
    "",
    "Commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    "",
    CONNECTION_HELP,
    "",
    PIN_HELP,
    "",
    `Output is a readable table, or JSON with --json. Run "${PROGRAM} <command> --help" for a command's options.`,
    "",
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const own = optionsHelp(command.options);
  const connection = command.connection === "token" ? CONNECTION_OPTIONS : pickOptions(CONNECTION_OPTIONS, ["module", "library-parameters", "config"]);
  return [
    `Usage: ${PROGRAM} ${command.name}${command.usage ? ` ${command.usage}` : ""} [options]`,
    "",
    command.summary,
    ...(command.description ? ["", command.description] : []),
    ...(own ? ["", "Options:", own] : []),
    "",
    "Token options:",
    optionsHelp(connection),
    optionsHelp(OUTPUT_OPTIONS),
    ...(command.connection === "token" ? ["", PIN_HELP] : []),
    "",
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

function groupHelp(group: string): string {
  const members = commands.filter((command) => command.name.startsWith(`${group} `));
  return [
    `Usage: ${PROGRAM} ${group} <${members.map((command) => command.name.slice(group.length + 1)).join("|")}> [options]`,
    "",
    ...members.map((command) => `  ${command.name.padEnd(16)}${command.summary}`),
    "",
    `Run "${PROGRAM} ${group} <command> --help" for a command's options.`,
    "",
  ].join("\n");
}

function pickOptions<T>(options: Record<string, T>, names: string[]): Record<string, T> {
  return Object.fromEntries(Object.entries(options).filter(([name]) => names.includes(name)));
}

/** Options that take a value, in any command: to tell a command word from an option's value. */
const STRING_OPTIONS = new Set(
  [CONNECTION_OPTIONS, OUTPUT_OPTIONS, ...commands.map((command) => command.options)]
    .flatMap((options) => Object.entries(options))
    .filter(([, spec]) => spec.type === "string")
    .map(([name]) => name),
);

/** Where the command's words are: options may come before them (`--uri ... keys list`). */
function wordPositions(args: string[]): number[] {
  const positions: number[] = [];
  for (let i = 0; i < args.length && positions.length < 2; i++) {
    const arg = args[i];
    if (arg === "--") break;
    if (arg.startsWith("--")) {
      if (!arg.includes("=") && STRING_OPTIONS.has(arg.slice(2))) i++;
      continue;
    }
    positions.push(i);
  }
  return positions;
}

/** The command named by the first one or two words, and the other arguments. */
function findCommand(args: string[]): { command: Command; rest: string[] } | { group: string; next?: string } | undefined {
  const positions = wordPositions(args);
  const [first, second] = positions.map((position) => args[position]);
  const without = (count: number) => args.filter((_, index) => !positions.slice(0, count).includes(index));
  const two = commands.find((command) => command.name === `${first} ${second}`);
  if (two) return { command: two, rest: without(2) };
  const one = commands.find((command) => command.name === first);
  if (one) return { command: one, rest: without(1) };
  if (commands.some((command) => command.name.startsWith(`${first} `))) return { group: first, next: second };
  return undefined;
}

/**
 * A reader that stops early (`| head`) closes our stdout: the rest of the output has nowhere to go,
 * which is not an error of the command's.
 */
function ignoreClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
  });
}

/** Runs the command line; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  ignoreClosedPipe(io.stdout);
  const args = argv.map((arg) => (arg === "-h" ? "--help" : arg));
  try {
    if (args.length === 0 || args[0] === "help") {
      (args.length === 0 ? io.stderr : io.stdout).write(overview());
      return args.length === 0 ? EXIT.usage : EXIT.ok;
    }
    const found = findCommand(args);
    if (!found) {
      const word = args[wordPositions(args)[0]];
      if (word === undefined && args.includes("--help")) {
        io.stdout.write(overview());
        return EXIT.ok;
      }
      throw new UsageError(word === undefined ? `no command given; run "${PROGRAM} --help" for the list` : `unknown command "${word.slice(0, 40)}"; run "${PROGRAM} --help" for the list`);
    }
    if ("group" in found) {
      const asked = found.next === undefined && args.includes("--help");
      (asked ? io.stdout : io.stderr).write(groupHelp(found.group));
      if (found.next !== undefined) io.stderr.write(`${PROGRAM}: error: unknown command "${found.group} ${found.next.slice(0, 40)}"\n`);
      return asked ? EXIT.ok : EXIT.usage;
    }
    return await runCommand(found.command, found.rest, io);
  } catch (error) {
    io.stderr.write(`${PROGRAM}: error: ${describeError(error)}\n`);
    return exitCodeOf(error);
  }
}

async function runCommand(command: Command, args: string[], io: Io): Promise<number> {
  const options = { ...command.options, ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS };
  if (args.includes("--help")) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const { values, positionals } = parseCommandLine(args, options);
  if (positionals.length < command.args.min || positionals.length > command.args.max) {
    throw new UsageError(`usage: ${PROGRAM} ${command.name} ${command.usage} (see --help)`);
  }
  let crypto: Crypto | undefined;
  const context: CommandContext = {
    args: positionals,
    values,
    json: values.json === true,
    io,
    async connect(options) {
      if (!crypto) crypto = await connect(values, options);
      else if (options.login && !crypto.isLoggedIn) crypto.login(await readPin(values, crypto.tokenLabel));
      return crypto;
    },
  };
  try {
    return await command.run(context);
  } finally {
    await crypto?.close();
  }
}
