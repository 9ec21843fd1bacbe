import { createECDH, createPrivateKey, createPublicKey, ECDH, type KeyObject } from "node:crypto";
import { pkcs11js, type Template } from "../../token/pkcs11.js";
import { dataError } from "../../webcrypto-errors.js";
import { jwkBytes } from "../common/jwk.js";
import { curveByNodeName, type Curve } from "./curves.js";

/**
 * EC key material in and out of the token. Parsing and encoding of SPKI, PKCS#8 and JWK is left
 * to Node's own crypto (OpenSSL): it validates points and structures exactly as Node's WebCrypto
 * does, and what we export is byte for byte what Node exports. The token side is three
 * attributes: CKA_EC_PARAMS, CKA_EC_POINT, CKA_VALUE.
 */
export interface EcKeyMaterial {
  curve: Curve;
  /** Uncompressed point 04 || x || y. */
  point: Buffer;
  /** Private scalar, field-size bytes; absent for a public key. */
  d?: Buffer;
}

/**
 * Node's checks of an imported key, in its order: an EC key, on the curve asked for, and a valid
 * key (its checkEcKeyData, OpenSSL's EC_KEY_check_key): a private scalar in [1, n-1] whose public
 * point is the one the key carries. A KeyObject alone checks none of the last: a PKCS#8 key may
 * carry a public point of another scalar, and a JWK or PKCS#8 scalar wider than the curve's order
 * is accepted, and then aborts the whole process when exported as JWK (Node 20's EncodeBignum
 * asserts). So a private key's scalar is first exported as SEC1 DER, which fails cleanly instead.
 */
function keyObjectToMaterial(keyObject: KeyObject, curve: Curve): EcKeyMaterial {
  if (keyObject.asymmetricKeyType !== "ec") throw dataError("Invalid key type");
  if (curveByNodeName(keyObject.asymmetricKeyDetails?.namedCurve)?.name !== curve.name) throw dataError("Named curve mismatch");
  if (keyObject.type === "private") parse(() => keyObject.export({ format: "der", type: "sec1" }));
  const jwk = keyObject.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.of(4), jwkBytes(jwk, "x"), jwkBytes(jwk, "y")]);
  const d = jwk.d === undefined ? undefined : jwkBytes(jwk, "d");
  // setPrivateKey refuses a scalar outside [1, n-1]; the point it gives must be the key's own.
  if (d && !parse(() => publicPointOf(curve, d)).equals(point)) throw dataError("Invalid keyData");
  return { curve, point, d };
}

function parse<T>(parser: () => T): T {
  try {
    return parser();
  } catch (error) {
    throw dataError("Invalid keyData", error);
  }
}

export function ecFromSpki(spki: Buffer, curve: Curve): EcKeyMaterial {
  const point = canonicalSpkiPoint(spki, curve);
  if (point) return { curve, point: parse(() => checkedPoint(point, curve)) };
  const keyObject = parse(() => createPublicKey({ key: spki, format: "der", type: "spki" }));
  return keyObjectToMaterial(keyObject, curve);
}

/**
 * Nearly every EC SPKI is the one DER encoding of "this named curve, this uncompressed point":
 * for those, the point is taken from its fixed place and checked by OpenSSL alone (on the curve,
 * about 25 µs), where a KeyObject and its JWK export cost about 300 µs, most of an import. Any
 * other encoding (another curve, compressed points, explicit parameters, stray bytes) takes the
 * general path, with Node's errors.
 */
const ecPublicKeyOid = Buffer.from("06072a8648ce3d0201", "hex");
const spkiPrefixes = new Map<Curve, Buffer>();

function derHeader(tag: number, length: number): Buffer {
  return length < 0x80 ? Buffer.of(tag, length) : Buffer.of(tag, 0x81, length);
}

function spkiPrefix(curve: Curve): Buffer {
  let prefix = spkiPrefixes.get(curve);
  if (!prefix) {
    const algorithm = Buffer.concat([derHeader(0x30, ecPublicKeyOid.length + curve.params.length), ecPublicKeyOid, curve.params]);
    const pointLength = 1 + 2 * curve.size;
    const bitString = derHeader(0x03, pointLength + 1);
    const total = algorithm.length + bitString.length + 1 + pointLength;
    prefix = Buffer.concat([derHeader(0x30, total), algorithm, bitString, Buffer.of(0)]);
    spkiPrefixes.set(curve, prefix);
  }
  return prefix;
}

function canonicalSpkiPoint(spki: Buffer, curve: Curve): Buffer | undefined {
  const prefix = spkiPrefix(curve);
  if (spki.length !== prefix.length + 1 + 2 * curve.size || spki[prefix.length] !== 0x04) return undefined;
  return spki.subarray(0, prefix.length).equals(prefix) ? Buffer.from(spki.subarray(prefix.length)) : undefined;
}

