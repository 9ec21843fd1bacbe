import { createCryptoKey } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate, type KeyStorageOptions } from "../../keys/key-template.js";
import type { Handle, Template } from "../../token/pkcs11.js";
import { createObjectOnToken } from "../../token/operations.js";
import type { Token } from "../../token/token.js";

/** Wraps a handle the token just gave us as a CryptoKey (session keys are destroyed when it is collected). */
export function wrapHandle(
  token: Token,
  handle: Handle,
  type: KeyType,
  extractable: boolean,
  algorithm: KeyAlgorithm,
  usages: readonly KeyUsage[],
  storage: KeyStorageOptions,
): CryptoKey {
  // A key we made without CKA_ALWAYS_AUTHENTICATE has it false (the PKCS#11 default): no need to
  // read it back at its first use. (A key made with it is read, in case the token dropped it.)
  if (storage.alwaysAuthenticate !== true) token.rememberAlwaysAuthenticates(handle, false);
  return createCryptoKey({ token, handle, persistent: storage.token === true }, type, extractable, algorithm, usages);
}

/** Creates a key object from imported material: generic template + the family's attributes. */
export async function importKeyObject(
  token: Token,
  options: {
    type: KeyType;
    keyType: number;
    extractable: boolean;
    usages: readonly KeyUsage[];
    storage: KeyStorageOptions;
    algorithm: KeyAlgorithm;
    material: Template;
  },
): Promise<CryptoKey> {
  const template = [...keyTemplate({ ...options, id: keyIdBytes(options.storage) }), ...options.material];
  const handle = await createObjectOnToken(token, template);
  return wrapHandle(token, handle, options.type, options.extractable, options.algorithm, options.usages, options.storage);
}
