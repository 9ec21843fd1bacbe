/** The NIST curves Web Crypto names, with what PKCS#11 and Node call them. */
export interface Curve {
  name: "P-256" | "P-384" | "P-521";
  /** OpenSSL's name, which Node's crypto uses. */
  node: string;
  /** CKA_EC_PARAMS: the DER encoding of the curve's OID. */
  params: Buffer;
  /** Bytes in a field element (and in each half of an ECDSA signature). */
  size: number;
  /** JWK alg for ECDSA with the hash that matches the curve. */
  jwkAlg: string;
}

export const curves: Curve[] = [
  { name: "P-256", node: "prime256v1", params: Buffer.from("06082a8648ce3d030107", "hex"), size: 32, jwkAlg: "ES256" },
  { name: "P-384", node: "secp384r1", params: Buffer.from("06052b81040022", "hex"), size: 48, jwkAlg: "ES384" },
  { name: "P-521", node: "secp521r1", params: Buffer.from("06052b81040023", "hex"), size: 66, jwkAlg: "ES512" },
];

export function curveByName(name: string): Curve | undefined {
  return curves.find((curve) => curve.name === name);
}

export function curveByNodeName(name: string | undefined): Curve | undefined {
  return curves.find((curve) => curve.node === name);
}
