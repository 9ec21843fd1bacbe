import { createHash } from "node:crypto";
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
  /** The mechanism that signs a digest computed elsewhere, and what it is given for a digest. */
  raw: number;
  prehashed(hash: HashInfo, digest: Buffer): Buffer;
}

/** DER of DigestInfo up to the digest itself (RFC 8017 9.2, note 1). */
const digestInfoPrefix: Record<HashInfo["name"], Buffer> = {
  "SHA-1": Buffer.from("3021300906052b0e03021a05000414", "hex"),
  "SHA-256": Buffer.from("3031300d060960864801650304020105000420", "hex"),
  "SHA-384": Buffer.from("3041300d060960864801650304020205000430", "hex"),
  "SHA-512": Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

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
  /**
   * The hash-and-sign mechanism where the token has it (the whole message goes to the token);
   * otherwise Node hashes (no secret is involved) and the token signs the digest with the plain
   * mechanism, as tokens that lack the combined ones need (p11-kit's RPC drops the PSS ones).
   */
  const mechanismFor = (key: CryptoKey, ref: KeyObjectRef, algorithm: NormalizedAlgorithm, data: Buffer, purpose: string) => {
    const hash = rsaKeyHash(key);
    // RFC 8017 9.1.1: a salt longer than emLen - hLen - 2 cannot fit. Node says OperationError;
    // tokens differ (NSS verifies such a signature as false), so it is checked here.
    if (algorithm.saltLength !== undefined) {
      const emLen = Math.ceil(((key.algorithm as RsaHashedKeyAlgorithm).modulusLength - 1) / 8);
      if ((algorithm.saltLength as number) > emLen - hash.length - 2) throw operationError(`saltLength is too large for this key and ${hash.name}`);
    }
    const combined = scheme.mechanism(hash, algorithm);
    if (ref.token.hasMechanism(combined.mechanism)) return { mechanism: combined, input: data };
    const raw = { ...combined, mechanism: scheme.raw };
    requireMechanism(ref.token, scheme.raw, `${name} ${purpose} with ${hash.name}`);
    return { mechanism: raw, input: scheme.prehashed(hash, createHash(hash.node).update(data).digest()) };
  };

  return {
    name,
    requires: {
      generateKey: [pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN],
      importKey: [],
      exportKey: [],
      sign: [...scheme.mechanisms, scheme.raw],
      verify: [...scheme.mechanisms, scheme.raw],
    },

    generateKey: (token, request) => generateRsaKeyPair(token, family, request),
    importKey: (token, format, keyData, request) => importRsaKey(token, family, format, keyData, request),
    exportKey: (format, key, ref) => exportRsaKey(family, format, key, ref),

    async sign(algorithm, key, ref, data) {
      const { mechanism, input } = mechanismFor(key, ref, algorithm, data, "signing");
      const length = rsaModulusBytes(key);
      return onToken(`${name} signing`, async () => toArrayBuffer(await signOnToken(ref.token, mechanism, ref.handle, input, length)));
    },

    async verify(algorithm, key, ref, signature, data) {
      const { mechanism, input } = mechanismFor(key, ref, algorithm, data, "verification");
      return onToken(`${name} verification`, () => verifyOnToken(ref.token, mechanism, ref.handle, input, signature));
    },
  };
}

export const rsassaProvider = rsaSignatureProvider({
  name: "RSASSA-PKCS1-v1_5",
  jwkPrefix: "RS",
  mechanisms: allHashes.map((hash) => hash.rsaPkcs),
  mechanism: (hash) => ({ mechanism: hash.rsaPkcs }),
  raw: pkcs11js.CKM_RSA_PKCS,
  // CKM_RSA_PKCS signs what it is given: the DER DigestInfo of the hash, as EMSA-PKCS1-v1_5 wants.
  prehashed: (hash, digest) => Buffer.concat([digestInfoPrefix[hash.name], digest]),
});

export const rsaPssProvider = rsaSignatureProvider({
  name: "RSA-PSS",
  jwkPrefix: "PS",
  mechanisms: allHashes.map((hash) => hash.rsaPss),
  mechanism: (hash, algorithm) => ({
    mechanism: hash.rsaPss,
    parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: hash.digest, mgf: hash.mgf1, saltLen: algorithm.saltLength as number },
  }),
  raw: pkcs11js.CKM_RSA_PKCS_PSS,
  prehashed: (_hash, digest) => digest,
});
