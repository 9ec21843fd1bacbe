import { acquireModule, releaseModule, type ModuleOptions, type SharedModule } from "./module-registry.js";
import { pkcs11js, type Handle, type MechanismInfo, type TokenInfo } from "./pkcs11.js";
import { SessionPool } from "./session-pool.js";
import { selectSlot, trimPadded, type TokenSelector } from "./slot-selector.js";
import { ckrOf, isNotLoggedIn, isSessionLost, toTokenError, TokenError } from "./token-error.js";
import { describeLoginFailure } from "./login-errors.js";

export interface TokenOptions extends ModuleOptions, TokenSelector {
  /** User PIN; when given, the token is logged in at connection. */
  pin?: string;
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
/** A median round trip under this (µs) makes a token quick enough for inline calls. */
const QUICK_CALL_MICROSECONDS = 20;
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
  readonly slot: Handle;
  readonly library: string;
  readonly label: string;
  readonly serial: string;
  readonly software: "public" | "never";
  /** Whether small operations may run inline (see inlineCalls and src/token/operations.ts). */
  readonly quickCalls: boolean;
  private readonly mechanisms = new Map<number, MechanismInfo>();
  private readonly sessionFlags: number;
  /** For synchronous calls (getRandomValues, login): never leased, never runs an async call. */
  private readonly controlSession: Handle;
  private readonly operationSessions: SessionPool;
  private readonly objectSessions: SessionPool;
  #pin: string | undefined;
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
      if (options.pin !== undefined) token.login(options.pin);
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
    const { state } = this.module.pkcs11.C_GetSessionInfo(this.controlSession);
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
      this.module.pkcs11.C_Login(this.controlSession, pkcs11js.CKU_USER, pin);
    } catch (error) {
      if (ckrOf(error) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        throw describeLoginFailure(error, this.label, () => this.tokenInfo);
      }
    }
    this.#pin = pin;
  }

  logout(): void {
    this.#pin = undefined;
    try {
      this.module.pkcs11.C_Logout(this.controlSession);
    } catch (error) {
      if (ckrOf(error) !== pkcs11js.CKR_USER_NOT_LOGGED_IN) throw toTokenError(error, `Logging out of token "${this.label}"`);
    }
  }

  /** Fills `buffer` from the token's random number generator (synchronous, as getRandomValues is). */
  generateRandom(buffer: Buffer): void {
    this.assertOpen();
    try {
      this.module.pkcs11.C_GenerateRandom(this.controlSession, buffer);
    } catch (error) {
      throw toTokenError(error, `Generating random bytes on token "${this.label}"`);
    }
  }

  /** Runs a multi-step operation (Init..Final) on a session of its own. */
  withOperationSession<T>(fn: (session: Handle) => T | Promise<T>): Promise<T> {
    return this.run(this.operationSessions, true, fn);
  }

  /** Runs an object-creating call on a session that lives as long as this connection. */
  withObjectSession<T>(fn: (session: Handle) => T | Promise<T>): Promise<T> {
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
      const session = await pool.lease();
      let result: T;
      try {
        result = await fn(session);
      } catch (error) {
        const lost = isSessionLost(error);
        if (lost || discardOnError) pool.discard(session);
        else pool.release(session);
        if (!retried && lost) return await this.run(pool, discardOnError, fn, true);
        if (!retried && isNotLoggedIn(error) && this.#pin !== undefined && !this.isLoggedIn) {
          this.login(this.#pin);
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

  private assertOpen(): void {
    if (this.closing) throw new TokenError(`The connection to token "${this.label}" is closed`, { code: "CLOSED" });
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
