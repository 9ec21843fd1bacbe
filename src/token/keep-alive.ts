/**
 * Buffers handed to pkcs11js's asynchronous calls are read and written by a worker thread, but
 * pkcs11js does not keep them referenced from JavaScript (its upstream issue #121): if nothing
 * else does, the garbage collector may free them mid-call and the process crashes. Every
 * asynchronous native call goes through `keepAlive`, which holds the buffers in a module-level set
 * until the call settles.
 */
const inFlight = new Set<object>();

export async function keepAlive<T>(held: readonly unknown[], call: () => Promise<T>): Promise<T> {
  const holder = { held };
  inFlight.add(holder);
  try {
    return await call();
  } finally {
    inFlight.delete(holder);
  }
}
