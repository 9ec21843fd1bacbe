export { Crypto } from "./crypto/crypto.js";
export { SubtleCrypto } from "./crypto/subtle.js";
export type { CryptoParams } from "./crypto/config.js";
export { parsePkcs11Uri, type Pkcs11Uri } from "./crypto/pkcs11-uri.js";
export { Pkcs11CryptoKey as CryptoKey } from "./keys/crypto-key.js";
export type { KeyStorageOptions } from "./keys/key-template.js";
export type { OperationName } from "./mechanisms/provider.js";
export { TokenError } from "./token/token-error.js";
