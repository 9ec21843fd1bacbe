import { acquireModule, reinitializeModule, releaseModule, type ModuleOptions, type SharedModule } from "./module-registry.js";
import { pkcs11js, type Handle, type MechanismInfo, type TokenInfo } from "./pkcs11.js";
import { SessionPool } from "./session-pool.js";
import { selectSlot, trimPadded, type TokenSelector } from "./slot-selector.js";
import { ckrOf, clearOpenSslErrors, isNotLoggedIn, isSessionLost, toTokenError, TokenError } from "./token-error.js";
import { describeLoginFailure } from "./login-errors.js";
import { resolvePin, type PinSource } from "./pin-source.js";

export interface TokenOptions extends ModuleOptions, TokenSelector {
  /**
   * User PIN. A string logs in at connection; a function (which may return a promise) is asked
   * when a login is needed: before the first operation, after a logout by the token, and for
   * every use of an always-authenticate key.
   */
  pin?: PinSource;
  /** Open read/write sessions (needed to create token objects). Default true. */
  readWrite?: boolean;
  /** Most sessions used at once for operations. Default 8. */
  poolSize?: number;
  /**
   * "never" (default): every operation runs on the token. "public": operations that involve no
   * secret (digest; verify and encrypt with a public key) run in Node's own crypto.
   */
  software?: "public" | "never";
  /**
   * "auto" (default): small, quick operations run inline when the token answers in microseconds
   * (measured at connection); "never": every operation runs on a worker thread.
   */
  inlineCalls?: "auto" | "never";
}

const DEFAULT_POOL_SIZE = 8;
/**
 * A median round trip under this (µs) makes a token quick enough for inline calls. Measured on
 * this project's machines: SoftHSM 3-4 µs, NSS softokn 2 µs, SoftHSM behind p11-kit's socket
 * 17-31 µs; 10 leaves room on both sides (20 did not: the socket sometimes answered in 17).
 */
const QUICK_CALL_MICROSECONDS = 10;
// Session states from the PKCS#11 specification (pkcs11js does not export the CKS_* constants).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;
/** Sessions that create session objects; see Token's comment. */
const MAX_OBJECT_SESSIONS = 4;

/**
 * A connection to one token: the shared module, the chosen slot, the login state, and the
 * sessions. All PKCS#11 traffic of a Crypto goes through here.
 *
 * Session objects (CKA_TOKEN=false, every CryptoKey by default) die with the session that created
 * them. So object-creating calls (generate, import, derive, unwrap) run on `objectSessions`,
 * sessions that are never closed before `close()`; they only ever run single-call functions that
 * leave no operation active. Multi-step operations (Init then Sign/Encrypt/Digest) run on
 * `operationSessions`, which are closed and replaced after any error, since a failed operation may
 * leave its session in a state we cannot see.
 */
