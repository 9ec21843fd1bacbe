import { pkcs11js } from "../../token/pkcs11.js";
import type { AlgorithmProvider } from "../provider.js";
import { aesKeyMethods } from "./aes-key.js";

const NAME = "AES-KW";
/** AES-KW keys only wrap and unwrap: Web Crypto gives AES-KW no encrypt or decrypt. */
const USAGES: KeyUsage[] = ["wrapKey", "unwrapKey"];

/** AES-KW keys on the token; wrapping and unwrapping themselves go through C_WrapKey/C_UnwrapKey. */
export const aesKwProvider: AlgorithmProvider = {
  name: NAME,

  ...aesKeyMethods({ name: NAME, jwkSuffix: "KW", usages: USAGES, mechanisms: { wrapKey: [pkcs11js.CKM_AES_KEY_WRAP], unwrapKey: [pkcs11js.CKM_AES_KEY_WRAP] } }),

  // Web Crypto's AES-KW is RFC 3394 (input a multiple of 8 bytes, the default IV): that is
  // CKM_AES_KEY_WRAP, not CKM_AES_KEY_WRAP_PAD (RFC 5649, which pads any length and gives
  // different output even for multiples of 8).
  wrapMechanism() {
    return { mechanism: pkcs11js.CKM_AES_KEY_WRAP };
  },
};
