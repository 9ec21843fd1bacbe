import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import type { Token } from "../../token/token.js";
import { generateKeyPairOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { dataError, invalidAccess, notSupported } from "../../webcrypto-errors.js";
import { hashByAlias, hashInfo, type HashInfo } from "../common/hashes.js";
import { checkJwkKty, checkJwkUse, jwkExportHeader } from "../common/jwk.js";
import { importKeyObject, wrapHandle } from "../common/new-key.js";
import { onToken, requireKeySize, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages, intersect } from "../common/usages.js";
import type { KeyFormat, NewKeyRequest } from "../provider.js";
import {
  rsaAlgorithmFields, rsaAttributeTypes, rsaFromJwk, rsaFromPkcs8, rsaFromSpki, rsaPartsFromAttributes,
  rsaPrivateAttributes, rsaPublicAttributes, rsaToPkcs8, rsaToSpki, type RsaJwkParts,
} from "./rsa-key-data.js";

/**
 * The RSA key life cycle every RSA family shares (RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP): generation
 * on the token, import through Node's KeyObject, export, with Node's checks in Node's order. A
 * family differs only in its name, the usages each half of a pair may have, and its JWK names.
 */
export interface RsaFamily {
  name: string;
  privateUsages: readonly KeyUsage[];
  publicUsages: readonly KeyUsage[];
  /** The JWK "use" a key of this family must have, when it has one. */
  jwkUse: "sig" | "enc";
  /** The JWK "alg" Node writes for a key of this family: RS256, PS384, RSA-OAEP (SHA-1), RSA-OAEP-512. */
  jwkAlg(hash: HashInfo): string;
}

/** The hash a key was made or imported for: it picks the mechanism parameters. */
export const rsaKeyHash = (key: CryptoKey): HashInfo => hashInfo((key.algorithm as RsaHashedKeyAlgorithm).hash);

/** The modulus length in bytes: the size of every signature and ciphertext. */
export const rsaModulusBytes = (key: CryptoKey): number => Math.ceil((key.algorithm as RsaHashedKeyAlgorithm).modulusLength / 8);

/**
 * CKM_RSA_PKCS_KEY_PAIR_GEN on a worker thread, since it takes up to seconds. The requested usages
 * are split between the halves; the private half must get at least one (Node's SyntaxError).
 */
export async function generateRsaKeyPair(token: Token, family: RsaFamily, request: NewKeyRequest): Promise<CryptoKeyPair> {
  const { name } = family;
  const { algorithm, extractable, usages, storage } = request;
  checkUsages(usages, [...family.privateUsages, ...family.publicUsages], name);
  const hash = hashInfo(algorithm.hash);
  const modulusLength = algorithm.modulusLength as number;
  const publicExponent = algorithm.publicExponent as Uint8Array;
  const generator = pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
  requireMechanism(token, generator, `${name} key generation`);
  requireKeySize(token, generator, modulusLength, `${name} key generation of ${modulusLength} bits`);
  const privateUsages = intersect(usages, family.privateUsages);
  const publicUsages = intersect(usages, family.publicUsages);
  checkNotEmpty("private", privateUsages);
  const id = keyIdBytes(storage);
  const keyType = pkcs11js.CKK_RSA;
  const publicTemplate = [
    // The token object gets every public usage of the family, whatever the CryptoKey has: tokens
    // such as NSS test a new pair with it (sign/verify, encrypt/decrypt), and a public key grants
    // nothing secret.
    ...keyTemplate({ type: "public", keyType, extractable: true, usages: family.publicUsages, storage, id }),
    { type: pkcs11js.CKA_MODULUS_BITS, value: modulusLength },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(publicExponent) },
  ];
  const privateTemplate = keyTemplate({ type: "private", keyType, extractable, usages: privateUsages, storage, id });
  const handles = await onToken(`${name} key generation`, () =>
    generateKeyPairOnToken(token, { mechanism: generator }, publicTemplate, privateTemplate, true),
  );
  // Each key gets its own algorithm object (and exponent bytes), as Node's do.
  const newAlgorithm = () =>
    ({ name, modulusLength, publicExponent: new Uint8Array(publicExponent), hash: { name: hash.name } }) as RsaHashedKeyAlgorithm;
  return {
    publicKey: wrapHandle(token, handles.publicKey, "public", true, newAlgorithm(), publicUsages, storage),
    privateKey: wrapHandle(token, handles.privateKey, "private", extractable, newAlgorithm(), privateUsages, storage),
  };
}

