import type { Crypto } from "../index.js";
import type { Io } from "./output.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** What the value is, for the help text: --curve NAME. */
  value?: string;
  description: string;
  multiple?: boolean;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  /** The positional arguments after the command's name. */
  args: string[];
  values: OptionValues;
  json: boolean;
  io: Io;
  /**
   * Connects to the token the options name. `login: true` logs in, asking for the PIN if no
   * source gives one; `false` logs in only when a PIN source was given explicitly.
   */
  connect(options: { login: boolean }): Promise<Crypto>;
}

export interface Command {
  /** "keys list", "sign", ... */
  name: string;
  summary: string;
  /** The arguments after the name, for the usage line: "<file> --key ID". */
  usage: string;
  /** Paragraphs after the usage line. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Number of positional arguments accepted. */
  args: { min: number; max: number };
  /** Whether the command uses a token at all (slots lists the module's slots, which needs only the module). */
  connection: "token" | "module";
  run(context: CommandContext): Promise<number>;
}

/** A string option's value, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
