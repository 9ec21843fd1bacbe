import { createHash } from "node:crypto";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { generateKeyPairOnToken, readAttributes, signOnToken, verifyOnToken } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { dataError, invalidAccess, notSupported } from "../../webcrypto-errors.js";
import { hashInfo } from "../common/hashes.js";
import { checkJwkAlg, checkJwkKty, checkJwkUse, jwkExportHeader } from "../common/jwk.js";
import { importKeyObject, wrapHandle } from "../common/new-key.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages, intersect } from "../common/usages.js";
import type { AlgorithmProvider, KeyFormat, NewKeyRequest } from "../provider.js";
import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { curveByName, type Curve } from "./curves.js";
import {
  ecFromJwk, ecFromPkcs8, ecFromRaw, ecFromSpki, ecPrivateAttributes, ecPublicAttributes, ecToJwk, ecToPkcs8, ecToSpki,
  publicPointOf, unwrapPoint, type EcKeyMaterial,
} from "./ec-key-data.js";

const NAME = "ECDSA";
const PRIVATE_USAGES: KeyUsage[] = ["sign"];
const PUBLIC_USAGES: KeyUsage[] = ["verify"];

function curveOf(namedCurve: unknown): Curve {
  const curve = curveByName(String(namedCurve));
  if (!curve) throw notSupported("Unrecognized namedCurve");
  return curve;
}

/**
 * ECDSA keeps the token to what only it can do: the private-key operation. The message is hashed
 * by Node (no secret is involved) and the token signs the digest with CKM_ECDSA, which nearly
 * every token has, where the hash-and-sign mechanisms (CKM_ECDSA_SHA256, ...) are often missing
 * (SoftHSM lacks them). Signatures are r || s, as PKCS#11 and Web Crypto both define them.
 */
export const ecdsaProvider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [pkcs11js.CKM_EC_KEY_PAIR_GEN],
    importKey: [],
    exportKey: [],
    sign: [pkcs11js.CKM_ECDSA],
    verify: [pkcs11js.CKM_ECDSA],
  },

  async generateKey(token, { algorithm, extractable, usages, storage }) {
    const curve = curveOf(algorithm.namedCurve);
    checkUsages(usages, [...PRIVATE_USAGES, ...PUBLIC_USAGES], NAME);
    requireMechanism(token, pkcs11js.CKM_EC_KEY_PAIR_GEN, `${NAME} key generation`);
    const privateUsages = intersect(usages, PRIVATE_USAGES);
    const publicUsages = intersect(usages, PUBLIC_USAGES);
    checkNotEmpty("private", privateUsages);
    const id = keyIdBytes(storage);
    const keyType = pkcs11js.CKK_EC;
    const publicTemplate = [
      // The token object may verify whatever usages the CryptoKey has: tokens such as NSS test a
      // new pair by signing and verifying, and a public key grants nothing secret.
      ...keyTemplate({ type: "public", keyType, extractable: true, usages: PUBLIC_USAGES, storage, id }),
      { type: pkcs11js.CKA_EC_PARAMS, value: curve.params },
    ];
    const privateTemplate = keyTemplate({ type: "private", keyType, extractable, usages: privateUsages, storage, id });
    const handles = await onToken(`${NAME} key generation`, () =>
      generateKeyPairOnToken(token, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate, false),
    );
    const keyAlgorithm = { name: NAME, namedCurve: curve.name } as EcKeyAlgorithm;
    return {
      publicKey: wrapHandle(token, handles.publicKey, "public", true, keyAlgorithm, publicUsages, storage),
      privateKey: wrapHandle(token, handles.privateKey, "private", extractable, { ...keyAlgorithm }, privateUsages, storage),
    };
  },

  async importKey(token, format, keyData, request) {
    const curve = curveOf(request.algorithm.namedCurve);
    const { material, type } = readImport(format, keyData, curve, request);
    checkNotEmpty(type, request.usages);
    return onToken(`${NAME} key import`, () =>
      importKeyObject(token, {
        ...request,
        type,
        keyType: pkcs11js.CKK_EC,
        algorithm: { name: NAME, namedCurve: curve.name } as EcKeyAlgorithm,
        material: type === "public" ? ecPublicAttributes(material) : ecPrivateAttributes(material),
      }),
    );
  },

  async exportKey(format, key, ref) {
    const curve = curveOf((key.algorithm as EcKeyAlgorithm).namedCurve);
    const material = await onToken(`${NAME} key export`, async () => readMaterial(ref, key.type, curve));
    if (format === "jwk") return { ...jwkExportHeader(key), ...ecToJwk(material) };
    if (format === "spki" && key.type === "public") return toArrayBuffer(ecToSpki(material));
    if (format === "raw" && key.type === "public") return toArrayBuffer(Buffer.from(material.point));
    if (format === "pkcs8" && key.type === "private") return toArrayBuffer(ecToPkcs8(material));
    throw invalidAccess(`Unable to export a ${format} ${NAME} ${key.type} key`);
  },

  async sign(algorithm, key, ref, data) {
    const curve = curveOf((key.algorithm as EcKeyAlgorithm).namedCurve);
    requireMechanism(ref.token, pkcs11js.CKM_ECDSA, `${NAME} signing`);
    const digest = createHash(hashInfo(algorithm.hash).node).update(data).digest();
    return onToken(`${NAME} signing`, async () =>
      toArrayBuffer(await signOnToken(ref.token, { mechanism: pkcs11js.CKM_ECDSA }, ref.handle, digest, 2 * curve.size)),
    );
  },

  async verify(algorithm, key, ref, signature, data) {
    requireMechanism(ref.token, pkcs11js.CKM_ECDSA, `${NAME} verification`);
    // r || s of the curve's size, or not a signature at all (NSS answers CKR_DATA_LEN_RANGE).
    if (signature.length !== 2 * curveOf((key.algorithm as EcKeyAlgorithm).namedCurve).size) return false;
    const digest = createHash(hashInfo(algorithm.hash).node).update(data).digest();
    return onToken(`${NAME} verification`, () =>
      verifyOnToken(ref.token, { mechanism: pkcs11js.CKM_ECDSA }, ref.handle, digest, signature),
    );
  },
};

