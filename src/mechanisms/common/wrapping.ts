import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { unwrapBytesOnToken, unwrapKeyOnToken, wrapBytesOnToken } from "../../token/wrap-operations.js";
import { dataError, notSupported, operationError } from "../../webcrypto-errors.js";
import type { NewKeyRequest } from "../provider.js";
import { wrapHandle } from "./new-key.js";
import { mechanismName, onToken } from "./token-support.js";
import { checkNotEmpty, checkUsages } from "./usages.js";

/**
 * wrapKey and unwrapKey inside the token (C_WrapKey, C_UnwrapKey). A key with the wrapKey or
 * unwrapKey usage is CKA_WRAP / CKA_UNWRAP, never CKA_ENCRYPT / CKA_DECRYPT for that purpose: a
 * key that can both wrap and decrypt lets anyone with access to the token wrap a sensitive key
 * and decrypt it into the clear. So wrapping happens where the token says its mechanism can wrap
 * (CKF_WRAP / CKF_UNWRAP in C_GetMechanismInfo), and fails with NotSupportedError elsewhere.
 */
export function requireWrapCapability(ref: KeyObjectRef, mechanism: Mechanism, direction: "wrap" | "unwrap", algorithm: string): void {
  const flag = direction === "wrap" ? pkcs11js.CKF_WRAP : pkcs11js.CKF_UNWRAP;
  const info = ref.token.mechanismInfo(mechanism.mechanism);
  if (!info || (info.flags & flag) === 0) {
    throw notSupported(
      `${direction}Key with ${algorithm} is not supported by token "${ref.token.label}": its ${mechanismName(mechanism.mechanism)} cannot ${direction} (no CKF_${direction.toUpperCase()})`,
    );
  }
}

/** RSA private-key work is slow enough to belong on a worker thread; AES wrapping is not. */
const isSlow = (mechanism: Mechanism) => mechanism.mechanism === pkcs11js.CKM_RSA_PKCS_OAEP;

/** Room for any wrapping's expansion: padding, a tag, an IV, or an RSA modulus up to 16384 bits. */
const WRAP_OVERHEAD = 4096;

export async function wrapBytes(ref: KeyObjectRef, mechanism: Mechanism, bytes: Buffer, algorithm: string): Promise<ArrayBuffer> {
  requireWrapCapability(ref, mechanism, "wrap", algorithm);
  // RFC 3394 wraps whole 64-bit blocks; tokens would pad silently, Node refuses.
  if (mechanism.mechanism === pkcs11js.CKM_AES_KEY_WRAP && (bytes.length % 8 !== 0 || bytes.length < 16)) {
    throw operationError("AES-KW wraps data whose length is a multiple of 8 bytes, at least 16");
  }
  const wrapped = await onToken(`wrapKey with ${algorithm}`, () =>
    wrapBytesOnToken(ref.token, mechanism, ref.handle, bytes, bytes.length + WRAP_OVERHEAD, isSlow(mechanism)),
  );
  return new Uint8Array(wrapped).buffer as ArrayBuffer;
}

export async function unwrapBytes(ref: KeyObjectRef, mechanism: Mechanism, wrapped: Buffer, algorithm: string): Promise<Buffer> {
  requireWrapCapability(ref, mechanism, "unwrap", algorithm);
  try {
    return await onToken(`unwrapKey with ${algorithm}`, () => unwrapBytesOnToken(ref.token, mechanism, ref.handle, wrapped, isSlow(mechanism)));
  } catch (error) {
    throw sizeLimit(error, ref, `unwrapKey with ${algorithm}`, wrapped.length);
  }
}

/**
 * Bytes are unwrapped into a generic-secret object, and some tokens cap its length: NSS softokn
 * refuses more than 256 bytes (CKR_TEMPLATE_INCONSISTENT), so an RSA key's PKCS#8 or JWK cannot
 * pass (found by fuzzing unwrapKey on NSS). That is the token's limit, not bad data: say so.
 */
function sizeLimit(error: unknown, ref: KeyObjectRef, doing: string, length: number): unknown {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code !== "CKR_TEMPLATE_INCONSISTENT" && code !== "CKR_KEY_SIZE_RANGE") return error;
  return notSupported(
    `${doing} is not supported by token "${ref.token.label}" for ${length} bytes: it refuses a generic secret of that size to hold them (${code})`,
    error,
  );
}

/** AES key types that unwrapKey("raw", ...) creates directly on the token, and their usages. */
const aesTargets: Record<string, readonly KeyUsage[]> = {
  "AES-GCM": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CBC": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CTR": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-KW": ["wrapKey", "unwrapKey"],
};

/**
 * Whether unwrapKey can create the key itself on the token. The new key's length must be known
 * before the call (tokens such as SoftHSM leave CKA_VALUE_LEN at 0 when the template does not set
 * it): RFC 3394 key wrap tells it (8 bytes shorter than the wrapping); other mechanisms go through
 * the generic path.
 */
export function unwrapsDirectly(format: string, targetAlgorithm: string, mechanism: Mechanism): boolean {
  return format === "raw" && targetAlgorithm in aesTargets && mechanism.mechanism === pkcs11js.CKM_AES_KEY_WRAP;
}

/**
 * unwrapKey("raw", ..., AES-*, extractable, usages): C_UnwrapKey creates the AES key itself, with
 * the requested CKA_SENSITIVE / CKA_EXTRACTABLE and usages, so its value never passes through
 * JavaScript. The key's length is read back from the token.
 */
export async function unwrapAesKey(ref: KeyObjectRef, mechanism: Mechanism, wrapped: Buffer, algorithm: string, request: NewKeyRequest): Promise<CryptoKey> {
  requireWrapCapability(ref, mechanism, "unwrap", algorithm);
  const name = request.algorithm.name;
  checkUsages(request.usages, aesTargets[name], name);
  checkNotEmpty("secret", request.usages);
  const { token } = ref;
  // RFC 3394: the wrapping is the key plus one 8-byte block (and tokens may not report the
  // length: SoftHSM leaves CKA_VALUE_LEN at 0 on unwrapped keys and refuses it in the template).
  if (wrapped.length % 8 !== 0 || wrapped.length < 24) throw operationError("The AES-KW wrapping is not whole 8-byte blocks");
  const bytes = wrapped.length - 8;
  if (![16, 24, 32].includes(bytes)) {
    // The spec (and Node) unwrap first and judge the key after: a wrapping that fails its
    // integrity check is an OperationError whatever its length (found by fuzzing). So unwrap it
    // into a throwaway object (OperationError here if it fails), then refuse the length. The
    // bytes read back are never a key: no AES key has that length.
    await unwrapBytes(ref, mechanism, wrapped, algorithm);
    throw dataError("Invalid key length");
  }
  const template = keyTemplate({
    type: "secret",
    keyType: pkcs11js.CKK_AES,
    extractable: request.extractable,
    usages: request.usages,
    storage: request.storage,
    id: keyIdBytes(request.storage),
  });
  const handle = await onToken(`unwrapKey with ${algorithm}`, () =>
    unwrapKeyOnToken(token, mechanism, ref.handle, wrapped, template, isSlow(mechanism)),
  );
  return wrapHandle(token, handle, "secret", request.extractable, { name, length: bytes * 8 } as AesKeyAlgorithm, request.usages, request.storage);
}
