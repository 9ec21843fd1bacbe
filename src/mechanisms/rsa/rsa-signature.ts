import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { generateKeyPairOnToken, readAttributes, signOnToken, verifyOnToken } from "../../token/operations.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { dataError, invalidAccess, notSupported } from "../../webcrypto-errors.js";
import { allHashes, hashByAlias, hashInfo, type HashInfo } from "../common/hashes.js";
import { checkJwkKty, checkJwkUse, jwkExportHeader } from "../common/jwk.js";
import { importKeyObject, wrapHandle } from "../common/new-key.js";
import { onToken, requireKeySize, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages, intersect } from "../common/usages.js";
import type { AlgorithmProvider, KeyFormat, NewKeyRequest, NormalizedAlgorithm } from "../provider.js";
import {
  rsaAlgorithmFields, rsaAttributeTypes, rsaFromJwk, rsaFromPkcs8, rsaFromSpki, rsaPartsFromAttributes,
  rsaPrivateAttributes, rsaPublicAttributes, rsaToPkcs8, rsaToSpki, type RsaJwkParts,
} from "./rsa-key-data.js";

const PRIVATE_USAGES: KeyUsage[] = ["sign"];
const PUBLIC_USAGES: KeyUsage[] = ["verify"];

interface RsaSignatureScheme {
  name: "RSASSA-PKCS1-v1_5" | "RSA-PSS";
  /** JWK alg prefix: RS256 or PS256. */
  jwkPrefix: "RS" | "PS";
  /** The hash-and-sign mechanisms, one per hash. */
  mechanisms: number[];
  mechanism(hash: HashInfo, algorithm: NormalizedAlgorithm): Mechanism;
}

/**
 * RSASSA-PKCS1-v1_5 and RSA-PSS share everything but the signing mechanism: key generation
 * (CKM_RSA_PKCS_KEY_PAIR_GEN on a worker thread, since it takes up to seconds), import and export.
 * The key's hash is part of its Web Crypto algorithm and picks the hash-and-sign mechanism
 * (CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, ...), so the whole message goes to the token.
 */
