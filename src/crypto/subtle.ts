import { keyObjectOf } from "../keys/crypto-key.js";
import { readStorageOptions } from "../keys/key-template.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../mechanisms/provider.js";
import { TokenError } from "../token/token-error.js";
import type { Token } from "../token/token.js";
import { dataError, invalidAccess, notSupported } from "../webcrypto-errors.js";
import { unwrapAesKey, unwrapBytes, unwrapsDirectly, wrapBytes } from "../mechanisms/common/wrapping.js";
import { providers } from "./algorithms.js";
import { softwareDigest, softwareEncrypt, softwareVerify } from "./software-path.js";
import { bufferSource, cryptoKey, jsonWebKey, keyFormat, keyUsages, requireArguments, unsignedLong } from "./arguments.js";
import { copyInput } from "./input-copies.js";
import type { CipherParams, DeriveParams, DerivedKeyParams, ImportParams, KeyPairGenParams, SecretKeyGenParams, SignatureParams } from "./webcrypto-types.js";
import { normalizeAlgorithm, type Operation } from "./normalize.js";

type Method = Exclude<keyof AlgorithmProvider, "name">;

function providerFor(algorithm: NormalizedAlgorithm, method: Method): AlgorithmProvider & Required<Pick<AlgorithmProvider, Method>> {
  const provider = providers.get(algorithm.name);
  if (!provider?.[method]) throw notSupported(`${algorithm.name} ${method} is not implemented`);
  return provider as AlgorithmProvider & Required<Pick<AlgorithmProvider, Method>>;
}

/** The checks every operation with a key makes, in Node's order: same algorithm, then usage. */
function checkKeyFor(key: CryptoKey, algorithm: NormalizedAlgorithm, usage: KeyUsage, action: string) {
  if (key.algorithm.name !== algorithm.name || !key.usages.includes(usage)) {
    throw invalidAccess(`Unable to use this key to ${action}`);
  }
  return keyObjectOf(key)!;
}

/**
 * SubtleCrypto on a PKCS#11 token. Each method converts and checks its arguments the way Node's
 * WebCrypto does (same error types in the same order), normalizes the algorithm, and hands the
 * work to the algorithm's provider in src/mechanisms/. Keys carry their own token, so a key works
 * with any SubtleCrypto of this library; new keys are made on this one's token.
 */
export class SubtleCrypto {
  readonly #token: Token;

  /** @internal Made by Crypto. */
  constructor(token: Token) {
    this.#token = token;
  }

  get [Symbol.toStringTag](): string {
    return "SubtleCrypto";
  }

