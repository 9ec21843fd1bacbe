import { syntaxError } from "../../webcrypto-errors.js";

/** SyntaxError, as Node, when a usage is not one this kind of key can have. */
export function checkUsages(usages: readonly KeyUsage[], allowed: readonly KeyUsage[], algorithm: string): void {
  for (const usage of usages) {
    if (!allowed.includes(usage)) throw syntaxError(`Unsupported key usage for a ${algorithm} key`);
  }
}

/** The spec: a new secret or private key with no usages is a SyntaxError. */
export function checkNotEmpty(type: KeyType, usages: readonly KeyUsage[]): void {
  if ((type === "secret" || type === "private") && usages.length === 0) {
    throw syntaxError("Usages cannot be empty when creating a key.");
  }
}

export function intersect(usages: readonly KeyUsage[], allowed: readonly KeyUsage[]): KeyUsage[] {
  return usages.filter((usage) => allowed.includes(usage));
}