export async function importRsaKey(
  token: Token,
  family: RsaFamily,
  format: KeyFormat,
  keyData: Buffer | JsonWebKey,
  request: NewKeyRequest,
): Promise<CryptoKey> {
  const hash = hashInfo(request.algorithm.hash);
  const { parts, type } = readImport(family, format, keyData, request, hash);
  checkNotEmpty(type, request.usages);
  const algorithm = { name: family.name, ...rsaAlgorithmFields(parts), hash: { name: hash.name } } as RsaHashedKeyAlgorithm;
  return onToken(`${family.name} key import`, () =>
    importKeyObject(token, {
      ...request,
      type,
      keyType: pkcs11js.CKK_RSA,
      algorithm,
      material: type === "public" ? rsaPublicAttributes(parts) : rsaPrivateAttributes(parts),
    }),
  );
}

/** Reads the key's components back from the token; Node's KeyObject encodes them, so the bytes are Node's. */
export async function exportRsaKey(family: RsaFamily, format: KeyFormat, key: CryptoKey, ref: KeyObjectRef): Promise<ArrayBuffer | JsonWebKey> {
  const parts = await onToken(`${family.name} key export`, async () =>
    rsaPartsFromAttributes(readAttributes(ref.token, ref.handle, rsaAttributeTypes(key.type))),
  );
  if (format === "jwk") return { ...jwkExportHeader(key), kty: "RSA", ...parts, alg: family.jwkAlg(rsaKeyHash(key)) };
  if (format === "spki" && key.type === "public") return toArrayBuffer(rsaToSpki(parts));
  if (format === "pkcs8" && key.type === "private") return toArrayBuffer(rsaToPkcs8(parts));
  throw invalidAccess(`Unable to export a ${format} ${family.name} ${key.type} key`);
}

function readImport(
  family: RsaFamily,
  format: KeyFormat,
  keyData: Buffer | JsonWebKey,
  request: NewKeyRequest,
  hash: HashInfo,
): { parts: RsaJwkParts; type: KeyType } {
  const { usages, extractable } = request;
  const { name } = family;
  switch (format) {
    case "spki":
      checkUsages(usages, family.publicUsages, name);
      return { parts: rsaFromSpki(keyData as Buffer), type: "public" };
    case "pkcs8":
      checkUsages(usages, family.privateUsages, name);
      return { parts: rsaFromPkcs8(keyData as Buffer), type: "private" };
    case "jwk": {
      // Node's order: kty, usages, use, key_ops, ext, alg.
      const jwk = keyData as JsonWebKey;
      const isPrivate = jwk.d !== undefined;
      checkJwkKty(jwk, "RSA");
      checkUsages(usages, isPrivate ? family.privateUsages : family.publicUsages, name);
      checkJwkUse(jwk, { use: family.jwkUse, usages, extractable });
      // Node compares only the hash an alg names (RS256, PS256, RSA-OAEP-256 and SHA-256 all
      // name SHA-256, in any case), so the same JWK imports under any RSA family.
      if (jwk.alg !== undefined && hashByAlias(jwk.alg)?.name !== hash.name) {
        throw dataError('JWK "alg" does not match the requested algorithm');
      }
      return { parts: rsaFromJwk(jwk, isPrivate), type: isPrivate ? "private" : "public" };
    }
    case "raw":
      throw notSupported(`Unable to import ${name} key with format raw`);
  }
}
