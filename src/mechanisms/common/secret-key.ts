import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { generateKeyOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import type { Token } from "../../token/token.js";
import type { NewKeyRequest } from "../provider.js";
import { importKeyObject, wrapHandle } from "./new-key.js";
import { onToken, requireMechanism } from "./token-support.js";

/** What HMAC and AES keys have in common: one CKA_VALUE, made by a key-generation mechanism or imported. */
export interface SecretKeySpec {
  /** CKK_AES, CKK_GENERIC_SECRET, ... */
  keyType: number;
  /** CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN, ... */
  generator: number;
  /** The Web Crypto algorithm name, for messages. */
  name: string;
}

export async function generateSecretKey(
  token: Token,
  spec: SecretKeySpec,
  lengthBytes: number,
  algorithm: KeyAlgorithm,
  request: NewKeyRequest,
): Promise<CryptoKey> {
  requireMechanism(token, spec.generator, `${spec.name} key generation`);
  const { extractable, usages, storage } = request;
  const template = [
    ...keyTemplate({ type: "secret", keyType: spec.keyType, extractable, usages, storage, id: keyIdBytes(storage) }),
    { type: pkcs11js.CKA_VALUE_LEN, value: lengthBytes },
  ];
  const handle = await onToken(`${spec.name} key generation`, () =>
    generateKeyOnToken(token, { mechanism: spec.generator }, template),
  );
  return wrapHandle(token, handle, "secret", extractable, algorithm, usages, storage);
}

export function importSecretKey(token: Token, spec: SecretKeySpec, value: Buffer, algorithm: KeyAlgorithm, request: NewKeyRequest): Promise<CryptoKey> {
  return onToken(`${spec.name} key import`, () =>
    importKeyObject(token, {
      ...request,
      type: "secret",
      keyType: spec.keyType,
      algorithm,
      material: [{ type: pkcs11js.CKA_VALUE, value }],
    }),
  );
}

export function readSecretValue(ref: KeyObjectRef, name: string): Promise<Buffer> {
  return onToken(`${name} key export`, async () => readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE])[0]);
}
