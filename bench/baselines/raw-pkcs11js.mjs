// The raw pkcs11js baseline: the same operations as bench/lib/operations.mjs, on the same token,
// module instance, key types, key attributes and mechanisms as our Crypto uses, as plain
// synchronous pkcs11js calls on one session (C_SignInit + C_Sign, ...). It is the limit of this
// design: no argument checks, no algorithm normalization, no session pool, no thread hop, no
// copies beyond what the call itself needs.
//
// The module is already loaded and initialized by our Crypto when this opens it: pkcs11js loads
// the same shared library (dlopen returns the same instance), whose C_Initialize answers
// CKR_CRYPTOKI_ALREADY_INITIALIZED. We then use that instance and never C_Finalize it (our Crypto
// owns it); `close()` closes our session and drops our reference to the library.
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const pkcs11js = require("pkcs11js");

const P256_PARAMS = Buffer.from("06082a8648ce3d030107", "hex");
/** The DER prefix of every P-256 SPKI, up to the uncompressed point. */
const P256_SPKI_PREFIX = Buffer.from("3059301306072a8648ce3d020106082a8648ce3d030107034200", "hex");

const attribute = (type, value) => ({ type, value });

/**
 * Key templates as src/keys/key-template.ts makes them for the same Web Crypto call: session
 * objects, CKA_PRIVATE private and secret keys, non-extractable (CKA_SENSITIVE), every usage
 * attribute of the class set explicitly. (SoftHSM keeps the values of CKA_PRIVATE objects
 * encrypted and decrypts them at each Init, so these attributes matter for speed.)
 */
function keyTemplate(type, keyType, usages, id) {
  const c = pkcs11js;
  const wanted = new Set(usages);
  const base = [
    attribute(c.CKA_CLASS, { public: c.CKO_PUBLIC_KEY, private: c.CKO_PRIVATE_KEY, secret: c.CKO_SECRET_KEY }[type]),
    attribute(c.CKA_KEY_TYPE, keyType),
    attribute(c.CKA_TOKEN, false),
    attribute(c.CKA_ID, id),
  ];
  if (type === "public") base.push(attribute(c.CKA_PRIVATE, false));
  else base.push(attribute(c.CKA_PRIVATE, true), attribute(c.CKA_SENSITIVE, true), attribute(c.CKA_EXTRACTABLE, false));
  const usageAttributes = {
    secret: [[c.CKA_ENCRYPT, "encrypt"], [c.CKA_DECRYPT, "decrypt"], [c.CKA_SIGN, "sign"], [c.CKA_VERIFY, "verify"], [c.CKA_WRAP, "wrapKey"], [c.CKA_UNWRAP, "unwrapKey"], [c.CKA_DERIVE, "deriveKey"]],
    private: [[c.CKA_SIGN, "sign"], [c.CKA_DECRYPT, "decrypt"], [c.CKA_UNWRAP, "unwrapKey"], [c.CKA_DERIVE, "deriveKey"]],
    public: [[c.CKA_VERIFY, "verify"], [c.CKA_ENCRYPT, "encrypt"], [c.CKA_WRAP, "wrapKey"]],
  }[type];
  for (const [type_, usage] of usageAttributes) base.push(attribute(type_, wanted.has(usage)));
  return base;
}

