/**
 * Throwaway SoftHSM tokens for the tests: a fresh token directory and SOFTHSM2_CONF under the
 * system's temporary directory, made once per test run, removed at the end. The user's own tokens
 * (/var/lib/softhsm, ~/.config/softhsm2) are never read or written: SoftHSM reads only the
 * configuration file that SOFTHSM2_CONF names, and it is set before the module is first loaded.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const candidates = [
  process.env.SOFTHSM2_MODULE,
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so",
];

export const SOFTHSM_LIBRARY = candidates.find((path): path is string => !!path && existsSync(path)) ?? "";

export const USER_PIN = "1234";
export const SO_PIN = "5678";

export interface SoftHsmEnvironment {
  directory: string;
  configPath: string;
  library: string;
  remove(): void;
}

/** Makes the directory and configuration, and points this process at them. */
export function createSoftHsmEnvironment(): SoftHsmEnvironment {
  if (!SOFTHSM_LIBRARY) {
    throw new Error("SoftHSM is not installed (no libsofthsm2.so found): run `npm run setup` or `apt-get install softhsm2`");
  }
  const directory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-test-"));
  const tokens = join(directory, "tokens");
  execFileSync("mkdir", ["-p", tokens]);
  const configPath = join(directory, "softhsm2.conf");
  writeFileSync(
    configPath,
    [`directories.tokendir = ${tokens}`, "objectstore.backend = file", "log.level = ERROR", "slots.removable = false", ""].join("\n"),
  );
  process.env.SOFTHSM2_CONF = configPath;
  return {
    directory,
    configPath,
    library: SOFTHSM_LIBRARY,
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** Initializes a new token in the next free slot; returns its serial. */
export function initToken(label: string, pin = USER_PIN, soPin = SO_PIN): string {
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin], {
    env: process.env,
    stdio: "pipe",
  });
  const listing = execFileSync("softhsm2-util", ["--show-slots"], { env: process.env, encoding: "utf8" });
  const blocks = listing.split(/\n(?=Slot )/);
  const block = blocks.find((text) => new RegExp(`Label:\\s+${label}\\s*$`, "m").test(text));
  const serial = block?.match(/Serial number:\s+(\S+)/)?.[1];
  if (!serial) throw new Error(`Token "${label}" was initialized but not found in softhsm2-util --show-slots`);
  return serial;
}