/** An uncompressed point that OpenSSL accepts as on the curve (it throws otherwise). */
function checkedPoint(point: Buffer, curve: Curve): Buffer {
  ECDH.convertKey(point, curve.node, undefined, undefined, "uncompressed");
  return point;
}

export function ecFromPkcs8(pkcs8: Buffer, curve: Curve): EcKeyMaterial {
  const keyObject = parse(() => createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
  return keyObjectToMaterial(keyObject, curve);
}

/** Raw public keys may be compressed; OpenSSL decompresses and checks the point is on the curve. */
export function ecFromRaw(raw: Buffer, curve: Curve): EcKeyMaterial {
  const point = parse(() => {
    const converted = ECDH.convertKey(raw, curve.node, undefined, undefined, "uncompressed");
    if (!Buffer.isBuffer(converted) || converted.length !== 1 + 2 * curve.size) throw new Error("not a point on the curve");
    return converted;
  });
  const size = curve.size;
  const jwk = { kty: "EC", crv: curve.name, x: point.subarray(1, 1 + size).toString("base64url"), y: point.subarray(1 + size).toString("base64url") };
  return keyObjectToMaterial(parse(() => createPublicKey({ key: jwk, format: "jwk" })), curve);
}

export function ecFromJwk(jwk: JsonWebKey, curve: Curve, isPrivate: boolean): EcKeyMaterial {
  const keyObject = parse(() =>
    isPrivate ? createPrivateKey({ key: jwk as never, format: "jwk" }) : createPublicKey({ key: jwk as never, format: "jwk" }),
  );
  const material = keyObjectToMaterial(keyObject, curve);
  // OpenSSL takes d and ignores x and y; a JWK whose halves disagree is not a key.
  if (material.d) {
    const expected = publicPointOf(curve, material.d);
    const sameNumber = (member: "x" | "y", offset: number) =>
      BigInt(`0x0${jwkBytes(jwk, member).toString("hex")}`) ===
      BigInt(`0x0${expected.subarray(offset, offset + curve.size).toString("hex")}`);
    if (!sameNumber("x", 1) || !sameNumber("y", 1 + curve.size)) throw dataError("Invalid keyData");
  }
  return material;
}

/** CKA_EC_POINT holds the point DER-wrapped in an OCTET STRING (PKCS#11 2.20 onwards). */
export function wrapPoint(point: Buffer): Buffer {
  const length = point.length < 0x80 ? Buffer.of(point.length) : Buffer.of(0x81, point.length);
  return Buffer.concat([Buffer.of(0x04), length, point]);
}

/** Accepts CKA_EC_POINT both DER-wrapped (the standard) and bare (what some tokens return). */
export function unwrapPoint(value: Buffer, curve: Curve): Buffer {
  const bare = 1 + 2 * curve.size;
  if (value.length === bare) return value;
  const headerLength = value.length - bare;
  if (value[0] === 0x04 && (headerLength === 2 || headerLength === 3)) return value.subarray(headerLength);
  throw new Error(`Unexpected CKA_EC_POINT of ${value.length} bytes for ${curve.name}`);
}

export function ecPublicAttributes(material: EcKeyMaterial): Template {
  return [
    { type: pkcs11js.CKA_EC_PARAMS, value: material.curve.params },
    { type: pkcs11js.CKA_EC_POINT, value: wrapPoint(material.point) },
  ];
}

export function ecPrivateAttributes(material: EcKeyMaterial): Template {
  return [
    { type: pkcs11js.CKA_EC_PARAMS, value: material.curve.params },
    { type: pkcs11js.CKA_VALUE, value: material.d! },
  ];
}

/** The public point of a private scalar (a PKCS#11 private key object need not carry it). */
export function publicPointOf(curve: Curve, d: Buffer): Buffer {
  const ecdh = createECDH(curve.node);
  ecdh.setPrivateKey(d.length === curve.size ? d : Buffer.concat([Buffer.alloc(curve.size - d.length), d]));
  return ecdh.getPublicKey();
}

export function ecToJwk(material: EcKeyMaterial): JsonWebKey {
  const { curve, point, d } = material;
  const jwk: JsonWebKey = {
    kty: "EC",
    crv: curve.name,
    x: point.subarray(1, 1 + curve.size).toString("base64url"),
    y: point.subarray(1 + curve.size).toString("base64url"),
  };
  if (d) jwk.d = (d.length === curve.size ? d : Buffer.concat([Buffer.alloc(curve.size - d.length), d])).toString("base64url");
  return jwk;
}

export function ecToSpki(material: EcKeyMaterial): Buffer {
  return createPublicKey({ key: ecToJwk({ ...material, d: undefined }) as never, format: "jwk" }).export({ type: "spki", format: "der" });
}

export function ecToPkcs8(material: EcKeyMaterial): Buffer {
  return createPrivateKey({ key: ecToJwk(material) as never, format: "jwk" }).export({ type: "pkcs8", format: "der" });
}
