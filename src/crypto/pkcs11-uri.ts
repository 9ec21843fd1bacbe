import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * RFC 7512 PKCS#11 URIs naming a token, as p11-kit, OpenSSL and GnuTLS write them:
 *
 *   pkcs11:token=signing;serial=1234?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin
 *
 * Path attributes select the token (token, serial, manufacturer, model, slot-id; object, type and
 * id name objects and are accepted but not used to connect). Query attributes say how to reach it
 * (module-path, module-name) and how to log in (pin-value, pin-source). `x-library-parameters` is
 * our vendor extension for modules that need an initialization string (NSS softokn).
 */
export interface Pkcs11Uri {
  token?: string;
  serial?: string;
  manufacturer?: string;
  model?: string;
  slotId?: bigint;
  modulePath?: string;
  moduleName?: string;
  pinValue?: string;
  pinSource?: string;
  libraryParameters?: string;
  object?: string;
  type?: string;
  id?: Buffer;
}

const pathAttributes = new Set([
  "token", "manufacturer", "serial", "model", "slot-id", "object", "type", "id",
  "library-description", "library-manufacturer", "library-version", "slot-description", "slot-manufacturer",
]);
const queryAttributes = new Set(["module-path", "module-name", "pin-value", "pin-source", "x-library-parameters"]);

export class Pkcs11UriError extends TypeError {
  override name = "TypeError";
}

function decode(value: string, attribute: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new Pkcs11UriError(`Invalid percent-encoding in the PKCS#11 URI attribute "${attribute}"`);
  }
}

/**
 * An attribute's name for a message, unless it may hold a PIN: a pin-value that lost its "="
 * ("pin-value1234") is all name, so names starting with "pin" are not echoed (found by fuzzing).
 */
function shown(name: string): string {
  return /^pin/i.test(name) ? "(a pin attribute, not shown)" : `"${name}"`;
}

function split(part: string, separator: string, known: Set<string>, where: string): Map<string, string> {
  const result = new Map<string, string>();
  if (part === "") return result;
  for (const [index, item] of part.split(separator).entries()) {
    const eq = item.indexOf("=");
    // The item itself is not echoed: it may be a PIN.
    if (eq <= 0) throw new Pkcs11UriError(`Malformed PKCS#11 URI ${where} attribute (number ${index + 1}): expected name=value`);
    const name = item.slice(0, eq).toLowerCase();
    if (!known.has(name) && !name.startsWith("x-")) {
      throw new Pkcs11UriError(`Unknown PKCS#11 URI ${where} attribute ${shown(name)}`);
    }
    if (result.has(name)) throw new Pkcs11UriError(`The PKCS#11 URI attribute "${name}" appears twice`);
    // pin-value must not be echoed in any message, so it is decoded without naming its value.
    // id is bytes, not text: it is decoded byte by byte later (percentBytes).
    result.set(name, name === "id" ? item.slice(eq + 1) : decode(item.slice(eq + 1), name));
  }
  return result;
}

export function isPkcs11Uri(value: unknown): value is string {
  return typeof value === "string" && value.slice(0, 7).toLowerCase() === "pkcs11:";
}

export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!isPkcs11Uri(uri)) throw new Pkcs11UriError('A PKCS#11 URI starts with "pkcs11:"');
  const body = uri.slice(7);
  const question = body.indexOf("?");
  const path = split(question < 0 ? body : body.slice(0, question), ";", pathAttributes, "path");
  const query = split(question < 0 ? "" : body.slice(question + 1), "&", queryAttributes, "query");
  const result: Pkcs11Uri = {
    token: path.get("token"),
    serial: path.get("serial"),
    manufacturer: path.get("manufacturer"),
    model: path.get("model"),
    object: path.get("object"),
    type: path.get("type"),
    modulePath: query.get("module-path"),
    moduleName: query.get("module-name"),
    pinValue: query.get("pin-value"),
    pinSource: query.get("pin-source"),
    libraryParameters: query.get("x-library-parameters"),
  };
  const slotId = path.get("slot-id");
  if (slotId !== undefined) {
    if (!/^\d+$/.test(slotId)) throw new Pkcs11UriError(`The PKCS#11 URI slot-id must be a decimal number, got "${slotId}"`);
    result.slotId = BigInt(slotId);
  }
  const id = path.get("id");
  if (id !== undefined) result.id = percentBytes(id);
  if (result.pinValue !== undefined && result.pinSource !== undefined) {
    throw new Pkcs11UriError("A PKCS#11 URI may give pin-value or pin-source, not both");
  }
  return result;
}

/**
 * The bytes of a percent-encoded value: each %XX one byte (an object id is binary, so "%A5" is
 * the byte 0xA5, not half a UTF-8 character), any other character its UTF-8 bytes.
 */
function percentBytes(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "%") {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Pkcs11UriError('Invalid percent-encoding in the PKCS#11 URI attribute "id"');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i], "utf8"));
    }
  }
  return Buffer.from(bytes);
}

/** Percent-encodes a path attribute's value (RFC 7512: anything but unreserved characters). */
export function percentEncode(value: string | Buffer): string {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  let text = "";
  for (const byte of bytes) {
    const character = String.fromCharCode(byte);
    text += /[A-Za-z0-9\-._~]/.test(character) ? character : `%${byte.toString(16).padStart(2, "0")}`;
  }
  return text;
}

/** Reads the PIN from a pin-source: a file path or file: URI (one line; the trailing newline is dropped). */
export function readPinSource(source: string): string {
  const path = source.startsWith("file:") ? decodeURIComponent(new URL(source).pathname) : source;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Pkcs11UriError(`Cannot read the PIN from pin-source ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  return text.replace(/\r?\n$/, "");
}

/** Where p11-kit and distributions put PKCS#11 modules, for module-name. */
const moduleDirectories = [
  "/usr/lib/x86_64-linux-gnu/pkcs11",
  "/usr/lib/aarch64-linux-gnu/pkcs11",
  "/usr/lib64/pkcs11",
  "/usr/lib/pkcs11",
  "/usr/lib/softhsm",
  "/usr/local/lib/softhsm",
  "/usr/lib/x86_64-linux-gnu",
];

export function resolveModuleName(name: string): string {
  for (const directory of moduleDirectories) {
    for (const file of [`${name}.so`, `lib${name}.so`, name]) {
      const candidate = join(directory, file);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Pkcs11UriError(`No PKCS#11 module named "${name}" in ${moduleDirectories.join(", ")}; give module-path instead`);
}
