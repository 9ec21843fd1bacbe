import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { pkcs11js, type Template } from "../../token/pkcs11.js";
import { dataError } from "../../webcrypto-errors.js";
import type { OkpCurve } from "./okp-curves.js";

/**
 * Ed25519 and X25519 key material in and out of the token, through Node's own crypto (as
 * ec-key-data.ts does for the NIST curves): what we accept and what we export is what Node's
 * WebCrypto accepts and exports. Both kinds of key are 32 bytes: the public key x (RFC 8032's
 * encoded point, RFC 7748's u-coordinate) and the private key d (the Ed25519 seed, the X25519
 * scalar), which PKCS#11 holds as CKA_EC_POINT and CKA_VALUE.
 */
export interface OkpKeyMaterial {
  curve: OkpCurve;
  x: Buffer;
  /** Absent for a public key. */
  d?: Buffer;
}

const KEY_BYTES = 32;

function parse<T>(parser: () => T): T {
  try {
    return parser();
  } catch (error) {
    throw dataError("Invalid keyData", error);
  }
}

/** Node's last import check: the key is of the algorithm asked for (an X25519 SPKI is no Ed25519 key). */
function checkType(keyObject: KeyObject, curve: OkpCurve): void {
  if (keyObject.asymmetricKeyType !== curve.node) throw dataError("Invalid key type");
}

function xOf(keyObject: KeyObject): Buffer {
  return Buffer.from(keyObject.export({ format: "jwk" }).x!, "base64url");
}

function publicFromRaw(x: Buffer, curve: OkpCurve): KeyObject {
  if (x.length !== KEY_BYTES) throw dataError(`${curve.name} raw keys must be exactly 32-bytes`);
  return parse(() => createPublicKey({ key: Buffer.concat([curve.spkiPrefix, x]), format: "der", type: "spki" }));
}

function privateFromRaw(d: Buffer, curve: OkpCurve): KeyObject {
  if (d.length !== KEY_BYTES) throw dataError(`${curve.name} raw keys must be exactly 32-bytes`);
  return parse(() => createPrivateKey({ key: Buffer.concat([curve.pkcs8Prefix, d]), format: "der", type: "pkcs8" }));
}

export function okpFromSpki(spki: Buffer, curve: OkpCurve): OkpKeyMaterial {
  const keyObject = parse(() => createPublicKey({ key: spki, format: "der", type: "spki" }));
  checkType(keyObject, curve);
  return { curve, x: xOf(keyObject) };
}

export function okpFromPkcs8(pkcs8: Buffer, curve: OkpCurve): OkpKeyMaterial {
  const keyObject = parse(() => createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
  checkType(keyObject, curve);
  const jwk = keyObject.export({ format: "jwk" });
  return { curve, x: Buffer.from(jwk.x!, "base64url"), d: Buffer.from(jwk.d!, "base64url") };
}

export function okpFromRaw(raw: Buffer, curve: OkpCurve): OkpKeyMaterial {
  return { curve, x: xOf(publicFromRaw(raw, curve)) };
}

/**
 * The key members of a JWK whose header has been checked. Node decodes them as base64 (which
 * also takes base64url) and refuses a private key whose x is not the public key of its d.
 */
export function okpFromJwk(jwk: JsonWebKey, curve: OkpCurve, isPrivate: boolean): OkpKeyMaterial {
  const decode = (member: string | undefined) => parse(() => Buffer.from(member as string, "base64"));
  const x = decode(jwk.x);
  const publicKey = publicFromRaw(x, curve);
  if (!isPrivate) return { curve, x: xOf(publicKey) };
  const d = decode(jwk.d);
  const privateKey = privateFromRaw(d, curve);
  if (!createPublicKey(privateKey).equals(publicKey)) throw dataError("Invalid keyData");
  return { curve, x: xOf(publicKey), d };
}

/** The public key of a private one (a PKCS#11 private key object need not carry it). */
export function okpPublicOf(curve: OkpCurve, d: Buffer): Buffer {
  return xOf(createPublicKey(privateFromRaw(d, curve)));
}

/** CKA_EC_POINT holds x DER-wrapped in an OCTET STRING, as PKCS#11 3.0 and SoftHSM write it. */
export function okpPublicAttributes(material: OkpKeyMaterial): Template {
  return [
    { type: pkcs11js.CKA_EC_PARAMS, value: material.curve.params },
    { type: pkcs11js.CKA_EC_POINT, value: Buffer.concat([Buffer.of(0x04, KEY_BYTES), material.x]) },
  ];
}

export function okpPrivateAttributes(material: OkpKeyMaterial): Template {
  return [
    { type: pkcs11js.CKA_EC_PARAMS, value: material.curve.params },
    { type: pkcs11js.CKA_VALUE, value: material.d! },
  ];
}

/** Accepts CKA_EC_POINT DER-wrapped (the standard) and bare (what some tokens return). */
export function okpUnwrapPoint(value: Buffer): Buffer {
  if (value.length === KEY_BYTES) return value;
  if (value.length === KEY_BYTES + 2 && value[0] === 0x04 && value[1] === KEY_BYTES) return value.subarray(2);
  throw new Error(`Unexpected CKA_EC_POINT of ${value.length} bytes for a 32-byte key`);
}

/** Node's JWK member order: crv, d, x, kty (key_ops, ext before; alg after). */
export function okpToJwk(material: OkpKeyMaterial): JsonWebKey {
  const jwk: JsonWebKey = { crv: material.curve.name };
  if (material.d) jwk.d = material.d.toString("base64url");
  jwk.x = material.x.toString("base64url");
  jwk.kty = "OKP";
  return jwk;
}

export function okpToSpki(material: OkpKeyMaterial): Buffer {
  return publicFromRaw(material.x, material.curve).export({ type: "spki", format: "der" });
}

export function okpToPkcs8(material: OkpKeyMaterial): Buffer {
  return privateFromRaw(material.d!, material.curve).export({ type: "pkcs8", format: "der" });
}