  async digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer> {
    requireArguments(arguments, 2, "digest");
    const input = copyInput(data, "digest", 2);
    try {
      const normalized = normalizeAlgorithm(algorithm, "digest");
      // A closed connection says so first, whichever path the digest would take.
      if (this.#token.closed) throw new TokenError(`The connection to token "${this.#token.label}" is closed`, { code: "CLOSED" });
      const provider = providerFor(normalized, "digest");
      if (this.#token.software === "public") return softwareDigest(normalized, input.bytes);
      return await provider.digest(this.#token, normalized, input.bytes);
    } finally {
      input.release();
    }
  }

  async generateKey(algorithm: KeyPairGenParams, extractable: boolean, keyUsages: ReadonlyArray<KeyUsage>): Promise<CryptoKeyPair>;
  async generateKey(algorithm: SecretKeyGenParams, extractable: boolean, keyUsages: ReadonlyArray<KeyUsage>): Promise<CryptoKey>;
  async generateKey(algorithm: AlgorithmIdentifier, extractable: boolean, keyUsages: ReadonlyArray<KeyUsage>): Promise<CryptoKey | CryptoKeyPair>;
  async generateKey(algorithm: unknown, extractable: unknown, usages: unknown): Promise<CryptoKey | CryptoKeyPair> {
    requireArguments(arguments, 3, "generateKey");
    const usageList = keyUsages(usages, "generateKey", 3);
    const normalized = normalizeAlgorithm(algorithm, "generateKey");
    const storage = readStorageOptions(algorithm);
    return providerFor(normalized, "generateKey").generateKey(this.#token, {
      algorithm: normalized,
      extractable: Boolean(extractable),
      usages: usageList,
      storage,
    });
  }

  async importKey(format: "jwk", keyData: JsonWebKey, algorithm: ImportParams, extractable: boolean, keyUsages: ReadonlyArray<KeyUsage>): Promise<CryptoKey>;
  async importKey(format: Exclude<KeyFormat, "jwk">, keyData: BufferSource, algorithm: ImportParams, extractable: boolean, keyUsages: ReadonlyArray<KeyUsage>): Promise<CryptoKey>;
  async importKey(format: KeyFormat, keyData: BufferSource | JsonWebKey, algorithm: ImportParams, extractable: boolean, keyUsages: ReadonlyArray<KeyUsage>): Promise<CryptoKey>;
  async importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, usages: unknown): Promise<CryptoKey> {
    requireArguments(arguments, 5, "importKey");
    const formatName = keyFormat(format, "importKey");
    let data: Buffer | JsonWebKey;
    if (formatName === "jwk") {
      data = jsonWebKey(keyData);
    } else {
      data = bufferSource(keyData, "importKey", 2);
    }
    const usageList = keyUsages(usages, "importKey", 5);
    const normalized = normalizeAlgorithm(algorithm, "importKey");
    return providerFor(normalized, "importKey").importKey(this.#token, formatName, data, {
      algorithm: normalized,
      extractable: Boolean(extractable),
      usages: usageList,
      storage: readStorageOptions(algorithm),
    });
  }

  async exportKey(format: "jwk", key: CryptoKey): Promise<JsonWebKey>;
  async exportKey(format: Exclude<KeyFormat, "jwk">, key: CryptoKey): Promise<ArrayBuffer>;
  async exportKey(format: KeyFormat, key: CryptoKey): Promise<ArrayBuffer | JsonWebKey>;
  async exportKey(format: unknown, key: unknown): Promise<ArrayBuffer | JsonWebKey> {
    requireArguments(arguments, 2, "exportKey");
    const formatName = keyFormat(format, "exportKey");
    const theKey = cryptoKey(key, "exportKey", 2);
    const ref = keyObjectOf(theKey)!;
    // The spec's name; Node 20 says "InvalidAccessException" here, a bug fixed in later Node versions.
    if (!theKey.extractable) throw invalidAccess("key is not extractable");
    const provider = providers.get(theKey.algorithm.name);
    if (!provider?.exportKey) throw notSupported(`Exporting ${theKey.algorithm.name} keys is not implemented`);
    return provider.exportKey(formatName, theKey, ref);
  }

  async sign(algorithm: SignatureParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    requireArguments(arguments, 3, "sign");
    const theKey = cryptoKey(key, "sign", 2);
    const input = copyInput(data, "sign", 3);
    try {
      const normalized = normalizeAlgorithm(algorithm, "sign");
      const ref = checkKeyFor(theKey, normalized, "sign", "sign");
      return await providerFor(normalized, "sign").sign(normalized, theKey, ref, input.bytes);
    } finally {
      input.release();
    }
  }

  async verify(
    algorithm: SignatureParams,
    key: CryptoKey,
    signature: BufferSource,
    data: BufferSource,
  ): Promise<boolean> {
    requireArguments(arguments, 4, "verify");
    const theKey = cryptoKey(key, "verify", 2);
    const signatureBytes = bufferSource(signature, "verify", 3);
    const input = copyInput(data, "verify", 4);
    try {
      const normalized = normalizeAlgorithm(algorithm, "verify");
      const ref = checkKeyFor(theKey, normalized, "verify", "verify");
      const provider = providerFor(normalized, "verify");
      if (this.#token.software === "public" && theKey.type === "public" && provider.exportKey !== undefined) {
        return await softwareVerify(provider, normalized, theKey, ref, signatureBytes, input.bytes);
      }
      return await provider.verify(normalized, theKey, ref, signatureBytes, input.bytes);
    } finally {
      input.release();
    }
  }

