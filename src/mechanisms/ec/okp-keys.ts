import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { keyIdBytes, keyTemplate } from "../../keys/key-template.js";
import { generateKeyPairOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js } from "../../token/pkcs11.js";
import { dataError, invalidAccess } from "../../webcrypto-errors.js";
import { checkJwkKty, checkJwkUse, jwkExportHeader } from "../common/jwk.js";
import { importKeyObject, wrapHandle } from "../common/new-key.js";
import { onToken, toArrayBuffer } from "../common/token-support.js";
import { checkNotEmpty, checkUsages, intersect } from "../common/usages.js";
import type { AlgorithmProvider, KeyFormat, NewKeyRequest } from "../provider.js";
import { requireOkpMechanism, type OkpCurve } from "./okp-curves.js";
import {
  okpFromJwk, okpFromPkcs8, okpFromRaw, okpFromSpki, okpPrivateAttributes, okpPublicAttributes, okpPublicOf, okpToJwk,
  okpToPkcs8, okpToSpki, okpUnwrapPoint, type OkpKeyMaterial,
} from "./okp-key-data.js";

type KeyMethods = Required<Pick<AlgorithmProvider, "generateKey" | "importKey" | "exportKey">>;

/**
 * generateKey, importKey and exportKey for Ed25519 and X25519, which differ only in their
 * constants (okp-curves.ts); each provider spreads these and adds its own operations. Argument
 * errors come first, in Node's order (its lib/internal/crypto/cfrg.js); then a token without
 * keys of this kind fails with NotSupportedError, before any token call.
 */
export function okpKeyMethods(curve: OkpCurve): KeyMethods {
  const { name } = curve;
  const algorithm = () => ({ name }) as KeyAlgorithm;

  return {
    async generateKey(token, { extractable, usages, storage }) {
      checkUsages(usages, [...curve.privateUsages, ...curve.publicUsages], name);
      const privateUsages = intersect(usages, curve.privateUsages);
      const publicUsages = intersect(usages, curve.publicUsages);
      checkNotEmpty("private", privateUsages);
      requireOkpMechanism(token, curve.generator, `${name} key generation`);
      const id = keyIdBytes(storage);
      const publicTemplate = [
        ...keyTemplate({ type: "public", keyType: curve.keyType, extractable: true, usages: publicUsages, storage, id }),
        { type: pkcs11js.CKA_EC_PARAMS, value: curve.params },
      ];
      const privateTemplate = keyTemplate({ type: "private", keyType: curve.keyType, extractable, usages: privateUsages, storage, id });
      const handles = await onToken(`${name} key generation`, () =>
        generateKeyPairOnToken(token, { mechanism: curve.generator }, publicTemplate, privateTemplate, false),
      );
      return {
        publicKey: wrapHandle(token, handles.publicKey, "public", true, algorithm(), publicUsages, storage),
        privateKey: wrapHandle(token, handles.privateKey, "private", extractable, algorithm(), privateUsages, storage),
      };
    },

    async importKey(token, format, keyData, request) {
      const { material, type } = readImport(curve, format, keyData, request);
      checkNotEmpty(type, request.usages);
      requireOkpMechanism(token, curve.generator, `${name} key import`);
      return onToken(`${name} key import`, () =>
        importKeyObject(token, {
          ...request,
          type,
          keyType: curve.keyType,
          algorithm: algorithm(),
          material: type === "public" ? okpPublicAttributes(material) : okpPrivateAttributes(material),
        }),
      );
    },

    async exportKey(format, key, ref) {
      const allowed = format === "jwk" || (key.type === "public" ? format === "spki" || format === "raw" : format === "pkcs8");
      if (!allowed) throw invalidAccess(`Unable to export a ${format} ${name} ${key.type} key`);
      const material = await onToken(`${name} key export`, async () => readMaterial(ref, key.type, curve));
      if (format === "jwk") {
        const jwk = { ...jwkExportHeader(key), ...okpToJwk(material) };
        return curve.jwkExportAlg ? { ...jwk, alg: curve.jwkExportAlg } : jwk;
      }
      if (format === "spki") return toArrayBuffer(okpToSpki(material));
      if (format === "raw") return toArrayBuffer(Buffer.from(material.x));
      return toArrayBuffer(okpToPkcs8(material));
    },
  };
}

function readImport(curve: OkpCurve, format: KeyFormat, keyData: Buffer | JsonWebKey, request: NewKeyRequest): { material: OkpKeyMaterial; type: KeyType } {
  const { usages, extractable } = request;
  switch (format) {
    case "spki":
      checkUsages(usages, curve.publicUsages, curve.name);
      return { material: okpFromSpki(keyData as Buffer, curve), type: "public" };
    case "raw":
      checkUsages(usages, curve.publicUsages, curve.name);
      return { material: okpFromRaw(keyData as Buffer, curve), type: "public" };
    case "pkcs8":
      checkUsages(usages, curve.privateUsages, curve.name);
      return { material: okpFromPkcs8(keyData as Buffer, curve), type: "private" };
    case "jwk": {
      // Node's order: kty, crv, use, key_ops, ext, alg, x present, then usages (after the header,
      // unlike EC keys), then the key itself.
      const jwk = keyData as JsonWebKey;
      checkJwkKty(jwk, "OKP");
      if (jwk.crv !== curve.name) throw dataError('JWK "crv" Parameter and algorithm name mismatch');
      const isPrivate = jwk.d !== undefined;
      checkJwkUse(jwk, { use: curve.jwkUse, usages, extractable });
      if (jwk.alg !== undefined && curve.jwkAlgs && !curve.jwkAlgs.includes(jwk.alg)) {
        throw dataError('JWK "alg" does not match the requested algorithm');
      }
      if (isPrivate && typeof jwk.x !== "string") throw dataError("Invalid JWK");
      checkUsages(usages, isPrivate ? curve.privateUsages : curve.publicUsages, curve.name);
      return { material: okpFromJwk(jwk, curve, isPrivate), type: isPrivate ? "private" : "public" };
    }
  }
}

function readMaterial(ref: KeyObjectRef, type: KeyType, curve: OkpCurve): OkpKeyMaterial {
  if (type === "public") {
    const [point] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_EC_POINT]);
    return { curve, x: okpUnwrapPoint(point) };
  }
  const [d] = readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]);
  return { curve, d, x: okpPublicOf(curve, d) };
}
