import { UsageError } from "./exit-codes.js";

/** The algorithms `keys generate` and `keys import` know, by their Web Crypto names. */
export const KEY_ALGORITHMS = [
  "ECDSA", "ECDH", "Ed25519", "X25519", "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP",
  "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "HMAC",
] as const;

export type KeyAlgorithmName = (typeof KEY_ALGORITHMS)[number];

/** Short names people type; each maps to one Web Crypto algorithm. */
const ALIASES = new Map<string, KeyAlgorithmName>([
  ["EC", "ECDSA"], ["RSA", "RSASSA-PKCS1-v1_5"], ["PSS", "RSA-PSS"], ["OAEP", "RSA-OAEP"], ["AES", "AES-GCM"],
]);

export function algorithmName(text: string): KeyAlgorithmName {
  const upper = text.toUpperCase();
  const found = KEY_ALGORITHMS.find((name) => name.toUpperCase() === upper) ?? ALIASES.get(upper);
  if (!found) throw new UsageError(`unknown algorithm "${text.slice(0, 40)}"; one of ${KEY_ALGORITHMS.join(", ")}`);
  return found;
}

const CURVES = new Map([
  ["P-256", "P-256"], ["PRIME256V1", "P-256"], ["SECP256R1", "P-256"],
  ["P-384", "P-384"], ["SECP384R1", "P-384"],
  ["P-521", "P-521"], ["SECP521R1", "P-521"],
]);

export function curveName(text: string): string {
  const curve = CURVES.get(text.toUpperCase());
  if (!curve) throw new UsageError(`unknown curve "${text.slice(0, 40)}"; one of P-256, P-384, P-521`);
  return curve;
}

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

export function hashName(text: string): string {
  const normalized = text.toUpperCase().replace(/^SHA(\d)/, "SHA-$1");
  if (!HASHES.includes(normalized)) throw new UsageError(`unknown hash "${text.slice(0, 40)}"; one of ${HASHES.join(", ")}`);
  return normalized;
}

/** The usages a new key gets when --usages is not given: everything its algorithm is for, minus unsafe pairs (see attribute-policy). */
export function defaultUsages(name: KeyAlgorithmName): KeyUsage[] {
  switch (name) {
    case "ECDSA": case "Ed25519": case "RSASSA-PKCS1-v1_5": case "RSA-PSS": case "HMAC":
      return ["sign", "verify"];
    case "ECDH": case "X25519":
      return ["deriveKey", "deriveBits"];
    case "AES-KW":
      return ["wrapKey", "unwrapKey"];
    default:
      return ["encrypt", "decrypt"];
  }
}

const USAGES: readonly KeyUsage[] = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];

export function usageList(text: string): KeyUsage[] {
  const usages = text.split(",").map((usage) => usage.trim()).filter((usage) => usage !== "");
  for (const usage of usages) {
    if (!(USAGES as readonly string[]).includes(usage)) throw new UsageError(`unknown usage "${usage.slice(0, 40)}"; one of ${USAGES.join(", ")}`);
  }
  if (usages.length === 0) throw new UsageError("--usages is empty");
  return usages as KeyUsage[];
}

/** The private (or secret) and public halves of a list of usages. */
export function splitUsages(usages: readonly KeyUsage[]): { privateUsages: KeyUsage[]; publicUsages: KeyUsage[] } {
  const publicSide: readonly KeyUsage[] = ["encrypt", "verify", "wrapKey"];
  return {
    privateUsages: usages.filter((usage) => !publicSide.includes(usage)),
    publicUsages: usages.filter((usage) => publicSide.includes(usage)),
  };
}

/** "ECDSA P-256", "RSASSA-PKCS1-v1_5 2048 SHA-256", "AES-GCM 256": a key's algorithm in a table cell. */
export function describeAlgorithm(algorithm: KeyAlgorithm | undefined): string {
  if (!algorithm) return "-";
  const fields = algorithm as KeyAlgorithm & { namedCurve?: string; modulusLength?: number; length?: number; hash?: { name: string } };
  const parts = [algorithm.name];
  if (fields.namedCurve) parts.push(fields.namedCurve);
  if (fields.modulusLength) parts.push(String(fields.modulusLength));
  if (fields.length) parts.push(String(fields.length));
  if (fields.hash) parts.push(fields.hash.name);
  return parts.join(" ");
}

/** A key algorithm as plain JSON (publicExponent as a number rather than a byte array). */
export function algorithmJson(algorithm: KeyAlgorithm | undefined): Record<string, unknown> | null {
  if (!algorithm) return null;
  const copy: Record<string, unknown> = { ...algorithm };
  const exponent = (algorithm as { publicExponent?: Uint8Array }).publicExponent;
  if (exponent) copy.publicExponent = exponent.reduce((value, byte) => value * 256 + byte, 0);
  return copy;
}
