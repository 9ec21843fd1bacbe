import { existsSync, realpathSync } from "node:fs";
import { pkcs11js, type PKCS11 } from "./pkcs11.js";
import { ckrOf, toTokenError, TokenError } from "./token-error.js";

/**
 * One loaded and initialized PKCS#11 module, shared by every Crypto in the process that names the
 * same library file and parameters. PKCS#11 modules are process-wide singletons (a second
 * C_Initialize fails), so sharing is not an optimisation but the only correct way to have two
 * connections to one module.
 */
export interface SharedModule {
  readonly pkcs11: PKCS11;
  readonly library: string;
  /**
   * False when the module refused CKF_OS_LOCKING_OK and was initialized without locking
   * arguments: it then must not be called from two threads at once, so callers limit themselves
   * to one call at a time.
   */
  readonly threadSafe: boolean;
}

interface Entry extends SharedModule {
  refs: number;
  /** Whether we called C_Initialize successfully (and so must call C_Finalize). */
  ownsInitialization: boolean;
  libraryParameters?: string;
}

const modules = new Map<string, Entry>();

export interface ModuleOptions {
  library: string;
  /** Initialization string for modules that take one (NSS softokn's "configdir=... "). */
  libraryParameters?: string;
}

function registryKey(options: ModuleOptions): string {
  return `${realpathSync(options.library)}\u0000${options.libraryParameters ?? ""}`;
}

/** Loads and initializes the module, or takes another reference to the one already loaded. */
export function acquireModule(options: ModuleOptions): SharedModule {
  if (typeof options.library !== "string" || options.library === "") {
    throw new TokenError("No PKCS#11 module given: set `library` to the path of the module (.so/.dll/.dylib)", {
      code: "MODULE_NOT_FOUND",
    });
  }
  if (!existsSync(options.library)) {
    throw new TokenError(`PKCS#11 module not found: no file at ${options.library}`, { code: "MODULE_NOT_FOUND" });
  }
  const key = registryKey(options);
  const existing = modules.get(key);
  // A module is initialized once per process, with one set of parameters: a second set would be
  // ignored (CKR_CRYPTOKI_ALREADY_INITIALIZED) and the first database used without a word.
  const path = key.slice(0, key.indexOf("\u0000"));
  for (const other of modules.keys()) {
    if (other !== key && other.startsWith(`${path}\u0000`)) {
      throw new TokenError(
        `PKCS#11 module ${options.library} is already loaded in this process with other libraryParameters; a module takes one set per process`,
        { code: "MODULE_PARAMETERS_CONFLICT" },
      );
    }
  }
  if (existing) {
    existing.refs++;
    return existing;
  }
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(options.library);
  } catch (error) {
    throw new TokenError(`Cannot load PKCS#11 module ${options.library}: ${(error as Error).message}`, {
      code: "MODULE_LOAD_FAILED",
      cause: error,
    });
  }
  let initialized: { owns: boolean; threadSafe: boolean };
  try {
    initialized = initialize(pkcs11, options.libraryParameters);
  } catch (error) {
    try {
      pkcs11.close();
    } catch {
      // The module is unusable anyway; the initialization error is the one to report.
    }
    throw toTokenError(error, `Initializing PKCS#11 module ${options.library}`);
  }
  const entry: Entry = {
    pkcs11,
    library: options.library,
    threadSafe: initialized.threadSafe,
    refs: 1,
    ownsInitialization: initialized.owns,
    libraryParameters: options.libraryParameters,
  };
  modules.set(key, entry);
  return entry;
}

/**
 * C_Initialize with CKF_OS_LOCKING_OK, because our calls come from libuv's worker threads. Modules
 * differ in what they accept: p11-kit's client insists on the flag, a few modules answer
 * CKR_CANT_LOCK to it and want no arguments at all. A module that some other code in this process
 * already initialized answers CKR_CRYPTOKI_ALREADY_INITIALIZED: we use it, and leave finalizing it
 * to whoever initialized it.
 */
function initialize(pkcs11: PKCS11, libraryParameters?: string): { owns: boolean; threadSafe: boolean } {
  const attempt = (options?: { flags: number; libraryParameters?: string }) => {
    try {
      pkcs11.C_Initialize(options);
      return pkcs11js.CKR_OK;
    } catch (error) {
      const code = ckrOf(error);
      if (code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED || code === pkcs11js.CKR_CANT_LOCK) return code;
      throw error;
    }
  };
  // pkcs11js rejects an explicit `libraryParameters: undefined`, so the member is added only when set.
  const args = (flags: number) => (libraryParameters === undefined ? { flags } : { flags, libraryParameters });
  const first = attempt(args(pkcs11js.CKF_OS_LOCKING_OK));
  if (first === pkcs11js.CKR_OK) return { owns: true, threadSafe: true };
  if (first === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) return { owns: false, threadSafe: true };
  // CKR_CANT_LOCK: the module cannot lock with the OS primitives; ask for no locking at all.
  const second = attempt(libraryParameters === undefined ? undefined : args(0));
  if (second === pkcs11js.CKR_OK) return { owns: true, threadSafe: false };
  if (second === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) return { owns: false, threadSafe: false };
  throw new TokenError("The PKCS#11 module refused every locking mode (CKR_CANT_LOCK)", {
    code: "CKR_CANT_LOCK",
    ckr: pkcs11js.CKR_CANT_LOCK,
    method: "C_Initialize",
  });
}

/** Drops one reference; the last one finalizes and unloads the module. */
export function releaseModule(module: SharedModule): void {
  for (const [key, entry] of modules) {
    if (entry !== module) continue;
    entry.refs--;
    if (entry.refs > 0) return;
    modules.delete(key);
    try {
      if (entry.ownsInitialization) entry.pkcs11.C_Finalize();
    } finally {
      entry.pkcs11.close();
    }
    return;
  }
}

/**
 * C_Finalize and C_Initialize again, for a module that lost its token in a way only that mends:
 * p11-kit's client, whose connection to its server died, answers CKR_DEVICE_ERROR to everything
 * until it is initialized anew. Only for a module we initialized and that has one holder (the
 * caller), who must also know that none of its calls is inside the module; false otherwise, or
 * when initializing fails.
 */
export function reinitializeModule(module: SharedModule): boolean {
  const entry = [...modules.values()].find((candidate) => candidate === module);
  if (!entry || !entry.ownsInitialization || entry.refs !== 1) return false;
  try {
    entry.pkcs11.C_Finalize();
  } catch {
    // Finalizing a module whose connection is gone may fail; initializing again is what matters.
  }
  try {
    initialize(entry.pkcs11, entry.libraryParameters);
  } catch {
    return false;
  }
  return true;
}

/** How many Crypto instances hold each module (for tests and diagnostics). */
export function loadedModuleCount(library: string): number {
  let count = 0;
  for (const entry of modules.values()) if (entry.library === library) count += entry.refs;
  return count;
}
