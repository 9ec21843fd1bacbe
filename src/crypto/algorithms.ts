// Every algorithm family this library implements, by canonical Web Crypto name.
// One import and one list entry per family; keep them one per line.
import type { AlgorithmProvider } from "../mechanisms/provider.js";
import { shaProviders } from "../mechanisms/sha/sha-digest.js";
import { ecdsaProvider } from "../mechanisms/ec/ecdsa.js";
import { ecdhProvider } from "../mechanisms/ec/ecdh.js";
import { ed25519Provider } from "../mechanisms/ec/ed25519.js";
import { x25519Provider } from "../mechanisms/ec/x25519.js";
import { rsassaProvider, rsaPssProvider } from "../mechanisms/rsa/rsa-signature.js";
import { rsaOaepProvider } from "../mechanisms/rsa/rsa-oaep.js";
import { hmacProvider } from "../mechanisms/hmac/hmac.js";
import { aesGcmProvider } from "../mechanisms/aes/aes-gcm.js";
import { aesCbcProvider } from "../mechanisms/aes/aes-cbc.js";
import { aesCtrProvider } from "../mechanisms/aes/aes-ctr.js";
import { aesKwProvider } from "../mechanisms/aes/aes-kw.js";
import { hkdfProvider } from "../mechanisms/kdf/hkdf.js";
import { pbkdf2Provider } from "../mechanisms/kdf/pbkdf2.js";

const all: AlgorithmProvider[] = [
  ...shaProviders,
  ecdsaProvider,
  ecdhProvider,
  ed25519Provider,
  x25519Provider,
  rsassaProvider,
  rsaPssProvider,
  rsaOaepProvider,
  hmacProvider,
  aesGcmProvider,
  aesCbcProvider,
  aesCtrProvider,
  aesKwProvider,
  hkdfProvider,
  pbkdf2Provider,
];

export const providers = new Map<string, AlgorithmProvider>(all.map((provider) => [provider.name, provider]));
