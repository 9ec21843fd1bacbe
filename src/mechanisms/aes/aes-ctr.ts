import { endianness } from "node:os";
import { decryptOnToken, encryptOnToken } from "../../token/operations.js";
import { pkcs11js, type Handle, type Mechanism } from "../../token/pkcs11.js";
import type { Token } from "../../token/token.js";
import { operationError } from "../../webcrypto-errors.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../provider.js";
import { aesKeyMethods } from "./aes-key.js";

const NAME = "AES-CTR";
const USAGES: KeyUsage[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
const BLOCK = 16;

/**
 * C's `unsigned long` (CK_ULONG): 8 bytes on 64-bit Unix (LP64), 4 on Windows and 32-bit systems.
 * pkcs11js has no parameter type for CKM_AES_CTR, so CK_AES_CTR_PARAMS is passed as bytes.
 */
const CK_ULONG_BYTES = process.platform !== "win32" && ["x64", "arm64", "ppc64", "s390x", "riscv64", "loong64"].includes(process.arch) ? 8 : 4;

/** CK_AES_CTR_PARAMS { CK_ULONG ulCounterBits; CK_BYTE cb[16]; }: no padding on any ABI. */
function ctrParameter(counterBlock: Buffer, length: number): Buffer {
  const parameter = Buffer.alloc(CK_ULONG_BYTES + BLOCK);
  const little = endianness() === "LE";
  if (CK_ULONG_BYTES === 8) {
    if (little) parameter.writeBigUInt64LE(BigInt(length));
    else parameter.writeBigUInt64BE(BigInt(length));
  } else if (little) parameter.writeUInt32LE(length);
  else parameter.writeUInt32BE(length);
  counterBlock.copy(parameter, CK_ULONG_BYTES);
  return parameter;
}

/** The counter block and the number of its low bits that count, checked as Node checks them. */
function ctrParams(algorithm: NormalizedAlgorithm): { counter: Buffer; length: number } {
  const counter = Buffer.from(algorithm.counter as Uint8Array);
  if (counter.length !== BLOCK) throw operationError(`algorithm.counter must contain exactly ${BLOCK} bytes`);
  const length = algorithm.length as number;
  if (length < 1 || length > 128) throw operationError("AES-CTR algorithm.length must be between 1 and 128");
  return { counter, length };
}

function ctrMechanism(counter: Buffer, length: number): Mechanism {
  return { mechanism: pkcs11js.CKM_AES_CTR, parameter: ctrParameter(counter, length) };
}

/** One stretch of the data and the counter block its first block uses. */
interface Segment {
  counter: Buffer;
  start: number;
  end: number;
}

/**
 * Web Crypto's counter is the low `length` bits of the block, and wraps to zero within them
 * (the other bits stay). Node, like Chromium, refuses more blocks than the counter has values,
 * and otherwise wraps. SoftHSM refuses to wrap at all (CKR_DATA_LEN_RANGE), so data that crosses
 * the wrap point is done in two calls: up to the wrap with the given counter, then the rest from
 * the counter with its low bits zeroed. Each call then counts without wrapping, which every token
 * does the same way.
 */
function segments(counter: Buffer, length: number, dataLength: number): Segment[] {
  const blocks = BigInt(Math.ceil(dataLength / BLOCK));
  const space = 1n << BigInt(length);
  const mask = space - 1n;
  const value = BigInt(`0x${counter.toString("hex")}`);
  if (blocks > space) throw operationError("The data is longer than the counter allows");
  const untilWrap = space - (value & mask);
  if (blocks <= untilWrap) return [{ counter, start: 0, end: dataLength }];
  const wrapped = Buffer.from((value & ~mask).toString(16).padStart(32, "0"), "hex");
  const split = Number(untilWrap) * BLOCK;
  return [
    { counter, start: 0, end: split },
    { counter: wrapped, start: split, end: dataLength },
  ];
}

/**
 * CTR decryption is the same computation as encryption, but each goes through its own PKCS#11
 * call: the token allows C_EncryptInit only with CKA_ENCRYPT, and a key may have only "decrypt".
 * Runs on a worker thread.
 */
async function ctrCipher(
  operation: "encrypt" | "decrypt",
  token: Token,
  handle: Handle,
  algorithm: NormalizedAlgorithm,
  data: Buffer,
): Promise<ArrayBuffer> {
  const doing = `${NAME} ${operation === "encrypt" ? "encryption" : "decryption"}`;
  const call = operation === "encrypt" ? encryptOnToken : decryptOnToken;
  const { counter, length } = ctrParams(algorithm);
  const parts = segments(counter, length, data.length);
  requireMechanism(token, pkcs11js.CKM_AES_CTR, doing);
  return onToken(doing, async () => {
    const outputs: Buffer[] = [];
    for (const part of parts) {
      const input = data.subarray(part.start, part.end);
      // At least one byte of room even for empty input: pkcs11js passes an empty output buffer as
      // NULL, which PKCS#11 reads as a length query that leaves the operation active (SoftHSM
      // then answers the session's next Init with CKR_OPERATION_ACTIVE).
      // Each segment counts without wrapping (segments() sees to that), so the token is told the
      // whole block counts: the same counter blocks, and NSS, which allows at most 2^bits - 2
      // blocks per call for counters under 64 bits, takes every segment.
      outputs.push(await call(token, ctrMechanism(part.counter, 128), handle, input, Math.max(input.length, 1)));
    }
    return toArrayBuffer(outputs.length === 1 ? outputs[0] : Buffer.concat(outputs));
  });
}

/** AES-CTR with the key on the token. */
export const aesCtrProvider: AlgorithmProvider = {
  name: NAME,

  ...aesKeyMethods({ name: NAME, jwkSuffix: "CTR", usages: USAGES, mechanisms: { encrypt: [pkcs11js.CKM_AES_CTR], decrypt: [pkcs11js.CKM_AES_CTR], wrapKey: [pkcs11js.CKM_AES_CTR], unwrapKey: [pkcs11js.CKM_AES_CTR] } }),

  // C_WrapKey is one call: a counter that wraps within the wrapped bytes is left to the token
  // (SoftHSM refuses it rather than count on into the other bits).
  wrapMechanism(algorithm) {
    const { counter, length } = ctrParams(algorithm);
    return ctrMechanism(counter, length);
  },

  encrypt(algorithm, _key, ref, data) {
    return ctrCipher("encrypt", ref.token, ref.handle, algorithm, data);
  },

  decrypt(algorithm, _key, ref, data) {
    return ctrCipher("decrypt", ref.token, ref.handle, algorithm, data);
  },
};