export class Token {
  readonly module: SharedModule;
  /** The token's slot; a reconnection after the token was taken out and put back may change it. */
  slot: Handle;
  readonly library: string;
  readonly label: string;
  readonly serial: string;
  readonly software: "public" | "never";
  /** Whether small operations may run inline (see inlineCalls and src/token/operations.ts). */
  readonly quickCalls: boolean;
  private readonly mechanisms = new Map<number, MechanismInfo>();
  private readonly sessionFlags: number;
  /** For synchronous calls (getRandomValues, login): never leased, never runs an async call. */
  private controlSession: Handle;
  private operationSessions: SessionPool;
  private objectSessions: SessionPool;
  /** How the token was chosen (never the PIN), to find it again after it was taken out. */
  readonly #selector: TokenSelector & ModuleOptions;
  /** Set when the token answered that it is gone; the next operation reconnects first. */
  #gone: TokenError | undefined;
  #reconnecting: Promise<void> | undefined;
  /** Operations inside a token call (or between calls of one operation) right now. */
  #inCalls = 0;
  /** Bumped by each reconnection: object handles from before it may now name other objects. */
  #epoch = 0;
  /** The epoch each object handle made or found through this connection was born in. */
  readonly #handleEpochs = new WeakMap<Handle, number>();
  #pin: PinSource | undefined;
  /** A pin function was given and has not yet been used to log in (the login is lazy). */
  #loginPending = false;
  /** The login in progress, shared by every operation that waits for it. */
  #loggingIn: Promise<void> | undefined;
  /** Whether each private key (by its handle Buffer) has CKA_ALWAYS_AUTHENTICATE; read once per key. */
  readonly #alwaysAuthenticate = new WeakMap<Handle, boolean>();
  private active = 0;
  private drained: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(module: SharedModule, options: TokenOptions) {
    this.module = module;
    this.library = options.library;
    const { slot, tokenInfo } = selectSlot(module.pkcs11, options.library, options);
    this.slot = slot;
    this.label = trimPadded(tokenInfo.label);
    this.serial = trimPadded(tokenInfo.serialNumber);
    this.software = options.software ?? "never";
    this.#selector = {
      library: options.library, libraryParameters: options.libraryParameters, slot: options.slot, slotId: options.slotId,
      tokenLabel: options.tokenLabel, tokenSerial: options.tokenSerial, manufacturer: options.manufacturer, model: options.model,
    };
    this.sessionFlags = pkcs11js.CKF_SERIAL_SESSION | (options.readWrite === false ? 0 : pkcs11js.CKF_RW_SESSION);
    this.readMechanisms();
    this.controlSession = this.openSession();
    this.quickCalls = options.inlineCalls !== "never" && this.answersQuickly();
    const poolSize = module.threadSafe ? options.poolSize ?? DEFAULT_POOL_SIZE : 1;
    const close = (session: Handle) => this.module.pkcs11.C_CloseSession(session);
    this.operationSessions = new SessionPool(() => this.openSession(), close, poolSize);
    this.objectSessions = new SessionPool(() => this.openSession(), close, Math.min(poolSize, MAX_OBJECT_SESSIONS));
  }

  /** Loads (or shares) the module, picks the token, opens a session and logs in if a PIN is given. */
  static connect(options: TokenOptions): Token {
    const module = acquireModule(options);
    let token: Token | undefined;
    try {
      token = new Token(module, options);
      // A string PIN logs in now, as node-webcrypto-p11 does; a function waits until a login is needed.
      if (typeof options.pin === "string") token.login(options.pin);
      else if (options.pin !== undefined) {
        token.#pin = options.pin;
        token.#loginPending = true;
      }
      return token;
    } catch (error) {
      if (token) token.closeNow();
      else releaseModule(module);
      throw error;
    }
  }

  private openSession(): Handle {
    try {
      return this.module.pkcs11.C_OpenSession(this.slot, this.sessionFlags);
    } catch (error) {
      throw toTokenError(error, `Opening a session on token "${this.label}"`);
    }
  }

  private readMechanisms(): void {
    const pkcs11 = this.module.pkcs11;
    try {
      for (const type of pkcs11.C_GetMechanismList(this.slot)) {
        this.mechanisms.set(type, pkcs11.C_GetMechanismInfo(this.slot, type));
      }
    } catch (error) {
      throw toTokenError(error, `Reading the mechanisms of token "${this.label}"`);
    }
  }

  /**
   * Times a few trivial calls (C_GenerateRandom of 16 bytes): an in-process software token or a
   * local device answers in a few microseconds, a token behind a socket or a network in tens or
   * hundreds. Only the first kind gets inline calls.
   */
  private answersQuickly(): boolean {
    const buffer = Buffer.alloc(16);
    const times: number[] = [];
    try {
      for (let i = 0; i < 9; i++) {
        const started = process.hrtime.bigint();
        this.module.pkcs11.C_GenerateRandom(this.controlSession, buffer);
        times.push(Number(process.hrtime.bigint() - started) / 1000);
      }
    } catch {
      return false;
    }
    times.sort((a, b) => a - b);
    return times[4] < QUICK_CALL_MICROSECONDS;
  }

  /**
   * A call on the control session, reopened once if it was closed under us (C_CloseAllSessions by
   * other code in this process): without it the connection could never log in again.
   */
  private control<T>(call: (session: Handle) => T): T {
    try {
      return call(this.controlSession);
    } catch (error) {
      if (!isSessionLost(error) || this.closing) throw error;
      this.controlSession = this.openSession();
      return call(this.controlSession);
    }
  }

  /** The token's current information (flags, PIN state), read fresh. */
  get tokenInfo(): TokenInfo {
    return this.module.pkcs11.C_GetTokenInfo(this.slot);
  }

  hasMechanism(type: number): boolean {
    return this.mechanisms.has(type);
  }

  mechanismInfo(type: number): MechanismInfo | undefined {
    return this.mechanisms.get(type);
  }

  /** Mechanism numbers the token lists (C_GetMechanismList, read at connection). */
  mechanismList(): number[] {
    return [...this.mechanisms.keys()];
  }

  get isLoggedIn(): boolean {
    let state: number;
    try {
      ({ state } = this.control((session) => this.module.pkcs11.C_GetSessionInfo(session)));
    } catch (error) {
      // A token that is gone cannot say; the caller gets the token's answer as a TokenError.
      throw toTokenError(error, `Reading the login state of token "${this.label}"`);
    }
    return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
  }

  /**
   * Logs the user in. Login state belongs to the token and the application, not to a session, so
   * every session of this process sees it. The PIN is kept (in this object only) so that a login
   * lost under us, for example by a logout through another connection, can be redone.
   */
  login(pin: string): void {
    if (typeof pin !== "string") throw new TypeError("The PIN must be a string");
    try {
      this.control((session) => this.module.pkcs11.C_Login(session, pkcs11js.CKU_USER, pin));
    } catch (error) {
      if (ckrOf(error) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        throw describeLoginFailure(error, this.label, () => this.tokenInfo);
      }
    }
    this.#pin = pin;
    this.#loginPending = false;
  }

  /**
   * Logs in with the configured pin function, if one is waiting to be used (once, however many
   * operations ask at the same time). A wrong PIN rejects every waiter, and the next operation
   * asks the function again.
   */
  ensureLoggedIn(): Promise<void> {
    if (!this.#loginPending || this.#pin === undefined) return Promise.resolve();
    const source = this.#pin;
    if (!this.#loggingIn) {
      const attempt = (async () => {
        this.loginWith(await resolvePin(source), source);
        this.#loginPending = false;
      })();
      // Cleared once settled (never before it is stored: the attempt may settle at once).
      this.#loggingIn = attempt.finally(() => (this.#loggingIn = undefined));
    }
    return this.#loggingIn;
  }

  /** Logs in with `pin` and keeps `source` (the string itself, or the function it came from). */
  private loginWith(pin: string, source: PinSource): void {
    this.login(pin);
    this.#pin = source;
  }

  /** After a user PIN change through this connection, a kept string PIN must follow it. */
  pinChanged(oldPin: string, newPin: string): void {
    if (this.#pin === oldPin) this.#pin = newPin;
  }

  /**
   * Whether a key needs the PIN for each use (CKA_ALWAYS_AUTHENTICATE). Read from the token the
   * first time a key is used and kept for its handle, so that keys made elsewhere are handled
   * as well as ours. Keys that have no such attribute (secret and public keys) answer false.
   */
  alwaysAuthenticates(key: Handle): boolean {
    const known = this.#alwaysAuthenticate.get(key);
    if (known !== undefined) return known;
    let value: boolean;
    try {
      const [attribute] = this.module.pkcs11.C_GetAttributeValue(this.syncSession, key, [{ type: pkcs11js.CKA_ALWAYS_AUTHENTICATE }]);
      value = attribute.value.length > 0 && attribute.value[0] !== 0;
    } catch (error) {
      // CKR_ATTRIBUTE_TYPE_INVALID: not a private key, so never. Anything else (not logged in yet,
      // a stale handle): the operation itself will say what is wrong; ask again next time.
      if (ckrOf(error) !== pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID) return false;
      value = false;
    }
    this.#alwaysAuthenticate.set(key, value);
    return value;
  }

  /** Records what a key's CKA_ALWAYS_AUTHENTICATE is, when the caller knows (it made the key). */
  rememberAlwaysAuthenticates(key: Handle, value: boolean): void {
    this.#alwaysAuthenticate.set(key, value);
  }

  /** The PIN for one use of an always-authenticate key: the kept string, or the pin function's answer now. */
  async contextPin(): Promise<string> {
    if (this.#pin === undefined) {
      throw new TokenError(
        `This key needs the PIN for every use (CKA_ALWAYS_AUTHENTICATE), but no pin was configured for token "${this.label}": give pin in the configuration`,
        { code: "PIN_REQUIRED" },
      );
    }
    return resolvePin(this.#pin);
  }

  /** C_Login(CKU_CONTEXT_SPECIFIC) on a session whose operation was just initialized. */
  contextLogin(session: Handle, pin: string): void {
    try {
      this.module.pkcs11.C_Login(session, pkcs11js.CKU_CONTEXT_SPECIFIC, pin);
    } catch (error) {
      // NSS softokn keeps CKA_ALWAYS_AUTHENTICATE but has no per-use login: it answers this, and
      // signs without it. The PIN was still asked for, as the key's owner meant.
      if (ckrOf(error) === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return;
      throw describeLoginFailure(error, this.label, () => this.tokenInfo, {
        doing: `The per-use login (CKU_CONTEXT_SPECIFIC) for a key of token "${this.label}"`,
      });
    }
  }

  logout(): void {
    this.#pin = undefined;
    this.#loginPending = false;
    try {
      this.control((session) => this.module.pkcs11.C_Logout(session));
    } catch (error) {
      if (ckrOf(error) !== pkcs11js.CKR_USER_NOT_LOGGED_IN) throw toTokenError(error, `Logging out of token "${this.label}"`);
    }
  }

  /** Fills `buffer` from the token's random number generator (synchronous, as getRandomValues is). */
  generateRandom(buffer: Buffer): void {
    this.assertOpen();
    try {
      this.control((session) => this.module.pkcs11.C_GenerateRandom(session, buffer));
    } catch (error) {
      throw toTokenError(error, `Generating random bytes on token "${this.label}"`);
    }
  }

  /**
   * Runs a multi-step operation (Init..Final) on a session of its own. `login: false` for
   * operations that never need a login (digests), so that they do not call a pin function.
   */
  withOperationSession<T>(fn: (session: Handle) => T | Promise<T>, options: { login?: boolean } = {}): Promise<T> {
    if (this.#loginPending && options.login !== false) return this.ensureLoggedIn().then(() => this.run(this.operationSessions, true, fn));
    return this.run(this.operationSessions, true, fn);
  }

  /** Runs an object-creating call on a session that lives as long as this connection. */
  withObjectSession<T>(fn: (session: Handle) => T | Promise<T>): Promise<T> {
    if (this.#loginPending) return this.ensureLoggedIn().then(() => this.run(this.objectSessions, false, fn));
    return this.run(this.objectSessions, false, fn);
  }

  /** A session that lives as long as this connection, for quick synchronous calls (attribute reads, destroy). */
  get syncSession(): Handle {
    this.assertOpen();
    return this.controlSession;
  }

  private async run<T>(pool: SessionPool, discardOnError: boolean, fn: (session: Handle) => T | Promise<T>, retried = false): Promise<T> {
    this.assertOpen();
    this.active++;
    try {
      if (this.#gone) await this.reconnect();
      // Reconnecting replaces the pools: use the current one of the same kind.
      if (pool !== this.operationSessions && pool !== this.objectSessions) pool = discardOnError ? this.operationSessions : this.objectSessions;
      let session: Handle;
      try {
        session = await pool.lease();
      } catch (error) {
        // Opening a session is often the first call to find the token gone.
        if (isTokenGone(error)) this.#gone = toTokenError(error, `Using token "${this.label}"`);
        throw error;
      }
      let result: T;
      try {
        this.#inCalls++;
        try {
          result = await fn(session);
        } finally {
          this.#inCalls--;
        }
      } catch (error) {
        clearOpenSslErrors();
        if (isTokenGone(error)) {
          // Fail now, cleanly; the next operation finds the token again (reconnect) or says it is gone.
          this.#gone = toTokenError(error, `Using token "${this.label}"`);
          pool.discard(session);
          throw error;
        }
        const lost = isSessionLost(error);
        if (lost || discardOnError) pool.discard(session);
        else pool.release(session);
        if (!retried && lost) {
          // Sessions closed under us (C_CloseAllSessions elsewhere in the process) end the login
          // too: redo it before the retry (test/faults/sessions-closed.test.ts). isLoggedIn first:
          // it also reopens the control session, which attribute reads and login use.
          if (!this.isLoggedIn && this.#pin !== undefined) this.loginWith(await resolvePin(this.#pin), this.#pin);
          return await this.run(pool, discardOnError, fn, true);
        }
        if (!retried && isNotLoggedIn(error) && this.#pin !== undefined && !this.isLoggedIn) {
          // Logged out by the token or by another connection: log in again, asking a pin function anew.
          this.loginWith(await resolvePin(this.#pin), this.#pin);
          return await this.run(pool, discardOnError, fn, true);
        }
        throw error;
      }
      pool.release(session);
      return result;
    } finally {
      this.active--;
      if (this.active === 0 && this.drained) this.drained();
    }
  }

  /**
   * After the token was gone (taken out, its reader or remote server lost): if the connection's
   * own session still answers, nothing happened that needs mending. Otherwise find the token again
   * by the same selector, open new sessions (the old ones, and the session keys in them, died
   * with the token) and log in again with the kept PIN or the pin function. A module that cannot
   * find it (p11-kit's client, whose connection to its server died, answers CKR_DEVICE_ERROR to
   * everything until re-initialized) is finalized and initialized again, but only when this
   * connection is its sole user and no call of ours is inside it.
   */
  private reconnect(): Promise<void> {
    if (this.#reconnecting) return this.#reconnecting;
    const attempt = (async () => {
      const pkcs11 = this.module.pkcs11;
      try {
        pkcs11.C_GetSessionInfo(this.controlSession);
        this.#gone = undefined;
        return;
      } catch {
        // The session died with the token: reconnect below.
      }
      let selected: ReturnType<typeof selectSlot>;
      try {
        selected = selectSlot(pkcs11, this.library, this.#selector);
      } catch (error) {
        if (!this.reinitializeModule()) throw this.goneError(error);
        try {
          selected = selectSlot(pkcs11, this.library, this.#selector);
        } catch (again) {
          throw this.goneError(again);
        }
      }
      this.slot = selected.slot;
      this.#epoch++;
      const closedError = new TokenError(`The token "${this.label}" was removed`, { code: "CKR_DEVICE_REMOVED", ckr: pkcs11js.CKR_DEVICE_REMOVED });
      this.operationSessions.close(closedError);
      this.objectSessions.close(closedError);
      try {
        pkcs11.C_CloseSession(this.controlSession);
      } catch {
        // Gone with the token.
      }
      this.controlSession = this.openSession();
      const close = (session: Handle) => pkcs11.C_CloseSession(session);
      this.operationSessions = new SessionPool(() => this.openSession(), close, this.operationSessions.maxSize);
      this.objectSessions = new SessionPool(() => this.openSession(), close, this.objectSessions.maxSize);
      if (this.#pin !== undefined && !this.isLoggedIn) this.loginWith(await resolvePin(this.#pin), this.#pin);
      this.#gone = undefined;
    })();
    // Cleared once settled, never before it is stored (a failure can settle it at once).
    this.#reconnecting = attempt.finally(() => (this.#reconnecting = undefined));
    return this.#reconnecting;
  }

  /** Records a handle the token just gave us (a new or found object), so that a reconnection can retire it. */
  adopt<T extends Handle>(handle: T): T {
    this.#handleEpochs.set(handle, this.#epoch);
    return handle;
  }

  /** The reconnection a handle dates from (undefined for one never adopted); compare with `epoch`. */
  epochOf(handle: Handle): number | undefined {
    return this.#handleEpochs.get(handle);
  }

  /** How many times this connection has reconnected to its token. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether a handle dates from before a reconnection: the token may since reuse its number for another object. */
  isStale(handle: Handle): boolean {
    const epoch = this.#handleEpochs.get(handle);
    return epoch !== undefined && epoch !== this.#epoch;
  }

  /** Refuses a stale handle rather than let an old CryptoKey act on whatever object now has its number. */
  assertCurrent(handle: Handle): void {
    if (!this.isStale(handle)) return;
    throw new TokenError(
      `This key's object on token "${this.label}" is gone: the token was removed after the key was made or found (its handle may now name another object); make or find the key again`,
      { code: "CKR_OBJECT_HANDLE_INVALID", ckr: pkcs11js.CKR_OBJECT_HANDLE_INVALID },
    );
  }

  /** The error for operations while the token is away: what the token last said, and what we tried. */
  private goneError(error: unknown): TokenError {
    const cause = this.#gone ?? toTokenError(error, `Finding token "${this.label}"`);
    return new TokenError(`Token "${this.label}" is not available (${cause.code}); it is looked for again at the next operation`, {
      code: cause.code,
      ckr: cause.ckr,
      method: cause.method,
      cause: error,
    });
  }

  /** C_Finalize and C_Initialize again, if this connection alone uses the module and no call of ours is in it. */
  private reinitializeModule(): boolean {
    return this.#inCalls === 0 && reinitializeModule(this.module);
  }

  private assertOpen(): void {
    if (this.closing) throw new TokenError(`The connection to token "${this.label}" is closed`, { code: "CLOSED" });
  }

  /** Operations started and not yet finished, the caller's own included. */
  get inFlight(): number {
    return this.active;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Waits for operations in flight (finalizing a module under a running native call would crash
   * the process), then closes every session, which destroys this connection's session objects,
   * and releases the module.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
        this.closeNow();
      })();
    }
    return this.closing;
  }

  private closeNow(): void {
    const closedError = new TokenError(`The connection to token "${this.label}" is closed`, { code: "CLOSED" });
    this.operationSessions?.close(closedError);
    this.objectSessions?.close(closedError);
    try {
      if (this.controlSession) this.module.pkcs11.C_CloseSession(this.controlSession);
    } catch {
      // Already gone with the token.
    }
    this.#pin = undefined;
    releaseModule(this.module);
  }
}

/**
 * Return values that mean the token (or the way to it) is gone, rather than this one call failing:
 * taken out of its reader, its device or remote server lost.
 */
const tokenGone = new Set<number>([
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_SLOT_ID_INVALID,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
]);

function isTokenGone(error: unknown): boolean {
  const code = ckrOf(error);
  return code !== undefined && tokenGone.has(code);
}
