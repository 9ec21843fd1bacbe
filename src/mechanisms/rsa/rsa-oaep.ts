import { createPublicKey, publicEncrypt } from "node:crypto";
import type { KeyObjectRef } from "../../keys/crypto-key.js";
import { decryptOnToken, encryptOnToken, readAttributes } from "../../token/operations.js";
import { pkcs11js, type Mechanism } from "../../token/pkcs11.js";
import { ckrOf, toTokenError, type TokenError } from "../../token/token-error.js";
import type { Token } from "../../token/token.js";
import { notSupported, operationError } from "../../webcrypto-errors.js";
import type { HashInfo } from "../common/hashes.js";
import { onToken, requireMechanism, toArrayBuffer } from "../common/token-support.js";
import type { AlgorithmProvider, NormalizedAlgorithm } from "../provider.js";
import { rsaAttributeTypes, rsaPartsFromAttributes } from "./rsa-key-data.js";
import { exportRsaKey, generateRsaKeyPair, importRsaKey, rsaKeyHash, rsaModulusBytes, type RsaFamily } from "./rsa-keys.js";

const NAME = "RSA-OAEP";
const OAEP = pkcs11js.CKM_RSA_PKCS_OAEP;
/** PKCS#11's CKZ_DATA_SPECIFIED (pkcs11js exports no CKZ_* constant): the label is pSourceData. */
const CKZ_DATA_SPECIFIED = 0x00000001;

const family: RsaFamily = {
  name: NAME,
  privateUsages: ["decrypt", "unwrapKey"],
  publicUsages: ["encrypt", "wrapKey"],
  jwkUse: "enc",
  jwkAlg: (hash) => (hash.name === "SHA-1" ? "RSA-OAEP" : `RSA-OAEP-${hash.jwkSuffix}`),
};

/** The label of RsaOaepParams, if a non-empty one was given (OAEP's default label is the empty string). */
function labelOf(algorithm: NormalizedAlgorithm): Buffer | undefined {
  const label = algorithm.label as Uint8Array | undefined;
  return label && label.length > 0 ? Buffer.from(label) : undefined;
}

/**
 * CKM_RSA_PKCS_OAEP with the key's hash for both the digest and MGF1, as Web Crypto defines
 * RSA-OAEP. An empty label is passed as none: the same label, and what tokens that support no
 * labels at all (SoftHSM 2.6) accept.
 */
function oaepMechanism(hash: HashInfo, label: Buffer | undefined): Mechanism {
  const parameter: pkcs11js.RsaOAEP = { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: hash.digest, mgf: hash.mgf1, source: CKZ_DATA_SPECIFIED };
  // pkcs11js reads sourceData when the member exists at all, so it is only set with a value.
  if (label) parameter.sourceData = label;
  return { mechanism: OAEP, parameter };
}

/**
 * Our parameters are well formed, so a token that answers C_EncryptInit or C_DecryptInit with
 * CKR_ARGUMENTS_BAD or CKR_MECHANISM_PARAM_INVALID lacks OAEP with this hash or with a label
 * (SoftHSM 2.6 does only SHA-1 without a label): NotSupportedError, as for a missing mechanism.
 */
function refusedParameters(error: unknown): boolean {
  const method = (error as { method?: string }).method;
  const code = ckrOf(error);
  return (method === "C_EncryptInit" || method === "C_DecryptInit") &&
    (code === pkcs11js.CKR_ARGUMENTS_BAD || code === pkcs11js.CKR_MECHANISM_PARAM_INVALID);
}

async function onOaepToken<T>(doing: string, token: Token, hash: HashInfo, label: Buffer | undefined, work: () => Promise<T>): Promise<T> {
  return onToken(doing, async () => {
    try {
      return await work();
    } catch (error) {
      if (!refusedParameters(error)) throw error;
      const what = `${doing} with ${hash.name}${label ? " and a label" : ""}`;
      const tokenError = toTokenError(error, doing);
      throw notSupported(`${what} is not supported by token "${token.label}": it refuses these ${NAME} parameters (${tokenError.code})`, tokenError);
    }
  });
}