  async encrypt(algorithm: CipherParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    return this.cipher("encrypt", algorithm, key, data, arguments.length);
  }

  async decrypt(algorithm: CipherParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    return this.cipher("decrypt", algorithm, key, data, arguments.length);
  }

  private async cipher(operation: "encrypt" | "decrypt", algorithm: unknown, key: unknown, data: unknown, count: number) {
    requireArguments({ length: count }, 3, operation);
    const theKey = cryptoKey(key, operation, 2);
    const input = copyInput(data, operation, 3);
    try {
      const normalized = normalizeAlgorithm(algorithm, operation satisfies Operation);
      const ref = checkKeyFor(theKey, normalized, operation, operation);
      const provider = providerFor(normalized, operation);
      if (operation === "encrypt" && this.#token.software === "public" && theKey.type === "public" && provider.exportKey !== undefined) {
        return await softwareEncrypt(provider, normalized, theKey, ref, input.bytes);
      }
      return await provider[operation](normalized, theKey, ref, input.bytes);
    } finally {
      input.release();
    }
  }

  async deriveBits(algorithm: DeriveParams, baseKey: CryptoKey, length?: number | null): Promise<ArrayBuffer>;
  async deriveBits(algorithm: unknown, baseKey: unknown, length: unknown = null): Promise<ArrayBuffer> {
    requireArguments(arguments, 2, "deriveBits");
    const normalized = normalizeAlgorithm(algorithm, "deriveBits");
    const theKey = cryptoKey(baseKey, "deriveBits", 2);
    const bits = length === null ? null : unsignedLong(length);
    const ref = checkKeyFor(theKey, normalized, "deriveBits", "deriveBits");
    return providerFor(normalized, "deriveBits").deriveBits(normalized, theKey, ref, bits);
  }

