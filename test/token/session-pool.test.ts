// The session pool on its own, with counterfeit sessions: exclusive leases, the size limit,
// arrival order, replacement of discarded sessions, and closing.
import assert from "node:assert/strict";
import { SessionPool } from "../../src/token/session-pool.js";

function makePool(max: number) {
  let next = 0;
  const opened: number[] = [];
  const closed: number[] = [];
  const pool = new SessionPool(
    () => {
      const id = ++next;
      opened.push(id);
      const handle = Buffer.alloc(8);
      handle.writeUInt32LE(id);
      return handle;
    },
    (handle) => closed.push(handle.readUInt32LE(0)),
    max,
  );
  return { pool, opened, closed };
}

const id = (handle: Buffer) => handle.readUInt32LE(0);

describe("SessionPool", () => {
  it("opens lazily, never more than maxSize, and never leases one session twice", async () => {
    const { pool, opened } = makePool(3);
    assert.equal(pool.size, 0);
    const leased = await Promise.all([pool.lease(), pool.lease(), pool.lease()]);
    assert.deepEqual(leased.map(id).sort(), [1, 2, 3]);
    assert.equal(opened.length, 3);
    let fourth: Buffer | undefined;
    const waiting = pool.lease().then((session) => (fourth = session));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fourth, undefined, "a fourth lease must wait while three are out");
    pool.release(leased[1]);
    await waiting;
    assert.equal(id(fourth!), id(leased[1]));
    assert.equal(opened.length, 3);
  });

  it("serves waiters in arrival order", async () => {
    const { pool } = makePool(1);
    const first = await pool.lease();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => pool.lease().then((session) => { order.push(n); pool.release(session); }));
    pool.release(first);
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it("replaces a discarded session for the next waiter", async () => {
    const { pool, closed } = makePool(1);
    const first = await pool.lease();
    const waiting = pool.lease();
    pool.discard(first);
    const second = await waiting;
    assert.deepEqual(closed, [1]);
    assert.equal(id(second), 2);
    assert.equal(pool.size, 1);
  });

  it("a failure to open reaches the caller and does not count as open", async () => {
    let fail = true;
    const pool = new SessionPool(() => { if (fail) throw new Error("token gone"); return Buffer.alloc(8); }, () => {}, 2);
    await assert.rejects(pool.lease(), /token gone/);
    assert.equal(pool.size, 0);
    fail = false;
    await pool.lease();
    assert.equal(pool.size, 1);
  });

  it("close() fails waiters, closes idle sessions, and closes leased ones when they come back", async () => {
    const { pool, closed } = makePool(1);
    const session = await pool.lease();
    const waiting = pool.lease();
    pool.close(new Error("closed for test"));
    await assert.rejects(waiting, /closed for test/);
    pool.release(session);
    assert.deepEqual(closed, [1]);
    assert.equal(pool.size, 0);
    await assert.rejects(pool.lease(), /closed/);
  });

  it("rejects a size that is not a positive integer", () => {
    assert.throws(() => makePool(0), RangeError);
    assert.throws(() => makePool(1.5), RangeError);
  });
});