/**
 * Whether the token checks OAEP labels when it decrypts, found once per token and hash. SoftHSM 2.6
 * accepts a label in C_DecryptInit and then decrypts with the empty label, so a ciphertext made
 * without the label decrypts where Web Crypto requires failure. So before a token first decrypts
 * with a label, it is shown a ciphertext that Node made with the key's public half and the empty
 * label (what a token that drops the label uses): a token that decrypts it is not trusted with labels.
 */
const labelChecks = new WeakMap<Token, Map<number, boolean>>();

async function checksLabels(ref: KeyObjectRef, hash: HashInfo, mechanism: Mechanism, modulusBytes: number): Promise<boolean> {
  const known = labelChecks.get(ref.token) ?? new Map<number, boolean>();
  labelChecks.set(ref.token, known);
  const cached = known.get(hash.digest);
  if (cached !== undefined) return cached;
  const { n, e } = rsaPartsFromAttributes(readAttributes(ref.token, ref.handle, rsaAttributeTypes("public")));
  const publicKey = createPublicKey({ key: { kty: "RSA", n, e }, format: "jwk" });
  const probe = publicEncrypt({ key: publicKey, oaepHash: hash.node }, Buffer.of(0));
  let checks: boolean;
  try {
    await decryptOnToken(ref.token, mechanism, ref.handle, probe, modulusBytes);
    checks = false;
  } catch (error) {
    // Only a failure of the decryption itself is an answer; anything else (the token refusing the
    // parameters, a lost session) is passed on and nothing is remembered.
    if ((error as TokenError).method !== "C_Decrypt") throw error;
    checks = true;
  }
  known.set(hash.digest, checks);
  return checks;
}

/** RSA-OAEP with the key on the token: C_Encrypt/C_Decrypt with CKM_RSA_PKCS_OAEP on a worker thread. */
export const rsaOaepProvider: AlgorithmProvider = {
  name: NAME,
  requires: {
    generateKey: [pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN],
    importKey: [],
    exportKey: [],
    encrypt: [OAEP],
    decrypt: [OAEP],
  },

  generateKey: (token, request) => generateRsaKeyPair(token, family, request),
  importKey: (token, format, keyData, request) => importRsaKey(token, family, format, keyData, request),
  exportKey: (format, key, ref) => exportRsaKey(family, format, key, ref),

  async encrypt(algorithm, key, ref, data) {
    const hash = rsaKeyHash(key);
    const modulusBytes = rsaModulusBytes(key);
    // RFC 8017 7.1.1: at most k - 2hLen - 2 bytes. Checked here so that every token answers as Node.
    if (data.length > modulusBytes - 2 * hash.length - 2) throw operationError(`The data is too long for ${NAME} with this key and ${hash.name}`);
    requireMechanism(ref.token, OAEP, `${NAME} encryption`);
    const label = labelOf(algorithm);
    const mechanism = oaepMechanism(hash, label);
    return onOaepToken(`${NAME} encryption`, ref.token, hash, label, async () =>
      toArrayBuffer(await encryptOnToken(ref.token, mechanism, ref.handle, data, modulusBytes)),
    );
  },

  async decrypt(algorithm, key, ref, data) {
    const hash = rsaKeyHash(key);
    const modulusBytes = rsaModulusBytes(key);
    // A ciphertext is exactly k bytes (RFC 8017 7.1.2); Node fails on any other length too.
    if (data.length !== modulusBytes) throw operationError(`An ${NAME} ciphertext for this key is ${modulusBytes} bytes long`);
    requireMechanism(ref.token, OAEP, `${NAME} decryption`);
    const label = labelOf(algorithm);
    const mechanism = oaepMechanism(hash, label);
    const doing = `${NAME} decryption`;
    return onOaepToken(doing, ref.token, hash, label, async () => {
      if (label && !(await checksLabels(ref, hash, mechanism, modulusBytes))) {
        throw notSupported(`${doing} with a label is not supported by token "${ref.token.label}": it ignores OAEP labels`);
      }
      return toArrayBuffer(await decryptOnToken(ref.token, mechanism, ref.handle, data, modulusBytes));
    });
  },

  /** For C_WrapKey/C_UnwrapKey: the hash is the key's, the label the algorithm's. */
  wrapMechanism: (algorithm, key) => oaepMechanism(rsaKeyHash(key), labelOf(algorithm)),
};
