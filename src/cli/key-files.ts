import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { UsageError } from "./exit-codes.js";

/**
 * A key read from a file for `keys import`: PEM (PKCS#8, SPKI, and the older RSA/EC private key
 * blocks), DER (PKCS#8 or SPKI), or a JWK. Node's crypto parses the asymmetric kinds, so each is
 * handed to the token as PKCS#8 or SPKI; a secret JWK (kty "oct") is imported as a JWK.
 */
export type KeyFile =
  | { kind: "private" | "public"; type: "rsa" | "ec" | "ed25519" | "x25519"; curve?: string; pkcs8?: Buffer; spki: Buffer }
  | { kind: "secret"; jwk: JsonWebKey };

const NODE_CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

export function readKeyFile(path: string): KeyFile {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    throw new UsageError(`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  const text = data.toString("latin1");
  // Messages below never include the file's content or the parser's message: both may carry key material.
  const unreadable = () => new UsageError(`${path}: not a key in PEM (PKCS#8, SPKI), DER or JWK form`);
  if (/^\s*\{/.test(text)) {
    let jwk: JsonWebKey;
    try {
      jwk = JSON.parse(data.toString("utf8"));
    } catch {
      throw new UsageError(`${path}: not valid JSON`);
    }
    if (jwk.kty === "oct") return { kind: "secret", jwk };
    try {
      return fromKeyObject(jwk.d !== undefined ? createPrivateKey({ key: jwk as never, format: "jwk" }) : createPublicKey({ key: jwk as never, format: "jwk" }), path);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw unreadable();
    }
  }
  if (text.includes("-----BEGIN")) {
    if (/ENCRYPTED/.test(text)) throw new UsageError(`${path}: an encrypted private key; decrypt it first (openssl pkcs8 -in ... -out ...)`);
    if (/-----BEGIN (CERTIFICATE|X509 CERTIFICATE|CERTIFICATE REQUEST)-----/.test(text)) throw new UsageError(`${path}: a certificate or request; use "certs import"`);
    try {
      return fromKeyObject(/PRIVATE KEY-----/.test(text) ? createPrivateKey(text) : createPublicKey(text), path);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw unreadable();
    }
  }
  // DER says nothing about its structure: try PKCS#8 and SPKI, then the older RSA (PKCS#1) and EC (SEC 1) forms.
  const attempts = [
    () => createPrivateKey({ key: data, format: "der", type: "pkcs8" }),
    () => createPublicKey({ key: data, format: "der", type: "spki" }),
    () => createPrivateKey({ key: data, format: "der", type: "pkcs1" }),
    () => createPrivateKey({ key: data, format: "der", type: "sec1" }),
    () => createPublicKey({ key: data, format: "der", type: "pkcs1" }),
  ];
  for (const attempt of attempts) {
    let key: KeyObject;
    try {
      key = attempt();
    } catch {
      continue;
    }
    return fromKeyObject(key, path);
  }
  throw unreadable();
}

function fromKeyObject(key: KeyObject, path: string): KeyFile {
  const type = key.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec" && type !== "ed25519" && type !== "x25519") {
    throw new UsageError(`${path}: a ${type ?? "secret"} key, which Web Crypto cannot import${type === "rsa-pss" ? " (an RSA-PSS-only key: convert it to a plain RSA key)" : ""}`);
  }
  let curve: string | undefined;
  if (type === "ec") {
    const named = key.asymmetricKeyDetails?.namedCurve ?? "";
    curve = NODE_CURVES[named];
    if (!curve) throw new UsageError(`${path}: an EC key on curve ${named}, not P-256, P-384 or P-521`);
  }
  const isPrivate = key.type === "private";
  const publicKey = isPrivate ? createPublicKey(key) : key;
  return {
    kind: isPrivate ? "private" : "public",
    type,
    curve,
    pkcs8: isPrivate ? (key.export({ format: "der", type: "pkcs8" }) as Buffer) : undefined,
    spki: publicKey.export({ format: "der", type: "spki" }) as Buffer,
  };
}

/** RFC 5280's key identifier (SHA-1 of the public key bits): the CKA_ID certStorage gives a certificate whose key is not on the token, so a key imported later links to it. */
export function keyIdentifier(spki: Buffer): string {
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  return createHash("sha1").update(Buffer.from(info.subjectPublicKey)).digest("hex");
}
