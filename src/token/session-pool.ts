import type { Handle } from "./pkcs11.js";

/**
 * Sessions leased exclusively: a PKCS#11 session runs one operation at a time, so an operation
 * holds its session from Init to Final and nobody else touches it meanwhile. Sessions are opened
 * lazily up to `maxSize`; further callers wait in arrival order.
 */
export class SessionPool {
  private readonly idle: Handle[] = [];
  private readonly waiting: Array<{ resolve: (session: Handle) => void; reject: (error: unknown) => void }> = [];
  private open = 0;
  private closed = false;

  constructor(
    private readonly openSession: () => Handle,
    private readonly closeSession: (session: Handle) => void,
    readonly maxSize: number,
  ) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`Session pool size must be a positive integer, got ${maxSize}`);
  }

  /** Sessions currently open (idle or leased). */
  get size(): number {
    return this.open;
  }

  lease(): Promise<Handle> {
    if (this.closed) return Promise.reject(new Error("The session pool is closed"));
    const session = this.idle.pop();
    if (session) return Promise.resolve(session);
    if (this.open < this.maxSize) {
      try {
        return Promise.resolve(this.openOne());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Gives a session back after a clean operation. */
  release(session: Handle): void {
    if (this.closed) {
      this.open--;
      this.closeQuietly(session);
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(session);
    else this.idle.push(session);
  }

  /**
   * Closes a session that may be unusable (invalidated by the token, or left with an operation
   * active after an error) and lets the next waiter have a fresh one.
   */
  discard(session: Handle): void {
    this.open--;
    this.closeQuietly(session);
    const next = this.waiting.shift();
    if (!next) return;
    try {
      next.resolve(this.openOne());
    } catch (error) {
      next.reject(error);
    }
  }

  /** Closes every idle session and fails the waiters; leased sessions close when released. */
  close(error: Error = new Error("The session pool is closed")): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    for (const session of this.idle.splice(0)) {
      this.open--;
      this.closeQuietly(session);
    }
  }

  private openOne(): Handle {
    const session = this.openSession();
    this.open++;
    return session;
  }

  private closeQuietly(session: Handle): void {
    try {
      this.closeSession(session);
    } catch {
      // A session that cannot be closed is already gone (token removed, module finalized).
    }
  }
}
