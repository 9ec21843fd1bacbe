import type { Token } from "../../token/token.js";
import { notSupported } from "../../webcrypto-errors.js";

/**
 * Ed25519 and X25519 ("OKP" keys in JWK) as PKCS#11 3.0 has them. pkcs11js 2.1 predates these
 * constants, so they are defined here with their names, for messages.
 */
export const CKK_EC_EDWARDS = 0x40;
export const CKK_EC_MONTGOMERY = 0x41;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EC_MONTGOMERY_KEY_PAIR_GEN = 0x1056;
export const CKM_EDDSA = 0x1057;

const names = new Map<number, string>([
  [CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN"],
  [CKM_EC_MONTGOMERY_KEY_PAIR_GEN, "CKM_EC_MONTGOMERY_KEY_PAIR_GEN"],
  [CKM_EDDSA, "CKM_EDDSA"],
]);

/**
 * requireMechanism (common/token-support.ts) for the mechanisms above: same check, same message,
 * but naming them (its names come from pkcs11js, which does not know them).
 */
export function requireOkpMechanism(token: Token, mechanism: number, purpose: string): void {
  if (!token.hasMechanism(mechanism)) {
    throw notSupported(`${purpose} is not supported by token "${token.label}": it lacks ${names.get(mechanism)}`);
  }
}

export interface OkpCurve {
  name: "Ed25519" | "X25519";
  /** Node's asymmetricKeyType. */
  node: "ed25519" | "x25519";
  /** CKK_EC_EDWARDS or CKK_EC_MONTGOMERY. */
  keyType: number;
  /** The key-pair generation mechanism; tokens without it have no keys of this kind at all. */
  generator: number;
  /**
   * CKA_EC_PARAMS: the DER of the curve's OID (RFC 8410). PKCS#11 3.0 also allows the printable
   * string "edwards25519" / "curve25519"; SoftHSM 2.6 takes both, and the OID is what PKCS#11 3.1
   * and RFC 8410 keys carry.
   */
  params: Buffer;
  /** The DER that precedes the 32 key bytes in an SPKI and in a PKCS#8 of this curve (RFC 8410). */
  spkiPrefix: Buffer;
  pkcs8Prefix: Buffer;
  /** What the keys may do, and the JWK "use" that goes with it. */
  privateUsages: readonly KeyUsage[];
  publicUsages: readonly KeyUsage[];
  jwkUse: "sig" | "enc";
  /** JWK "alg" values Node accepts on import, and the one it writes on export (Ed25519 only). */
  jwkAlgs?: readonly string[];
  jwkExportAlg?: string;
}

export const ed25519: OkpCurve = {
  name: "Ed25519",
  node: "ed25519",
  keyType: CKK_EC_EDWARDS,
  generator: CKM_EC_EDWARDS_KEY_PAIR_GEN,
  params: Buffer.from("06032b6570", "hex"),
  spkiPrefix: Buffer.from("302a300506032b6570032100", "hex"),
  pkcs8Prefix: Buffer.from("302e020100300506032b657004220420", "hex"),
  privateUsages: ["sign"],
  publicUsages: ["verify"],
  jwkUse: "sig",
  jwkAlgs: ["Ed25519", "EdDSA"],
  jwkExportAlg: "Ed25519",
};

export const x25519: OkpCurve = {
  name: "X25519",
  node: "x25519",
  keyType: CKK_EC_MONTGOMERY,
  generator: CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
  params: Buffer.from("06032b656e", "hex"),
  spkiPrefix: Buffer.from("302a300506032b656e032100", "hex"),
  pkcs8Prefix: Buffer.from("302e020100300506032b656e04220420", "hex"),
  privateUsages: ["deriveKey", "deriveBits"],
  publicUsages: [],
  jwkUse: "enc",
};
