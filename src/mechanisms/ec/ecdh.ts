import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { generateKeyPairOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { dataError, invalidAccess, notSupported } from "../../webcrypto-errors.js";
import { checkJwkKty, checkJwkUse, jwkBytes, jwkExportHeader } from "../common/jwk.js";
import { importKeyObject, wrapHandle } from "../common/new-key.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages, intersect } from "../common/usages.js";
import type { AlgorithmProvider, KeyFormat, NewKeyRequest } from "../provider.js";
import { curveByName, type Curve } from "./curves.js";
import {
  ecFromJwk, ecFromPkcs8, ecFromRaw, ecFromSpki, ecPrivateAttributes, ecPublicAttributes, ecToJwk, ecToPkcs8, ecToSpki,
  publicPointOf, unwrapPoint, type EcKeyMaterial,
} from "./ec-key-data.js";
import { deriveBitsWith, deriveKeyWith, type AgreementFamily } from "./ecdh-derive.js";

const NAME = "ECDH";
const PRIVATE_USAGES: KeyUsage[] = ["deriveKey", "deriveBits"];
/** An ECDH public key does nothing by itself: it is the `public` of someone else's derivation. */
const PUBLIC_USAGES: KeyUsage[] = [];

function curveOf(namedCurve: unknown): Curve {
  const curve = curveByName(String(namedCurve));
  if (!curve) throw notSupported("Unrecognized namedCurve");
  return curve;
}

const curveOfKey = (key: CryptoKey) => curveOf((key.algorithm as EcKeyAlgorithm).namedCurve);

/** ECDH for ecdh-derive.ts: Z is field-size bytes, the peer's point goes uncompressed. */
const family: AgreementFamily = {
  name: NAME,
  secretBytes: (baseKey) => curveOfKey(baseKey).size,
  requireSupport: (token) => requireMechanism(token, pkcs11js.CKM_ECDH1_DERIVE, `${NAME} key agreement`),
  publicDataFromPoint: (point, peer) => unwrapPoint(point, curveOfKey(peer)),
  publicDataFromJwk: (jwk) => Buffer.concat([Buffer.of(4), jwkBytes(jwk, "x"), jwkBytes(jwk, "y")]),
};

/**
 * ECDH on P-256, P-384 and P-521: CKK_EC keys with CKA_DERIVE, made and held as ECDSA keys are
 * (the same curves, the same key formats through Node's crypto), and key agreement on the token
 * with CKM_ECDH1_DERIVE (ecdh-derive.ts).
 */
export const ecdhProvider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [pkcs11js.CKM_EC_KEY_PAIR_GEN],
    importKey: [],
    exportKey: [],
    deriveBits: [pkcs11js.CKM_ECDH1_DERIVE],
    deriveKey: [pkcs11js.CKM_ECDH1_DERIVE],
  },

  async generateKey(token, { algorithm, extractable, usages, storage }) {
    const curve = curveOf(algorithm.namedCurve);
    checkUsages(usages, PRIVATE_USAGES, NAME);
    const privateUsages = intersect(usages, PRIVATE_USAGES);
    checkNotEmpty("private", privateUsages);
    requireMechanism(token, pkcs11js.CKM_EC_KEY_PAIR_GEN, `${NAME} key generation`);
    const id = keyIdBytes(storage);
    const keyType = pkcs11js.CKK_EC;
    const publicTemplate = [
      ...keyTemplate({ type: "public", keyType, extractable: true, usages: PUBLIC_USAGES, storage, id }),
      { type: pkcs11js.CKA_EC_PARAMS, value: curve.params },
    ];
    const privateTemplate = keyTemplate({ type: "private", keyType, extractable, usages: privateUsages, storage, id });
    const handles = await onToken(`${NAME} key generation`, () =>
      generateKeyPairOnToken(token, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate, false),
    );
    const keyAlgorithm = { name: NAME, namedCurve: curve.name } as EcKeyAlgorithm;
    return {
      publicKey: wrapHandle(token, handles.publicKey, "public", true, keyAlgorithm, PUBLIC_USAGES, storage),
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
    const curve = curveOfKey(key);
    const allowed = format === "jwk" || (key.type === "public" ? format === "spki" || format === "raw" : format === "pkcs8");
    if (!allowed) throw invalidAccess(`Unable to export a ${format} ${NAME} ${key.type} key`);
    const material = await onToken(`${NAME} key export`, async () => readMaterial(ref, key.type, curve));
    if (format === "jwk") return { ...jwkExportHeader(key), ...ecToJwk(material) };
    if (format === "spki") return toArrayBuffer(ecToSpki(material));
    if (format === "raw") return toArrayBuffer(Buffer.from(material.point));
    return toArrayBuffer(ecToPkcs8(material));
  },

  deriveBits(algorithm, baseKey, ref, length) {
    return deriveBitsWith(family, algorithm, baseKey, ref, length);
  },

  deriveKey(algorithm, baseKey, ref, derived) {
    return deriveKeyWith(family, algorithm, baseKey, ref, derived);
  },
};

/** Node's checks, in its order (lib/internal/crypto/ec.js): as ECDSA's, with ECDH's usages and "use". */
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
      // kty, crv, usages, use, key_ops, ext; Node reads no "alg" for ECDH keys.
      const jwk = keyData as JsonWebKey;
      const isPrivate = jwk.d !== undefined;
      checkJwkKty(jwk, "EC");
      if (jwk.crv !== curve.name) throw dataError('JWK "crv" does not match the requested algorithm');
      checkUsages(usages, isPrivate ? PRIVATE_USAGES : PUBLIC_USAGES, NAME);
      checkJwkUse(jwk, { use: "enc", usages, extractable });
      return { material: ecFromJwk(jwk, curve, isPrivate), type: isPrivate ? "private" : "public" };
    }
  }
}

/** The key's material from the token (as ecdsa.ts reads it): the point of a public key, d of a private one. */
function readMaterial(ref: KeyObjectRef, type: KeyType, curve: Curve): EcKeyMaterial {
  if (type === "public") {
    const [point] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_EC_POINT]);
    return { curve, point: unwrapPoint(point, curve) };
  }
  const [d] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]);
  return { curve, d, point: publicPointOf(curve, d) };
}
