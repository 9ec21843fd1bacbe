import { bufferSource } from "./arguments.js";

/**
 * The copy of a large input that Web Crypto requires ("get a copy of the bytes held by data"), in
 * reused memory.
 *
 * A fresh allocation of a megabyte costs about half a millisecond here, nearly all of it page
 * faults on memory the system hands out new each time, where copying into memory already touched
 * costs 30 µs: for a 1 MiB digest that was a third of the whole call. So copies from 64 KiB to
 * 8 MiB go into buffers kept for reuse (by size class, a few of each), which the operation gives
 * back when it has settled; the token has finished with them by then (src/token/keep-alive.ts
 * holds them until the call returns). Such a copy is only ever read by the token: no result
 * aliases it. Smaller inputs come from Node's own pool; larger ones are allocated as before.
 */
const MIN_POOLED = 64 * 1024;
const MAX_POOLED = 8 * 1024 * 1024;
/** Free buffers kept per size class, and in all: reuse must not become a standing cost. */
const KEPT_PER_CLASS = 4;
const KEPT_BYTES = 16 * 1024 * 1024;
let keptBytes = 0;

const free = new Map<number, Buffer[]>();

export interface InputCopy {
  bytes: Buffer;
  /** Returns the memory for reuse; call once the operation has settled. */
  release(): void;
}

const noRelease = () => {};

/** Converts and copies a BufferSource argument (TypeError as bufferSource() for anything else). */
export function copyInput(value: unknown, method: string, position: number): InputCopy {
  if (!(value instanceof ArrayBuffer || ArrayBuffer.isView(value)) || value.byteLength < MIN_POOLED || value.byteLength > MAX_POOLED) {
    return { bytes: bufferSource(value, method, position), release: noRelease };
  }
  if (ArrayBuffer.isView(value) && value.buffer instanceof SharedArrayBuffer) return { bytes: bufferSource(value, method, position), release: noRelease };
  const view = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const size = 2 ** Math.ceil(Math.log2(view.byteLength));
  const reused = free.get(size)?.pop();
  if (reused) keptBytes -= size;
  const memory = reused ?? Buffer.allocUnsafeSlow(size);
  const bytes = memory.subarray(0, view.byteLength);
  bytes.set(view);
  let released = false;
  return {
    bytes,
    release() {
      if (released) return;
      released = true;
      const kept = free.get(size) ?? [];
      if (kept.length < KEPT_PER_CLASS && keptBytes + size <= KEPT_BYTES) {
        kept.push(memory);
        keptBytes += size;
      }
      free.set(size, kept);
    },
  };
}