function readImport(format: KeyFormat, keyData: Buffer | JsonWebKey, curve: Curve, request: NewKeyRequest): { material: EcKeyMaterial; type: KeyType } {
  const { usages, extractable } = request;
  switch (format) {
    case "spki":
      checkUsages(usages, PUBLIC_USAGES, NAME);
      return { material: ecFromSpki(keyData as Buffer, curve), type: "public" };
    case "raw":
      checkUsages(usages, PUBLIC_USAGES, NAME);
      return { material: ecFromRaw(keyData as Buffer, curve), type: "public" };
    case "pkcs8":
      checkUsages(usages, PRIVATE_USAGES, NAME);
      return { material: ecFromPkcs8(keyData as Buffer, curve), type: "private" };
    case "jwk": {
      // Node's order: kty, crv, usages, use, key_ops, ext, alg.
      const jwk = keyData as JsonWebKey;
      const isPrivate = jwk.d !== undefined;
      checkJwkKty(jwk, "EC");
      if (jwk.crv !== curve.name) throw dataError('JWK "crv" does not match the requested algorithm');
      checkUsages(usages, isPrivate ? PRIVATE_USAGES : PUBLIC_USAGES, NAME);
      checkJwkUse(jwk, { use: "sig", usages, extractable });
      checkJwkAlg(jwk, curve.jwkAlg);
      return { material: ecFromJwk(jwk, curve, isPrivate), type: isPrivate ? "private" : "public" };
    }
  }
}

function readMaterial(ref: KeyObjectRef, type: KeyType, curve: Curve): EcKeyMaterial {
  if (type === "public") {
    const [point] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_EC_POINT]);
    return { curve, point: unwrapPoint(point, curve) };
  }
  const [d] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]);
  return { curve, d, point: publicPointOf(curve, d) };
}

