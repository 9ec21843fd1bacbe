/**
 * A throwaway NSS softokn database for the tests (TEST_TOKEN=nss): `certutil -N` in a temporary
 * directory, with the user PIN as its password, so that the "NSS Certificate DB" token requires
 * and accepts a login as a hardware token would. The machine's own databases (~/.pki, /etc/pki)
 * are never named: softokn opens only the configdir its initialization string gives.
 *
 * One database per process, made on first use: softokn takes its configdir at C_Initialize, and
 * while it is initialized a C_Initialize with another configdir answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED, which the module registry takes as "someone else initialized
 * it" and would then silently use the first database.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CryptoParams } from "../../src/index.js";
import { USER_PIN } from "./softhsm.js";

const candidates = [
  process.env.NSS_SOFTOKN_MODULE,
  "/usr/lib/x86_64-linux-gnu/libsoftokn3.so",
  "/usr/lib/x86_64-linux-gnu/nss/libsoftokn3.so",
  "/usr/lib64/libsoftokn3.so",
];

export const NSS_LIBRARY = candidates.find((path): path is string => !!path && existsSync(path)) ?? "";

/**
 * softokn has two slots: "NSS Generic Crypto Services" (no login, no persistent objects, and the
 * only one with the plain digest mechanisms) and "NSS Certificate DB", the key database. Keys
 * that need a login live in the second, so that is the token the tests use.
 */
export const NSS_TOKEN_LABEL = "NSS Certificate DB";

export interface NssDatabase {
  directory: string;
  config: CryptoParams;
  remove(): void;
}

let database: NssDatabase | undefined;
let removed = false;

function makeDatabase(): NssDatabase {
  if (!NSS_LIBRARY) throw new Error("NSS softokn is not installed (no libsoftokn3.so found): apt-get install libnss3");
  const directory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-nss-"));
  // The initialization string quotes the directory with '...'; a quote in it would end the value.
  if (directory.includes("'")) throw new Error(`The temporary directory ${directory} contains a quote; set TMPDIR elsewhere`);
  const passwordFile = join(directory, "password");
  writeFileSync(passwordFile, `${USER_PIN}\n`, { mode: 0o600 });
  try {
    execFileSync("certutil", ["-N", "-d", `sql:${directory}`, "-f", passwordFile], { stdio: "pipe" });
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(missing ? "certutil is not installed: apt-get install libnss3-tools" : `certutil -N failed: ${String(error)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
  return {
    directory,
    config: {
      library: NSS_LIBRARY,
      libraryParameters: `configdir='sql:${directory}' certPrefix='' keyPrefix='' secmod='secmod.db' flags=`,
      tokenLabel: NSS_TOKEN_LABEL,
      pin: USER_PIN,
    },
    remove: () => {
      rmSync(directory, { recursive: true, force: true });
      removed = true;
    },
  };
}

/** The process's NSS database, made on the first call. */
export function nssDatabase(): NssDatabase {
  if (removed) throw new Error("The NSS test database was removed; softokn allows one database per process");
  database ??= makeDatabase();
  return database;
}
