import { readFileSync } from "node:fs";
import { Crypto, parsePkcs11Uri, type CryptoParams } from "../index.js";
import { stringOption, type OptionValues } from "./command.js";
import { UsageError } from "./exit-codes.js";
import { pinSourceGiven, readPin } from "./pin.js";

/** The library's configuration object from --config, --module and the token selectors. */
export function configFromOptions(values: OptionValues): CryptoParams | string {
  const uri = stringOption(values, "uri");
  const file = stringOption(values, "config");
  const module = stringOption(values, "module");
  const selectors = ["token", "serial", "slot", "library-parameters"].filter((name) => stringOption(values, name) !== undefined);
  if (uri !== undefined) {
    if (file !== undefined || module !== undefined || selectors.length > 0) {
      throw new UsageError(`--uri already names the module and token; it cannot be combined with ${["config", "module", ...selectors].filter((n) => stringOption(values, n) !== undefined).map((n) => `--${n}`).join(", ")}`);
    }
    // Checked before connecting: a PIN in the URI was typed on the command line, where every user can read it.
    if (parsePkcs11Uri(uri).pinValue !== undefined) {
      throw new UsageError("the --uri has a pin-value: a command line is visible to other users; use pin-source=file:... or --pin-env/--pin-file");
    }
    return uri;
  }
  let config: Partial<CryptoParams> = {};
  if (file !== undefined) config = readConfigFile(file);
  if (module !== undefined) config.library = module;
  const parameters = stringOption(values, "library-parameters");
  if (parameters !== undefined) config.libraryParameters = parameters;
  const label = stringOption(values, "token");
  if (label !== undefined) config.tokenLabel = label;
  const serial = stringOption(values, "serial");
  if (serial !== undefined) config.tokenSerial = serial;
  const slot = stringOption(values, "slot");
  if (slot !== undefined) {
    if (!/^\d+$/.test(slot)) throw new UsageError(`--slot takes a number (an index among the slots with a token), not "${slot}"`);
    config.slot = Number(slot);
  }
  if (typeof config.library !== "string" || config.library === "") {
    throw new UsageError("no PKCS#11 module: give --module PATH, --uri \"pkcs11:...?module-path=...\" or --config FILE");
  }
  return config as CryptoParams;
}

function readConfigFile(file: string): Partial<CryptoParams> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--config ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be the PIN.
    throw new UsageError(`--config ${file}: not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`--config ${file}: expected a JSON object`);
  return parsed as Partial<CryptoParams>;
}

/**
 * Connects, then logs in when asked to (or when a PIN source was given). The token is reached
 * before the PIN is asked for, so a wrong module or label is reported without a useless prompt.
 */
export async function connect(values: OptionValues, options: { login: boolean }): Promise<Crypto> {
  const crypto = new Crypto(configFromOptions(values));
  try {
    if ((options.login || pinSourceGiven(values)) && !crypto.isLoggedIn) crypto.login(await readPin(values, crypto.tokenLabel));
    return crypto;
  } catch (error) {
    await crypto.close();
    throw error;
  }
}
