// Compile-time checks only (npm run typecheck; never run): our SubtleCrypto can stand wherever the
// standard one is expected, and calls written for globalThis.crypto type-check against ours,
// with the storage extensions accepted where keys are made.
import type { Crypto, SubtleCrypto } from "../../src/index.js";

export function asStandard(subtle: SubtleCrypto): globalThis.SubtleCrypto {
  return subtle;
}

export async function writtenForTheStandard(crypto: Crypto, data: Uint8Array<ArrayBuffer>): Promise<void> {
  const pair: CryptoKeyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const rsa: CryptoKeyPair = await crypto.subtle.generateKey(
    { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256", token: true, label: "signer" },
    false,
    ["sign", "verify"],
  );
  const aes: CryptoKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const ed: CryptoKeyPair = await crypto.subtle.generateKey("Ed25519", false, ["sign", "verify"]);
  const imported: CryptoKey = await crypto.subtle.importKey("spki", data, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
  await crypto.subtle.importKey("jwk", { kty: "oct", k: "AAAA" }, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, rsa.privateKey, data);
  await crypto.subtle.encrypt({ name: "AES-GCM", iv: data }, aes, data);
  await crypto.subtle.deriveKey({ name: "ECDH", public: pair.publicKey }, pair.privateKey, { name: "AES-GCM", length: 128 }, false, ["encrypt"]);
  await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: data, info: data }, aes, 256);
  await crypto.subtle.wrapKey("raw", aes, aes, { name: "AES-GCM", iv: data });
  await crypto.subtle.unwrapKey("raw", data, aes, "AES-KW", { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  await crypto.keyStorage.getItem("private-00", { name: "RSA-PSS", hash: "SHA-256" }, ["sign"]);
  await crypto.certStorage.importCert("pem", "", { name: "ECDSA", namedCurve: "P-256" }, ["verify"]);
  void [ed, imported];
}
