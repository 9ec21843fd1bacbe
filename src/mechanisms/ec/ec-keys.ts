import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { generateKeyPairOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import type { Token } from "../../token/token.js";
import { dataError, invalidAccess, notSupported } from "../../webcrypto-errors.js";
import { checkJwkAlg, checkJwkKty, checkJwkUse, jwkExportHeader } from "../common/jwk.js";
import { importKeyObject, wrapHandle } from "../common/new-key.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages, intersect } from "../common/usages.js";
import type { KeyFormat, NewKeyRequest } from "../provider.js";
import { curveByName, type Curve } from "./curves.js";
import {
  ecFromJwk, ecFromPkcs8, ecFromRaw, ecFromSpki, ecPrivateAttributes, ecPublicAttributes, ecToJwk, ecToPkcs8, ecToSpki,
  publicPointOf, unwrapPoint, type EcKeyMaterial,
} from "./ec-key-data.js";

/**
 * What ECDSA and ECDH keys share: CKK_EC objects on P-256/384/521, generated with
 * CKM_EC_KEY_PAIR_GEN, imported and exported through Node's crypto (ec-key-data.ts). The two
 * families differ only in their name, usages, JWK "use", and whether a JWK "alg" is checked.
 */
export interface EcFamily {
  name: "ECDSA" | "ECDH";
  privateUsages: readonly KeyUsage[];
  publicUsages: readonly KeyUsage[];
  jwkUse: "sig" | "enc";
  /** The JWK alg a key on this curve must have, if the family checks one (ECDSA: ES256, ...). */
  jwkAlg?: (curve: Curve) => string;
}

export function curveOf(namedCurve: unknown): Curve {
  const curve = curveByName(String(namedCurve));
  if (!curve) throw notSupported("Unrecognized namedCurve");
  return curve;
}

export const curveOfKey = (key: CryptoKey) => curveOf((key.algorithm as EcKeyAlgorithm).namedCurve);

const keyAlgorithm = (family: EcFamily, curve: Curve) => ({ name: family.name, namedCurve: curve.name }) as EcKeyAlgorithm;

/** Node's order: curve, usages, empty private usages; then (ours) what the token can make. */
export async function generateEcKeyPair(token: Token, family: EcFamily, request: NewKeyRequest): Promise<CryptoKeyPair> {
  const { algorithm, extractable, usages, storage } = request;
  const curve = curveOf(algorithm.namedCurve);
  checkUsages(usages, [...family.privateUsages, ...family.publicUsages], family.name);
  const privateUsages = intersect(usages, family.privateUsages);
  const publicUsages = intersect(usages, family.publicUsages);
  checkNotEmpty("private", privateUsages);
  requireMechanism(token, pkcs11js.CKM_EC_KEY_PAIR_GEN, `${family.name} key generation`);
  const id = keyIdBytes(storage);
  const keyType = pkcs11js.CKK_EC;
  const publicTemplate = [
    // The token object gets every public usage of the family, whatever the CryptoKey has: tokens
    // such as NSS test a new pair by signing and verifying, and a public key grants nothing secret.
    ...keyTemplate({ type: "public", keyType, extractable: true, usages: family.publicUsages, storage, id }),
    { type: pkcs11js.CKA_EC_PARAMS, value: curve.params },
  ];
  const privateTemplate = keyTemplate({ type: "private", keyType, extractable, usages: privateUsages, storage, id });
  const handles = await onToken(`${family.name} key generation`, () =>
    generateKeyPairOnToken(token, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate, false),
  );
  return {
    publicKey: wrapHandle(token, handles.publicKey, "public", true, keyAlgorithm(family, curve), publicUsages, storage),
    privateKey: wrapHandle(token, handles.privateKey, "private", extractable, keyAlgorithm(family, curve), privateUsages, storage),
  };
}

export async function importEcKey(token: Token, family: EcFamily, format: KeyFormat, keyData: Buffer | JsonWebKey, request: NewKeyRequest): Promise<CryptoKey> {
  const curve = curveOf(request.algorithm.namedCurve);
  const { material, type } = readImport(family, format, keyData, curve, request);
  checkNotEmpty(type, request.usages);
  return onToken(`${family.name} key import`, () =>
    importKeyObject(token, {
      ...request,
      type,
      keyType: pkcs11js.CKK_EC,
      algorithm: keyAlgorithm(family, curve),
      material: type === "public" ? ecPublicAttributes(material) : ecPrivateAttributes(material),
    }),
  );
}

/** Node's checks, in its order (lib/internal/crypto/ec.js). */
function readImport(family: EcFamily, format: KeyFormat, keyData: Buffer | JsonWebKey, curve: Curve, request: NewKeyRequest): { material: EcKeyMaterial; type: KeyType } {
  const { usages, extractable } = request;
  const { name, privateUsages, publicUsages } = family;
  switch (format) {
    case "spki":
      checkUsages(usages, publicUsages, name);
      return { material: ecFromSpki(keyData as Buffer, curve), type: "public" };
    case "raw":
      checkUsages(usages, publicUsages, name);
      return { material: ecFromRaw(keyData as Buffer, curve), type: "public" };
    case "pkcs8":
      checkUsages(usages, privateUsages, name);
      return { material: ecFromPkcs8(keyData as Buffer, curve), type: "private" };
    case "jwk": {
      // kty, crv, usages, use, key_ops, ext, then alg where the family has one.
      const jwk = keyData as JsonWebKey;
      const isPrivate = jwk.d !== undefined;
      checkJwkKty(jwk, "EC");
      if (jwk.crv !== curve.name) throw dataError('JWK "crv" does not match the requested algorithm');
      checkUsages(usages, isPrivate ? privateUsages : publicUsages, name);
      checkJwkUse(jwk, { use: family.jwkUse, usages, extractable });
      if (family.jwkAlg) checkJwkAlg(jwk, family.jwkAlg(curve));
      return { material: ecFromJwk(jwk, curve, isPrivate), type: isPrivate ? "private" : "public" };
    }
  }
}

export async function exportEcKey(family: EcFamily, format: KeyFormat, key: CryptoKey, ref: KeyObjectRef): Promise<ArrayBuffer | JsonWebKey> {
  const curve = curveOfKey(key);
  const allowed = format === "jwk" || (key.type === "public" ? format === "spki" || format === "raw" : format === "pkcs8");
  if (!allowed) throw invalidAccess(`Unable to export a ${format} ${family.name} ${key.type} key`);
  const material = await onToken(`${family.name} key export`, async () => readMaterial(ref, key.type, curve));
  if (format === "jwk") return { ...jwkExportHeader(key), ...ecToJwk(material) };
  if (format === "spki") return toArrayBuffer(ecToSpki(material));
  if (format === "raw") return toArrayBuffer(Buffer.from(material.point));
  return toArrayBuffer(ecToPkcs8(material));
}

/** The point of a public key; d of a private one, with its point (a private key object need not carry it). */
function readMaterial(ref: KeyObjectRef, type: KeyType, curve: Curve): EcKeyMaterial {
  if (type === "public") {
    const [point] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_EC_POINT]);
    return { curve, point: unwrapPoint(point, curve) };
  }
  const [d] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]);
  return { curve, d, point: publicPointOf(curve, d) };
}
