import { createPublicKey } from "node:crypto";
import { dataError, notSupported } from "../webcrypto-errors.js";
import { curveByNodeName } from "../mechanisms/ec/curves.js";

/**
 * The algorithm a certificate's public key gets when the caller names none: what the key's type
 * says (node-webcrypto-p11 always asks for one; certificates carry enough to choose). RSA keys are
 * read as RSASSA-PKCS1-v1_5 with SHA-256, the signature scheme of almost every RSA certificate.
 */
export function defaultSpkiAlgorithm(spki: Buffer): Algorithm & Record<string, unknown> {
  let key;
  try {
    key = createPublicKey({ key: spki, format: "der", type: "spki" });
  } catch (error) {
    throw dataError("The certificate's public key cannot be read", error);
  }
  switch (key.asymmetricKeyType) {
    case "rsa":
      return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    case "rsa-pss":
      return { name: "RSA-PSS", hash: "SHA-256" };
    case "ec": {
      const curve = curveByNodeName(key.asymmetricKeyDetails?.namedCurve);
      if (!curve) throw notSupported(`The certificate's key is on curve ${key.asymmetricKeyDetails?.namedCurve}, which Web Crypto does not have`);
      return { name: "ECDSA", namedCurve: curve.name };
    }
    case "ed25519":
      return { name: "Ed25519" };
    case "x25519":
      return { name: "X25519" };
    default:
      throw notSupported(`The certificate's key type (${key.asymmetricKeyType}) has no Web Crypto algorithm`);
  }
}

/** A certificate's public key as what PKCS#11 stores of it: RSA modulus, or the EC/EdDSA point. */
export function publicKeyFingerprint(spki: Buffer): Buffer | undefined {
  try {
    const jwk = createPublicKey({ key: spki, format: "der", type: "spki" }).export({ format: "jwk" });
    if (jwk.n) return Buffer.from(jwk.n, "base64url");
    if (jwk.kty === "EC") return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    if (jwk.x) return Buffer.from(jwk.x, "base64url");
  } catch {
    // Not a key Node reads: no fingerprint, so no link to a key on the token.
  }
  return undefined;
}
