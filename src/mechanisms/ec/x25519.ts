import { pkcs11js } from "../../token/pkcs11.js";
import { requireMechanism } from "../common/token-support.js";
import type { AlgorithmProvider } from "../provider.js";
import { deriveBitsWith, deriveKeyWith, type AgreementFamily } from "./ecdh-derive.js";
import { CKM_EC_MONTGOMERY_KEY_PAIR_GEN, requireOkpMechanism, x25519 } from "./okp-curves.js";
import { okpKeyMethods } from "./okp-keys.js";
import { okpUnwrapPoint } from "./okp-key-data.js";

const NAME = "X25519";

/** X25519 for ecdh-derive.ts: Z and both keys are 32 bytes; the peer's u-coordinate goes raw. */
const family: AgreementFamily = {
  name: NAME,
  secretBytes: () => 32,
  requireSupport(token) {
    requireOkpMechanism(token, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, `${NAME} key agreement`);
    requireMechanism(token, pkcs11js.CKM_ECDH1_DERIVE, `${NAME} key agreement`);
  },
  publicDataFromPoint: (point) => okpUnwrapPoint(point),
  publicDataFromJwk: (jwk) => Buffer.from(jwk.x!, "base64url"),
};

/**
 * X25519 on the token: CKK_EC_MONTGOMERY keys (CKM_EC_MONTGOMERY_KEY_PAIR_GEN) and key agreement
 * with CKM_ECDH1_DERIVE, as PKCS#11 3.0 defines them, the same way as ECDH. A token without
 * Montgomery keys (SoftHSM 2.6 lists CKM_ECDH1_DERIVE but has no CKM_EC_MONTGOMERY_KEY_PAIR_GEN)
 * can do none of it: every operation then fails with NotSupportedError naming that mechanism,
 * after Node's argument checks and before any token call.
 */
export const x25519Provider: AlgorithmProvider = {
  name: NAME,
  // Every operation needs Montgomery keys on the token; the generation mechanism is how a token says it has them.
  requires: {
    generateKey: [CKM_EC_MONTGOMERY_KEY_PAIR_GEN],
    importKey: [CKM_EC_MONTGOMERY_KEY_PAIR_GEN],
    exportKey: [CKM_EC_MONTGOMERY_KEY_PAIR_GEN],
    deriveBits: [CKM_EC_MONTGOMERY_KEY_PAIR_GEN],
    deriveKey: [CKM_EC_MONTGOMERY_KEY_PAIR_GEN],
  },

  ...okpKeyMethods(x25519),

  deriveBits(algorithm, baseKey, ref, length) {
    return deriveBitsWith(family, algorithm, baseKey, ref, length);
  },

  deriveKey(algorithm, baseKey, ref, derived) {
    return deriveKeyWith(family, algorithm, baseKey, ref, derived);
  },
};