function rsaSignatureProvider(scheme: RsaSignatureScheme): AlgorithmProvider {
  const { name } = scheme;
  const keyAlgorithm = (parts: RsaJwkParts, hash: HashInfo): RsaHashedKeyAlgorithm =>
    ({ name, ...rsaAlgorithmFields(parts), hash: { name: hash.name } }) as RsaHashedKeyAlgorithm;
  const mechanismFor = (key: CryptoKey, ref: KeyObjectRef, algorithm: NormalizedAlgorithm, purpose: string) => {
    const hash = hashInfo((key.algorithm as RsaHashedKeyAlgorithm).hash);
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

    async generateKey(token, { algorithm, extractable, usages, storage }) {
      checkUsages(usages, [...PRIVATE_USAGES, ...PUBLIC_USAGES], name);
      const hash = hashInfo(algorithm.hash);
      const modulusLength = algorithm.modulusLength as number;
      const publicExponent = algorithm.publicExponent as Uint8Array;
      const generator = pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
      requireMechanism(token, generator, `${name} key generation`);
      requireKeySize(token, generator, modulusLength, `${name} key generation of ${modulusLength} bits`);
      const privateUsages = intersect(usages, PRIVATE_USAGES);
      const publicUsages = intersect(usages, PUBLIC_USAGES);
      checkNotEmpty("private", privateUsages);
      const id = keyIdBytes(storage);
      const keyType = pkcs11js.CKK_RSA;
      const publicTemplate = [
        ...keyTemplate({ type: "public", keyType, extractable: true, usages: publicUsages, storage, id }),
        { type: pkcs11js.CKA_MODULUS_BITS, value: modulusLength },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(publicExponent) },
      ];
      const privateTemplate = keyTemplate({ type: "private", keyType, extractable, usages: privateUsages, storage, id });
      const handles = await onToken(`${name} key generation`, () =>
        generateKeyPairOnToken(token, { mechanism: generator }, publicTemplate, privateTemplate, true),
      );
      const newAlgorithm = () =>
        ({ name, modulusLength, publicExponent: new Uint8Array(publicExponent), hash: { name: hash.name } }) as RsaHashedKeyAlgorithm;
      return {
        publicKey: wrapHandle(token, handles.publicKey, "public", true, newAlgorithm(), publicUsages, storage),
        privateKey: wrapHandle(token, handles.privateKey, "private", extractable, newAlgorithm(), privateUsages, storage),
      };
    },

    async importKey(token, format, keyData, request) {
      const hash = hashInfo(request.algorithm.hash);
      const { parts, type } = readImport(format, keyData, request, hash);
      checkNotEmpty(type, request.usages);
      return onToken(`${name} key import`, () =>
        importKeyObject(token, {
          ...request,
          type,
          keyType: pkcs11js.CKK_RSA,
          algorithm: keyAlgorithm(parts, hash),
          material: type === "public" ? rsaPublicAttributes(parts) : rsaPrivateAttributes(parts),
        }),
      );
    },

    async exportKey(format, key, ref) {
      const parts = await onToken(`${name} key export`, async () =>
        rsaPartsFromAttributes(readAttributes(ref.token, ref.handle, rsaAttributeTypes(key.type))),
      );
      const hash = hashInfo((key.algorithm as RsaHashedKeyAlgorithm).hash);
      if (format === "jwk") return { ...jwkExportHeader(key), kty: "RSA", ...parts, alg: `${scheme.jwkPrefix}${hash.jwkSuffix}` };
      if (format === "spki" && key.type === "public") return toArrayBuffer(rsaToSpki(parts));
      if (format === "pkcs8" && key.type === "private") return toArrayBuffer(rsaToPkcs8(parts));
      throw invalidAccess(`Unable to export a ${format} ${name} ${key.type} key`);
    },

    async sign(algorithm, key, ref, data) {
      const mechanism = mechanismFor(key, ref, algorithm, "signing");
      const length = Math.ceil((key.algorithm as RsaHashedKeyAlgorithm).modulusLength / 8);
      return onToken(`${name} signing`, async () => toArrayBuffer(await signOnToken(ref.token, mechanism, ref.handle, data, length)));
    },

    async verify(algorithm, key, ref, signature, data) {
      const mechanism = mechanismFor(key, ref, algorithm, "verification");
      return onToken(`${name} verification`, () => verifyOnToken(ref.token, mechanism, ref.handle, data, signature));
    },
  };
}

function readImport(format: KeyFormat, keyData: Buffer | JsonWebKey, request: NewKeyRequest, hash: HashInfo): { parts: RsaJwkParts; type: KeyType } {
  const { usages, extractable } = request;
  const name = request.algorithm.name;
  switch (format) {
    case "spki":
      checkUsages(usages, PUBLIC_USAGES, name);
      return { parts: rsaFromSpki(keyData as Buffer), type: "public" };
    case "pkcs8":
      checkUsages(usages, PRIVATE_USAGES, name);
      return { parts: rsaFromPkcs8(keyData as Buffer), type: "private" };
    case "jwk": {
      // Node's order: kty, usages, use, key_ops, ext, alg.
      const jwk = keyData as JsonWebKey;
      const isPrivate = jwk.d !== undefined;
      checkJwkKty(jwk, "RSA");
      checkUsages(usages, isPrivate ? PRIVATE_USAGES : PUBLIC_USAGES, name);
      checkJwkUse(jwk, { use: "sig", usages, extractable });
      // Node compares only the hash an alg names (RS256, PS256, RSA-OAEP-256 and SHA-256 all
      // name SHA-256, in any case), so the same JWK imports under either RSA signature scheme.
      if (jwk.alg !== undefined && hashByAlias(jwk.alg)?.name !== hash.name) {
        throw dataError('JWK "alg" does not match the requested algorithm');
      }
      return { parts: rsaFromJwk(jwk, isPrivate), type: isPrivate ? "private" : "public" };
    }
    case "raw":
      throw notSupported(`Unable to import ${name} key with format raw`);
  }
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
