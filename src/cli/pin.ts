import { readFileSync } from "node:fs";
import { LoginError, UsageError } from "./exit-codes.js";
import { stringOption, type OptionValues } from "./command.js";

/** Whether the user named a PIN source on the command line (then even read-only commands log in). */
export function pinSourceGiven(values: OptionValues): boolean {
  return stringOption(values, "pin-env") !== undefined || stringOption(values, "pin-file") !== undefined;
}

/**
 * The user PIN, from --pin-env, --pin-file, or the terminal. Messages name where the PIN was to
 * come from, never what it is.
 */
export async function readPin(values: OptionValues, tokenLabel: string): Promise<string> {
  const variable = stringOption(values, "pin-env");
  const file = stringOption(values, "pin-file");
  if (variable !== undefined && file !== undefined) throw new UsageError("give --pin-env or --pin-file, not both");
  if (variable !== undefined) {
    const pin = process.env[variable];
    if (pin === undefined || pin === "") throw new UsageError(`--pin-env ${variable}: the environment variable is not set`);
    return pin;
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`--pin-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    const pin = text.split(/\r?\n/, 1)[0];
    if (pin === "") throw new UsageError(`--pin-file ${file}: its first line is empty`);
    return pin;
  }
  if (process.stdin.isTTY && typeof process.stdin.setRawMode === "function") {
    return promptHidden(`PIN for token "${tokenLabel}": `);
  }
  throw new LoginError(
    `token "${tokenLabel}" needs the user PIN: give --pin-env VAR or --pin-file FILE, or run in a terminal to be asked for it`,
  );
}

/**
 * Reads a line from the terminal in raw mode, so the characters typed are never echoed (not even
 * as asterisks, which would tell an onlooker the PIN's length). Backspace edits, Enter ends,
 * Ctrl-C and Ctrl-D (on an empty line) abort. The prompt goes to stderr so stdout stays the result.
 */
export function promptHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = "";
    // Raw mode before the prompt: a user who types as soon as it shows must not see the PIN echoed.
    input.setRawMode(true);
    process.stderr.write(prompt);
    input.setEncoding("utf8");
    input.resume();
    const finish = (error?: Error) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
      typed = "";
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === "\r" || character === "\n") return finish();
        if (character === "\u0003" || (character === "\u0004" && typed === "")) return finish(new LoginError("no PIN entered"));
        if (character === "\u007f" || character === "\b") typed = [...typed].slice(0, -1).join("");
        else if (character >= " ") typed += character;
      }
    };
    input.on("data", onData);
  });
}
