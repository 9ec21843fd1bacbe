import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { signOnToken, verifyOnToken } from "../../token/operations.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { operationError } from "../../webcrypto-errors.js";
import { allHashes, type HashInfo } from "../common/hashes.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../provider.js";
import { exportRsaKey, generateRsaKeyPair, importRsaKey, rsaKeyHash, rsaModulusBytes, type RsaFamily } from "./rsa-keys.js";

interface RsaSignatureScheme {
  name: "RSASSA-PKCS1-v1_5" | "RSA-PSS";
  /** JWK alg prefix: RS256 or PS256. */
  jwkPrefix: "RS" | "PS";
  /** The hash-and-sign mechanisms, one per hash. */
  mechanisms: number[];
  mechanism(hash: HashInfo, algorithm: NormalizedAlgorithm): Mechanism;
}

/**
 * RSASSA-PKCS1-v1_5 and RSA-PSS differ only in the signing mechanism; keys (generation, import,
 * export) are every RSA family's (rsa-keys.ts). The key's hash is part of its Web Crypto algorithm
 * and picks the hash-and-sign mechanism (CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, ...), so
 * the whole message goes to the token.
 */
function rsaSignatureProvider(scheme: RsaSignatureScheme): AlgorithmProvider {
  const { name } = scheme;
  const family: RsaFamily = {
    name,
    privateUsages: ["sign"],
    publicUsages: ["verify"],
    jwkUse: "sig",
    jwkAlg: (hash) => `${scheme.jwkPrefix}${hash.jwkSuffix}`,
  };
  const mechanismFor = (key: CryptoKey, ref: KeyObjectRef, algorithm: NormalizedAlgorithm, purpose: string) => {
    const hash = rsaKeyHash(key);
    // RFC 8017 9.1.1: a salt longer than emLen - hLen - 2 cannot fit. Node says OperationError;
    // tokens differ (NSS verifies such a signature as false), so it is checked here.
    if (algorithm.saltLength !== undefined) {
      const emLen = Math.ceil(((key.algorithm as RsaHashedKeyAlgorithm).modulusLength - 1) / 8);
      if ((algorithm.saltLength as number) > emLen - hash.length - 2) throw operationError(`saltLength is too large for this key and ${hash.name}`);
    }
    const mechanism = scheme.mechanism(hash, algorithm);
    requireMechanism(ref.token, mechanism.mechanism, `${name} ${purpose} with ${hash.name}`);
    return mechanism;
  };

  return {
    name,
    requires: {
      generateKey: [pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN],
      importKey: [],
      exportKey: [],
      sign: scheme.mechanisms,
      verify: scheme.mechanisms,
    },

    generateKey: (token, request) => generateRsaKeyPair(token, family, request),
    importKey: (token, format, keyData, request) => importRsaKey(token, family, format, keyData, request),
    exportKey: (format, key, ref) => exportRsaKey(family, format, key, ref),

    async sign(algorithm, key, ref, data) {
      const mechanism = mechanismFor(key, ref, algorithm, "signing");
      const length = rsaModulusBytes(key);
      return onToken(`${name} signing`, async () => toArrayBuffer(await signOnToken(ref.token, mechanism, ref.handle, data, length)));
    },

    async verify(algorithm, key, ref, signature, data) {
      const mechanism = mechanismFor(key, ref, algorithm, "verification");
      return onToken(`${name} verification`, () => verifyOnToken(ref.token, mechanism, ref.handle, data, signature));
    },
  };
}

export const rsassaProvider = rsaSignatureProvider({
  name: "RSASSA-PKCS1-v1_5",
  jwkPrefix: "RS",
  mechanisms: allHashes.map((hash) => hash.rsaPkcs),
  mechanism: (hash) => ({ mechanism: hash.rsaPkcs }),
});

export const rsaPssProvider = rsaSignatureProvider({
  name: "RSA-PSS",
  jwkPrefix: "PS",
  mechanisms: allHashes.map((hash) => hash.rsaPss),
  mechanism: (hash, algorithm) => ({
    mechanism: hash.rsaPss,
    parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: hash.digest, mgf: hash.mgf1, saltLen: algorithm.saltLength as number },
  }),
});
