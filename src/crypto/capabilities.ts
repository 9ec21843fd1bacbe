import type { AlgorithmProvider, OperationName } from "../mechanisms/provider.js";
import { pkcs11js } from "../token/pkcs11.js";
import type { Token } from "../token/token.js";

/**
 * What a token can do, in Web Crypto's terms: for each algorithm, the operations whose PKCS#11
 * mechanisms the token lists (read once, at connection, with C_GetMechanismList and
 * C_GetMechanismInfo).
 */
export function supportedOperations(token: Token, provider: AlgorithmProvider): OperationName[] {
  const requires = provider.requires ?? {};
  const operations = Object.keys(requires) as OperationName[];
  const possible = operations.filter((operation) => {
    const mechanisms = requires[operation]!;
    if (mechanisms.length === 0) return true;
    const flag = operation === "wrapKey" ? pkcs11js.CKF_WRAP : operation === "unwrapKey" ? pkcs11js.CKF_UNWRAP : 0;
    return mechanisms.some((mechanism) => {
      const info = token.mechanismInfo(mechanism);
      return info !== undefined && (flag === 0 || (info.flags & flag) !== 0);
    });
  });
  // Importing or exporting a key is pointless when nothing can be done with it.
  const useful = possible.some((operation) => operation !== "importKey" && operation !== "exportKey");
  return useful ? possible : [];
}

export function supportedAlgorithms(token: Token, providers: Iterable<AlgorithmProvider>): Record<string, OperationName[]> {
  const result: Record<string, OperationName[]> = {};
  for (const provider of providers) {
    const operations = supportedOperations(token, provider);
    if (operations.length > 0) result[provider.name] = operations;
  }
  return result;
}
