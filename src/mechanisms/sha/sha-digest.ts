import { digestOnToken } from "../../token/operations.js";
import { hashInfo } from "../common/hashes.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider } from "../provider.js";

/** SHA-1/256/384/512 digests computed by the token (C_Digest on a worker thread). */
function shaProvider(name: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512"): AlgorithmProvider {
  const hash = hashInfo(name);
  return {
    name,
    requires: { digest: [hash.digest] },
    async digest(token, _algorithm, data) {
      requireMechanism(token, hash.digest, `${name} digest`);
      return onToken(`${name} digest`, async () =>
        toArrayBuffer(await digestOnToken(token, { mechanism: hash.digest }, data, hash.length)),
      );
    },
  };
}

export const shaProviders: AlgorithmProvider[] = (["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const).map(shaProvider);
