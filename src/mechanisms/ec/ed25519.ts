import { signOnToken, verifyOnToken } from "../../token/operations.js";
import { onToken, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider } from "../provider.js";
import { CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, ed25519, requireOkpMechanism } from "./okp-curves.js";
import { okpKeyMethods } from "./okp-keys.js";

const NAME = "Ed25519";
const SIGNATURE_BYTES = 64;
/** Pure Ed25519 (RFC 8032): CKM_EDDSA without parameters. */
const mechanism = { mechanism: CKM_EDDSA };

/**
 * Ed25519 on the token: CKK_EC_EDWARDS keys made by CKM_EC_EDWARDS_KEY_PAIR_GEN, signatures by
 * CKM_EDDSA over the whole message (EdDSA hashes inside, twice over, so it cannot be split into a
 * hash in Node and a signature on the token as ECDSA is). Ed25519 is deterministic: the token's
 * signatures are byte for byte Node's. SoftHSM has no multi-part EdDSA: messages go in one
 * C_Sign / C_Verify, the empty one included (see nonNullEmpty in operations.ts).
 */
export const ed25519Provider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [CKM_EC_EDWARDS_KEY_PAIR_GEN],
    // A token without Edwards keys cannot hold one either.
    importKey: [CKM_EC_EDWARDS_KEY_PAIR_GEN],
    exportKey: [CKM_EC_EDWARDS_KEY_PAIR_GEN],
    sign: [CKM_EDDSA],
    verify: [CKM_EDDSA],
  },

  ...okpKeyMethods(ed25519),

  async sign(_algorithm, _key, ref, data) {
    requireOkpMechanism(ref.token, CKM_EDDSA, `${NAME} signing`);
    return onToken(`${NAME} signing`, async () =>
      toArrayBuffer(await signOnToken(ref.token, mechanism, ref.handle, data, SIGNATURE_BYTES)),
    );
  },

  async verify(_algorithm, _key, ref, signature, data) {
    requireOkpMechanism(ref.token, CKM_EDDSA, `${NAME} verification`);
    return onToken(`${NAME} verification`, () => verifyOnToken(ref.token, mechanism, ref.handle, data, signature));
  },
};