export function openRaw({ library, label, pin }) {
  const pkcs11 = new pkcs11js.PKCS11();
  pkcs11.load(library);
  let owns = true;
  try {
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (error?.code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
    owns = false;
  }
  const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === label);
  if (!slot) throw new Error(`raw pkcs11js: no token labelled ${label}`);
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (error) {
    if (error?.code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw error;
  }
  const id = randomBytes(20);
  const s = session;
  const c = pkcs11js;

  const ecKeyPair = () =>
    pkcs11.C_GenerateKeyPair(
      s,
      { mechanism: c.CKM_EC_KEY_PAIR_GEN },
      [...keyTemplate("public", c.CKK_EC, ["verify"], id), attribute(c.CKA_EC_PARAMS, P256_PARAMS)],
      keyTemplate("private", c.CKK_EC, ["sign"], id),
    );
  const rsaKeyPair = () =>
    pkcs11.C_GenerateKeyPair(
      s,
      { mechanism: c.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        ...keyTemplate("public", c.CKK_RSA, ["verify"], id),
        attribute(c.CKA_MODULUS_BITS, 2048),
        attribute(c.CKA_PUBLIC_EXPONENT, Buffer.from([1, 0, 1])),
      ],
      keyTemplate("private", c.CKK_RSA, ["sign"], id),
    );
  const aesKey = () =>
    pkcs11.C_GenerateKey(s, { mechanism: c.CKM_AES_KEY_GEN }, [
      ...keyTemplate("secret", c.CKK_AES, ["encrypt", "decrypt"], id),
      attribute(c.CKA_VALUE_LEN, 32),
    ]);
  const gcm = (iv) => ({ mechanism: c.CKM_AES_GCM, parameter: { type: c.CK_PARAMS_AES_GCM, iv, ivBits: iv.length * 8, tagBits: 128 } });
  const sha256 = (data) => createHash("sha256").update(data).digest();
  const destroyPair = ({ publicKey, privateKey }) => {
    pkcs11.C_DestroyObject(s, publicKey);
    pkcs11.C_DestroyObject(s, privateKey);
  };

  /** Per operation id: makes the keys, returns the synchronous call to time. */
  const setups = {
    "ecdsa-sign": ({ message }) => {
      const { privateKey } = ecKeyPair();
      return () => {
        // As ours: the message is hashed in Node, the token signs the digest with CKM_ECDSA.
        pkcs11.C_SignInit(s, { mechanism: c.CKM_ECDSA }, privateKey);
        return pkcs11.C_Sign(s, sha256(message), Buffer.allocUnsafe(64));
      };
    },
    "ecdsa-verify": ({ message }) => {
      const { privateKey, publicKey } = ecKeyPair();
      pkcs11.C_SignInit(s, { mechanism: c.CKM_ECDSA }, privateKey);
      const signature = pkcs11.C_Sign(s, sha256(message), Buffer.alloc(64));
      const verify = () => {
        pkcs11.C_VerifyInit(s, { mechanism: c.CKM_ECDSA }, publicKey);
        return pkcs11.C_Verify(s, sha256(message), signature);
      };
      if (verify() !== true) throw new Error("raw C_Verify returned false on a valid signature");
      return verify;
    },
    "rsa-sign": ({ message }) => {
      const { privateKey } = rsaKeyPair();
      return () => {
        pkcs11.C_SignInit(s, { mechanism: c.CKM_SHA256_RSA_PKCS }, privateKey);
        return pkcs11.C_Sign(s, message, Buffer.allocUnsafe(256));
      };
    },
    // Key generation destroys each key at once: ours leaves that to its FinalizationRegistry.
    "rsa-keygen": () => () => destroyPair(rsaKeyPair()),
    "ec-keygen": () => () => destroyPair(ecKeyPair()),
    "aes-gcm-1k": ({ message, iv }) => {
      const key = aesKey();
      return () => {
        pkcs11.C_EncryptInit(s, gcm(iv), key);
        return pkcs11.C_Encrypt(s, message, Buffer.allocUnsafe(message.length + 16));
      };
    },
    "aes-gcm-1m": ({ mebibyte, iv }) => {
      const key = aesKey();
      return () => {
        pkcs11.C_EncryptInit(s, gcm(iv), key);
        return pkcs11.C_Encrypt(s, mebibyte, Buffer.allocUnsafe(mebibyte.length + 16));
      };
    },
    "hmac-1k": ({ message }) => {
      const key = pkcs11.C_GenerateKey(s, { mechanism: c.CKM_GENERIC_SECRET_KEY_GEN }, [
        ...keyTemplate("secret", c.CKK_GENERIC_SECRET, ["sign", "verify"], id),
        attribute(c.CKA_VALUE_LEN, 64),
      ]);
      return () => {
        pkcs11.C_SignInit(s, { mechanism: c.CKM_SHA256_HMAC }, key);
        return pkcs11.C_Sign(s, message, Buffer.allocUnsafe(32));
      };
    },
    "sha256-1m": ({ mebibyte }) => () => {
      pkcs11.C_DigestInit(s, { mechanism: c.CKM_SHA256 });
      return pkcs11.C_Digest(s, mebibyte, Buffer.allocUnsafe(32));
    },
    // The point is cut out of the DER at its fixed offset (no parsing, no check that it lies on
    // the curve: ours parses and checks with Node's KeyObject), then C_CreateObject, and the
    // object is destroyed at once.
    "import-spki": ({ spki }) => () => {
      const der = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
      if (der.length !== 91 || !der.subarray(0, 26).equals(P256_SPKI_PREFIX)) throw new Error("not a P-256 SPKI");
      const point = Buffer.concat([Buffer.from([0x04, 0x41]), der.subarray(26)]);
      const handle = pkcs11.C_CreateObject(s, [
        ...keyTemplate("public", c.CKK_EC, ["verify"], id),
        attribute(c.CKA_EC_PARAMS, P256_PARAMS),
        attribute(c.CKA_EC_POINT, point),
      ]);
      pkcs11.C_DestroyObject(s, handle);
    },
  };

  return {
    owns,
    setup(operationId, inputs) {
      const make = setups[operationId];
      if (!make) throw new Error(`raw pkcs11js: no baseline for ${operationId}`);
      return make(inputs);
    },
    /** A synchronous AES-GCM encryption of `data` (for the event-loop lag rows). */
    aesGcmEncryptor(iv) {
      const key = aesKey();
      return (data) => {
        pkcs11.C_EncryptInit(s, gcm(iv), key);
        return pkcs11.C_Encrypt(s, data, Buffer.allocUnsafe(data.length + 16));
      };
    },
    close() {
      // Closing the session destroys the keys made on it (session objects).
      pkcs11.C_CloseSession(s);
      if (owns) pkcs11.C_Finalize();
      pkcs11.close();
    },
  };
}
