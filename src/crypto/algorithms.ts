import { ecdsaProvider } from "../mechanisms/ec/ecdsa.js";
import { aesGcmProvider } from "../mechanisms/aes/aes-gcm.js";
import { hmacProvider } from "../mechanisms/hmac/hmac.js";
import type { AlgorithmProvider } from "../mechanisms/provider.js";
import { rsaPssProvider, rsassaProvider } from "../mechanisms/rsa/rsa-signature.js";
import { shaProviders } from "../mechanisms/sha/sha-digest.js";

/** Every algorithm family this library implements, by canonical Web Crypto name. */
export const providers = new Map<string, AlgorithmProvider>(
  [...shaProviders, ecdsaProvider, rsassaProvider, rsaPssProvider, hmacProvider, aesGcmProvider].map((p) => [p.name, p]),
);
