import { ckrName, clearOpenSslErrors, TokenError } from "../../token/token-error.js";
import { pkcs11js } from "../../token/pkcs11.js";
import type { Token } from "../../token/token.js";
import { asOperationError, notSupported } from "../../webcrypto-errors.js";

const mechanismNames = new Map<number, string>();
// Where two names share a number, the later one is the current name (CKM_EC_KEY_PAIR_GEN, not
// the older CKM_ECDSA_KEY_PAIR_GEN), so later names win.
for (const [name, value] of Object.entries(pkcs11js)) {
  if (name.startsWith("CKM_") && typeof value === "number") mechanismNames.set(value, name);
}
// PKCS#11 3.0 mechanisms pkcs11js 2.1 has no constants for.
mechanismNames.set(0x1055, "CKM_EC_EDWARDS_KEY_PAIR_GEN");
mechanismNames.set(0x1056, "CKM_EC_MONTGOMERY_KEY_PAIR_GEN");
mechanismNames.set(0x1057, "CKM_EDDSA");

export function mechanismName(type: number): string {
  return mechanismNames.get(type) ?? `CKM_0x${type.toString(16).padStart(8, "0")}`;
}

/** Fails early, with the PKCS#11 mechanism named, when the token cannot do what is asked. */
export function requireMechanism(token: Token, mechanism: number, purpose: string): void {
  if (!token.hasMechanism(mechanism)) {
    throw notSupported(`${purpose} is not supported by token "${token.label}": it lacks ${mechanismName(mechanism)}`);
  }
}

/** Key sizes are checked against C_GetMechanismInfo before the token is asked to generate. */
export function requireKeySize(token: Token, mechanism: number, size: number, purpose: string): void {
  const info = token.mechanismInfo(mechanism);
  if (!info || info.minKeySize === 0 && info.maxKeySize === 0) return;
  if (size < info.minKeySize || size > info.maxKeySize) {
    throw notSupported(
      `${purpose} is not supported by token "${token.label}": ${mechanismName(mechanism)} takes sizes ${info.minKeySize} to ${info.maxKeySize}, not ${size}`,
    );
  }
}

/**
 * Runs token work for a WebCrypto operation; a PKCS#11 failure becomes an OperationError whose
 * message names the return value and whose cause is the TokenError.
 */
export async function onToken<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    clearOpenSslErrors();
    throw asOperationError(doing, describeTokenFailure(error));
  }
}

/**
 * What a return value means for the caller, where it is not plain: a key handle that stopped
 * working is a key destroyed under us (PKCS#11 destroys an application's private session objects,
 * and invalidates its handles to private objects, when any of its connections logs out; closing
 * every session destroys all its session objects). Found by test/faults.
 */
const KEY_GONE =
  "the key no longer exists on the token (a logout or a closing of all sessions by another connection destroys session keys and invalidates private keys' handles)";
const explanations = new Map<number, string>([
  [pkcs11js.CKR_OBJECT_HANDLE_INVALID, KEY_GONE],
  [pkcs11js.CKR_KEY_HANDLE_INVALID, KEY_GONE],
]);

function describeTokenFailure(error: unknown): unknown {
  if (error instanceof pkcs11js.Pkcs11Error) {
    const explanation = explanations.get(error.code);
    return new TokenError(`${error.method || "the token"} returned ${ckrName(error.code)}${explanation ? `: ${explanation}` : ""}`, {
      code: ckrName(error.code),
      ckr: error.code,
      method: error.method || undefined,
      cause: error,
    });
  }
  // Some pkcs11js calls (C_CreateObject among them) throw a plain Error reading "CKR_NAME:number".
  const plain = error instanceof Error ? /^(CKR_\w+):(\d+)$/.exec(error.message) : null;
  if (plain) return new TokenError(`the token returned ${plain[1]}`, { code: plain[1], ckr: Number(plain[2]), cause: error });
  return error;
}

/** An ArrayBuffer holding exactly the bytes of a Buffer (a Buffer may be a view into a larger one). */
export function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.buffer instanceof ArrayBuffer) {
    return buffer.buffer;
  }
  return new Uint8Array(buffer).buffer as ArrayBuffer;
}
