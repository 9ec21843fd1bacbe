// Time-budgeted measurement: each cell warms up, then runs for a fixed wall time and reports how
// many calls completed in how long. Shared by bench/run.mjs and the node-webcrypto-p11 child.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * A sequential cell: `call` awaited one at a time. Runs `warmup` seconds, then `seconds`; the last
 * call started before the deadline is counted whole, and so is its time.
 */
export async function sequential(call, { seconds, warmup }) {
  const warmEnd = performance.now() + warmup * 1000;
  do await call();
  while (performance.now() < warmEnd);
  const start = performance.now();
  const end = start + seconds * 1000;
  let ops = 0;
  let now;
  do {
    await call();
    ops++;
  } while ((now = performance.now()) < end);
  return { ops, seconds: (now - start) / 1000 };
}

/**
 * The same for a synchronous call (the raw pkcs11js baseline: no promise, no await, the loop
 * never yields).
 */
export function sequentialSync(call, { seconds, warmup }) {
  const warmEnd = performance.now() + warmup * 1000;
  do call();
  while (performance.now() < warmEnd);
  const start = performance.now();
  const end = start + seconds * 1000;
  let ops = 0;
  let now;
  do {
    call();
    ops++;
  } while ((now = performance.now()) < end);
  return { ops, seconds: (now - start) / 1000 };
}

/**
 * A concurrent cell: `inFlight` loops, each awaiting one call after another, so that `inFlight`
 * calls are always outstanding. New calls stop at the deadline; the calls still in flight are
 * waited for and counted, and so is the time they take (throughput = all calls / all time).
 * Failures are counted, not thrown: the cell reports the first failure's reason.
 */
export async function concurrent(call, { seconds, warmup, inFlight }) {
  const round = async (duration) => {
    const start = performance.now();
    const end = start + duration * 1000;
    let ops = 0;
    let failed = 0;
    let firstError;
    const loop = async () => {
      while (performance.now() < end) {
        try {
          await call();
          ops++;
        } catch (error) {
          failed++;
          firstError ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, loop));
    return { ops, failed, firstError, seconds: (performance.now() - start) / 1000 };
  };
  const warm = await round(warmup);
  const measured = await round(seconds);
  measured.firstError ??= warm.firstError;
  if (warm.failed) measured.warmupFailed = warm.failed;
  return measured;
}

/**
 * Runs `work` while a 10 ms interval timer measures its own lateness; returns the worst lateness
 * in ms and the elapsed time (also used by bench/event-loop-lag.mjs).
 */
export async function worstLag(work) {
  const interval = 10;
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - interval);
    last = now;
  }, interval);
  const started = performance.now();
  await work();
  const elapsed = performance.now() - started;
  clearInterval(timer);
  // The last stretch may not have ended with a tick; count it too.
  worst = Math.max(worst, performance.now() - last - interval);
  return { worstMs: Math.max(0, worst), seconds: elapsed / 1000 };
}

/** The garbage collector, without needing `node --expose-gc` on the command line. */
let collect;
export function gc() {
  if (!collect) {
    if (typeof globalThis.gc === "function") collect = globalThis.gc;
    else {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc");
    }
  }
  collect();
}

/**
 * Between cells: collect garbage and give finalizers (our session-key reaper, which destroys the
 * keys a keygen cell dropped) turns of the event loop, so that one cell's leftovers are not
 * cleaned up on the next cell's time.
 */
export async function settle() {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A short reason for a failure: the CKR_ name where there is one, else the message's first line. */
export function reasonOf(error) {
  if (error === undefined) return "unknown";
  const text = [error?.code, error?.cause?.code, error?.message, String(error)].filter((x) => typeof x === "string").join(" ");
  const ckr = /CKR_[A-Z0-9_]+/.exec(text);
  if (ckr) return ckr[0];
  const message = String(error?.message ?? error).split("\n")[0];
  return message.length > 60 ? `${message.slice(0, 57)}...` : message;
}
