import { TokenError } from "../index.js";

/**
 * The exit codes scripts can rely on. They are part of the interface: `--help` and the README
 * list them, and the tests check each one.
 */
export const EXIT = {
  /** Done; for `verify`, the signature is valid. */
  ok: 0,
  /** The operation failed: nothing with that id, a signature that does not verify, an error from the token during an operation. */
  failed: 1,
  /** The command line is wrong: unknown command or option, missing argument, unreadable input file. */
  usage: 2,
  /** The token could not be reached or logged in to: module, token, PIN. */
  token: 3,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  done (verify: the signature is valid)
  1  the operation failed (verify: the signature is not valid; nothing with that id)
  2  usage error: unknown command or option, bad or missing argument, unreadable file
  3  token error: module not found or not loadable, no such token, no PIN, wrong or locked PIN`;

/** A mistake on the command line or in its input files (exit 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** An operation that ran and did not succeed, with a message for the user (exit 1). */
export class OperationFailed extends Error {
  override name = "OperationFailed";
}

/** No PIN could be had, or the token could not be used for another reason before any operation (exit 3). */
export class LoginError extends Error {
  override name = "LoginError";
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof LoginError || error instanceof TokenError) return EXIT.token;
  // The library throws TypeError for arguments of the wrong shape (a malformed id, URI or config),
  // which on a command line are the user's input.
  if (error instanceof TypeError) return EXIT.usage;
  return EXIT.failed;
}

/**
 * One line for the user. Only messages are shown, never a stack or an inspected object: the
 * library keeps PINs out of its messages, and a message is all that leaves this process.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = cause instanceof TokenError && !error.message.includes(cause.code) ? ` (${cause.code})` : "";
  // Our own errors and the library's TokenErrors say what is wrong in words; a Web Crypto error's name (NotSupportedError, ...) is part of what it says.
  const plain = error.name === "Error" || error instanceof UsageError || error instanceof OperationFailed || error instanceof LoginError || error instanceof TokenError;
  const name = plain ? "" : `${error.name}: `;
  return `${name}${error.message}${code}`;
}
