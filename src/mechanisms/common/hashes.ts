import { pkcs11js } from "../../token/pkcs11.js";

/** Everything the families need to know about one SHA hash. */
export interface HashInfo {
  name: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";
  /** Node's name, for software hashing. */
  node: string;
  /** Output length in bytes. */
  length: number;
  /** Block size in bits: HMAC's default key length. */
  blockBits: number;
  /** The number in JWK algorithm names: HS256, RS256, PS256 (and "1" for SHA-1). */
  jwkSuffix: string;
  digest: number;
  hmac: number;
  rsaPkcs: number;
  rsaPss: number;
  mgf1: number;
}

const table: HashInfo[] = [
  {
    name: "SHA-1", node: "sha1", length: 20, blockBits: 512, jwkSuffix: "1",
    digest: pkcs11js.CKM_SHA_1, hmac: pkcs11js.CKM_SHA_1_HMAC, rsaPkcs: pkcs11js.CKM_SHA1_RSA_PKCS,
    rsaPss: pkcs11js.CKM_SHA1_RSA_PKCS_PSS, mgf1: pkcs11js.CKG_MGF1_SHA1,
  },
  {
    name: "SHA-256", node: "sha256", length: 32, blockBits: 512, jwkSuffix: "256",
    digest: pkcs11js.CKM_SHA256, hmac: pkcs11js.CKM_SHA256_HMAC, rsaPkcs: pkcs11js.CKM_SHA256_RSA_PKCS,
    rsaPss: pkcs11js.CKM_SHA256_RSA_PKCS_PSS, mgf1: pkcs11js.CKG_MGF1_SHA256,
  },
  {
    name: "SHA-384", node: "sha384", length: 48, blockBits: 1024, jwkSuffix: "384",
    digest: pkcs11js.CKM_SHA384, hmac: pkcs11js.CKM_SHA384_HMAC, rsaPkcs: pkcs11js.CKM_SHA384_RSA_PKCS,
    rsaPss: pkcs11js.CKM_SHA384_RSA_PKCS_PSS, mgf1: pkcs11js.CKG_MGF1_SHA384,
  },
  {
    name: "SHA-512", node: "sha512", length: 64, blockBits: 1024, jwkSuffix: "512",
    digest: pkcs11js.CKM_SHA512, hmac: pkcs11js.CKM_SHA512_HMAC, rsaPkcs: pkcs11js.CKM_SHA512_RSA_PKCS,
    rsaPss: pkcs11js.CKM_SHA512_RSA_PKCS_PSS, mgf1: pkcs11js.CKG_MGF1_SHA512,
  },
];

export const allHashes: readonly HashInfo[] = table;

/** Info for a normalized hash ({ name }); the normalizer has already rejected unknown names. */
export function hashInfo(hash: unknown): HashInfo {
  const name = typeof hash === "string" ? hash : (hash as { name: string }).name;
  const info = table.find((entry) => entry.name === name);
  if (!info) throw new TypeError(`Unknown hash ${name}`);
  return info;
}

/**
 * The hash a name stands for, as Node resolves JWK `alg` values for RSA keys: case-insensitive,
 * and any of the hash's names (sha256, SHA-256, RS256, PS256, RSA-OAEP-256, HS256).
 */
export function hashByAlias(alias: string): HashInfo | undefined {
  const wanted = alias.toLowerCase();
  return table.find((entry) => {
    const names = [entry.name, entry.node, `RS${entry.jwkSuffix}`, `PS${entry.jwkSuffix}`, `HS${entry.jwkSuffix}`];
    names.push(entry.name === "SHA-1" ? "RSA-OAEP" : `RSA-OAEP-${entry.jwkSuffix}`);
    return names.some((name) => name.toLowerCase() === wanted);
  });
}
