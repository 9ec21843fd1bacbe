import { mechanismName } from "../mechanisms/common/token-support.js";
import type { OperationName } from "../mechanisms/provider.js";
import { Token } from "../token/token.js";
import { describeToken, slotIdOf, type TokenDescription } from "../token/discovery.js";
import { initPin, setPin } from "../token/token-admin.js";
import { providers } from "./algorithms.js";
import { supportedAlgorithms } from "./capabilities.js";
import { webCryptoError } from "../webcrypto-errors.js";
import { resolveConfig, type CryptoParams } from "./config.js";
import { SubtleCrypto } from "./subtle.js";
import { CertificateStorage } from "../storage/certificate-storage.js";
import { KeyStorage } from "../storage/key-storage.js";

const integerArrays = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
];

/** The spec's limit on one getRandomValues call. */
const MAX_RANDOM_BYTES = 65536;

/**
 * The globalThis.crypto shape on a PKCS#11 token: `subtle`, `getRandomValues` and `randomUUID`
 * (both from the token's random number generator), plus login and close.
 *
 *   new Crypto({ library: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "signing", pin: "1234" })
 *   new Crypto("pkcs11:token=signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin")
 *
 * Construction connects synchronously: it loads (or shares) the module, selects the token, and
 * logs in when a PIN is given, throwing a TokenError that says what is wrong otherwise.
 */
export class Crypto {
  readonly subtle: SubtleCrypto;
  /** Persistent keys on the token: keys(), getItem(id), setItem(key), removeItem(id), ... */
  readonly keyStorage: KeyStorage;
  /** X.509 certificates and PKCS#10 requests on the token: importCert, setItem, getChain, ... */
  readonly certStorage: CertificateStorage;
  /** The `name` given in the configuration, if any. */
  readonly name?: string;
  readonly #token: Token;

  constructor(config: CryptoParams | string) {
    const resolved = resolveConfig(config);
    this.name = resolved.name;
    this.#token = Token.connect(resolved);
    this.subtle = new SubtleCrypto(this.#token);
    this.keyStorage = new KeyStorage(this.#token);
    this.certStorage = new CertificateStorage(this.#token, this.subtle, this.keyStorage);
  }

  get [Symbol.toStringTag](): string {
    return "Crypto";
  }

  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.");
    }
    if (!integerArrays.some((type) => array instanceof type)) {
      throw webCryptoError("TypeMismatchError", "The data argument must be an integer-type TypedArray");
    }
    const view = array as unknown as ArrayBufferView;
    if (view.byteLength > MAX_RANDOM_BYTES) {
      throw webCryptoError("QuotaExceededError", "The requested length exceeds 65,536 bytes");
    }
    if (view.byteLength > 0) this.#token.generateRandom(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
    return array;
  }

  randomUUID(): `${string}-${string}-${string}-${string}-${string}` {
    const bytes = this.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    const hex = Buffer.from(bytes).toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Logs the user in (for all sessions of this token in this process). */
  login(pin: string): void {
    this.#token.login(pin);
  }

  logout(): void {
    this.#token.logout();
  }

  get isLoggedIn(): boolean {
    return this.#token.isLoggedIn;
  }

  /** The selected token: label, serial and the PKCS#11 module it is reached through. */
  get tokenLabel(): string {
    return this.#token.label;
  }

  get tokenSerial(): string {
    return this.#token.serial;
  }

  /** The connected token's information and PIN state, read from the token on each access. */
  get token(): TokenDescription & { slotId: number | bigint } {
    return { slotId: slotIdOf(this.#token.slot), ...describeToken(this.#token.tokenInfo) };
  }

  /**
   * Sets (or resets, unblocking it) the user PIN as the security officer (C_InitPIN). Nobody may
   * be logged in as the user meanwhile: log out first.
   */
  initPin(soPin: string, userPin: string): void {
    initPin(this.#token, soPin, userPin);
  }

  /** Changes the user's PIN, or with `{ role: "so" }` the security officer's (C_SetPIN). */
  setPin(oldPin: string, newPin: string, options: { role?: "user" | "so" } = {}): void {
    setPin(this.#token, oldPin, newPin, options.role ?? "user");
    if ((options.role ?? "user") === "user") this.#token.pinChanged(oldPin, newPin);
  }

  get library(): string {
    return this.#token.library;
  }

  /**
   * The Web Crypto algorithms this token can do, each with its operations, from the mechanisms
   * the token listed at connection: `{ ECDSA: ["generateKey", "importKey", "exportKey", "sign", "verify"], ... }`.
   */
  get algorithms(): Record<string, OperationName[]> {
    return supportedAlgorithms(this.#token, providers.values());
  }

  /** Whether this token can do `operation` with `algorithm` (a Web Crypto name, any case). */
  supports(algorithm: string, operation: OperationName): boolean {
    const wanted = String(algorithm).toUpperCase();
    const entry = Object.entries(this.algorithms).find(([name]) => name.toUpperCase() === wanted);
    return entry !== undefined && entry[1].includes(operation);
  }

  /** The PKCS#11 mechanisms the token lists, by name (CKM_...). */
  get mechanisms(): string[] {
    return this.#token.mechanismList().map(mechanismName);
  }

  /**
   * Waits for operations in flight, closes every session (destroying this connection's session
   * keys) and releases the module; the last Crypto on a module finalizes it.
   */
  close(): Promise<void> {
    return this.#token.close();
  }
}