  async deriveKey(
    algorithm: DeriveParams,
    baseKey: CryptoKey,
    derivedKeyType: DerivedKeyParams,
    extractable: boolean,
    keyUsages: ReadonlyArray<KeyUsage>,
  ): Promise<CryptoKey>;
  async deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: unknown, usages: unknown): Promise<CryptoKey> {
    requireArguments(arguments, 5, "deriveKey");
    const normalized = normalizeAlgorithm(algorithm, "deriveBits");
    const theKey = cryptoKey(baseKey, "deriveKey", 2);
    const importAlgorithm = normalizeAlgorithm(derivedKeyType, "importKey");
    const usageList = keyUsages(usages, "deriveKey", 5);
    const ref = checkKeyFor(theKey, normalized, "deriveKey", "deriveKey");
    const lengthAlgorithm = normalizeAlgorithm(derivedKeyType, "get key length");
    const derivedProvider = providerFor(importAlgorithm, "importKey");
    const length = providerFor(lengthAlgorithm, "keyLength").keyLength(lengthAlgorithm);
    const request = { algorithm: importAlgorithm, extractable: Boolean(extractable), usages: usageList, storage: readStorageOptions(derivedKeyType) };
    const provider = providerFor(normalized, "deriveBits");
    // On the token where the family can: the derived key's bytes then never enter JavaScript.
    const onToken = await provider.deriveKey?.(normalized, theKey, ref, { provider: derivedProvider, length, request });
    if (onToken) return onToken;
    const secret = await provider.deriveBits(normalized, theKey, ref, length);
    return derivedProvider.importKey(this.#token, "raw", Buffer.from(secret), request);
  }

  async wrapKey(format: KeyFormat, key: CryptoKey, wrappingKey: CryptoKey, wrapAlgorithm: CipherParams): Promise<ArrayBuffer>;
  async wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    requireArguments(arguments, 4, "wrapKey");
    const formatName = keyFormat(format, "wrapKey");
    cryptoKey(key, "wrapKey", 2);
    const wrapper = cryptoKey(wrappingKey, "wrapKey", 3);
    const normalized = normalizeEither(wrapAlgorithm, "wrapKey", "encrypt");
    const ref = checkKeyFor(wrapper, normalized, "wrapKey", "wrapKey");
    const exported = await this.exportKey(formatName, key as CryptoKey);
    let bytes = formatName === "jwk" ? Buffer.from(JSON.stringify(exported), "utf8") : Buffer.from(exported as ArrayBuffer);
    // The spec's note (and Node): JSON wrapped with AES-KW is padded with spaces to whole 8-byte blocks.
    if (formatName === "jwk" && normalized.name === "AES-KW" && bytes.length % 8 !== 0) {
      bytes = Buffer.concat([bytes, Buffer.alloc(8 - (bytes.length % 8), " ")]);
    }
    const mechanism = providerFor(normalized, "wrapMechanism").wrapMechanism(normalized, wrapper);
    return wrapBytes(ref, mechanism, bytes, normalized.name);
  }

  async unwrapKey(
    format: KeyFormat,
    wrappedKey: BufferSource,
    unwrappingKey: CryptoKey,
    unwrapAlgorithm: CipherParams,
    unwrappedKeyAlgorithm: ImportParams,
    extractable: boolean,
    keyUsages: ReadonlyArray<KeyUsage>,
  ): Promise<CryptoKey>;
  async unwrapKey(
    format: unknown,
    wrappedKey: unknown,
    unwrappingKey: unknown,
    unwrapAlgorithm: unknown,
    unwrappedKeyAlgorithm: unknown,
    extractable: unknown,
    usages: unknown,
  ): Promise<CryptoKey> {
    requireArguments(arguments, 7, "unwrapKey");
    const formatName = keyFormat(format, "unwrapKey");
    const wrapped = bufferSource(wrappedKey, "unwrapKey", 2);
    const unwrapper = cryptoKey(unwrappingKey, "unwrapKey", 3);
    const normalized = normalizeEither(unwrapAlgorithm, "unwrapKey", "decrypt");
    const usageList = keyUsages(usages, "unwrapKey", 7);
    const ref = checkKeyFor(unwrapper, normalized, "unwrapKey", "unwrapKey");
    const mechanism = providerFor(normalized, "wrapMechanism").wrapMechanism(normalized, unwrapper);
    const target = normalizeAlgorithm(unwrappedKeyAlgorithm, "importKey");
    if (unwrapsDirectly(formatName, target.name, mechanism)) {
      // The new key's value never enters JavaScript.
      const request = { algorithm: target, extractable: Boolean(extractable), usages: usageList, storage: readStorageOptions(unwrappedKeyAlgorithm) };
      return unwrapAesKey(ref, mechanism, wrapped, normalized.name, request);
    }
    const bytes = await unwrapBytes(ref, mechanism, wrapped, normalized.name);
    let keyData: BufferSource | JsonWebKey = new Uint8Array(bytes);
    if (formatName === "jwk") {
      try {
        keyData = JSON.parse(Buffer.from(bytes).toString("utf8")) as JsonWebKey;
      } catch (error) {
        throw dataError("The unwrapped key is not a JSON Web Key", error);
      }
    }
    return this.importKey(formatName, keyData, unwrappedKeyAlgorithm as AlgorithmIdentifier, Boolean(extractable), usageList);
  }
}

/** wrapKey and unwrapKey take an algorithm registered for them, or else one for encrypt/decrypt. */
function normalizeEither(algorithm: unknown, first: Operation, second: Operation): NormalizedAlgorithm {
  try {
    return normalizeAlgorithm(algorithm, first);
  } catch (error) {
    if ((error as DOMException).name !== "NotSupportedError") throw error;
    return normalizeAlgorithm(algorithm, second);
  }
}
