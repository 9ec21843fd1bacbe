import type { ModuleOptions } from "../token/module-registry.js";
import { checkPinSource, type PinSource } from "../token/pin-source.js";
import { TokenError } from "../token/token-error.js";
import type { TokenOptions } from "../token/token.js";
import { isPkcs11Uri, parsePkcs11Uri, readPinSource, resolveModuleName } from "./pkcs11-uri.js";

/**
 * The constructor's object form, with node-webcrypto-p11's names so that its users can switch by
 * changing an import.
 */
export interface CryptoParams {
  /** Path of the PKCS#11 module. */
  library: string;
  /** Initialization string for modules that take one (NSS softokn: "configdir='sql:/path' ..."). */
  libraryParameters?: string;
  /** A name for this provider (informational). */
  name?: string;
  /** Index among the slots that have a token. Default 0. */
  slot?: number;
  /** Select the token by its label. */
  tokenLabel?: string;
  /** Select the token by its serial number. */
  tokenSerial?: string;
  /**
   * User PIN. A string logs in at construction. A function (sync or async) returning the PIN is
   * called only when a login is needed: before the first operation on the token, after the token
   * logged us out, and for every use of an always-authenticate key. Or log in later with
   * crypto.login(pin).
   */
  pin?: PinSource;
  /** Read/write sessions, needed to create token objects. Default true. */
  readWrite?: boolean;
  /** Most sessions used at once for operations. Default 8. */
  poolSize?: number;
  /**
   * Where operations that involve no secret run: "never" (default) keeps everything on the token;
   * "public" runs digests, and verification and encryption with public keys, in Node's crypto.
   */
  software?: "public" | "never";
  /**
   * "auto" (default): small operations (up to 16 KiB, not RSA) run inline on a token measured to
   * answer in microseconds, which is several times faster than a trip to a worker thread;
   * "never": every operation runs on a worker thread.
   */
  inlineCalls?: "auto" | "never";
}

export interface ResolvedConfig extends TokenOptions {
  name?: string;
}

/** A PKCS#11 module: its path and initialization string, or a PKCS#11 URI naming it. */
export type ModuleSpec = ModuleOptions | string;

function moduleOf(parsed: ReturnType<typeof parsePkcs11Uri>): ModuleOptions {
  const library = parsed.modulePath ?? (parsed.moduleName !== undefined ? resolveModuleName(parsed.moduleName) : undefined);
  if (library === undefined) {
    throw new TokenError("The PKCS#11 URI names no module: add ?module-path=/path/to/module.so", { code: "MODULE_NOT_FOUND" });
  }
  return parsed.libraryParameters === undefined ? { library } : { library, libraryParameters: parsed.libraryParameters };
}

/** The module part of a ModuleSpec (a URI's token attributes are not used here). */
export function resolveModule(spec: ModuleSpec): ModuleOptions {
  if (typeof spec === "string") {
    if (!isPkcs11Uri(spec)) throw new TypeError('A string module must be a PKCS#11 URI ("pkcs11:...?module-path=...")');
    return moduleOf(parsePkcs11Uri(spec));
  }
  if (typeof spec !== "object" || spec === null) throw new TypeError("The module must be { library, libraryParameters? } or a PKCS#11 URI");
  if (typeof spec.library !== "string") throw new TypeError("library must be the path of the PKCS#11 module");
  if (spec.libraryParameters !== undefined && typeof spec.libraryParameters !== "string") throw new TypeError("libraryParameters must be a string");
  return spec.libraryParameters === undefined ? { library: spec.library } : { library: spec.library, libraryParameters: spec.libraryParameters };
}

function fromUri(uri: string): ResolvedConfig {
  const parsed = parsePkcs11Uri(uri);
  const { library } = moduleOf(parsed);
  return {
    library,
    libraryParameters: parsed.libraryParameters,
    tokenLabel: parsed.token,
    tokenSerial: parsed.serial,
    manufacturer: parsed.manufacturer,
    model: parsed.model,
    slotId: parsed.slotId,
    pin: parsed.pinValue ?? (parsed.pinSource !== undefined ? readPinSource(parsed.pinSource) : undefined),
  };
}

export function resolveConfig(config: CryptoParams | string): ResolvedConfig {
  if (typeof config === "string") {
    if (!isPkcs11Uri(config)) throw new TypeError('A string configuration must be a PKCS#11 URI ("pkcs11:...")');
    return fromUri(config);
  }
  if (typeof config !== "object" || config === null) {
    throw new TypeError("new Crypto() takes a configuration object ({ library, slot, pin, ... }) or a PKCS#11 URI");
  }
  checkPinSource(config.pin);
  if (config.software !== undefined && config.software !== "public" && config.software !== "never") {
    throw new TypeError('software must be "public" or "never"');
  }
  return { ...config };
}
