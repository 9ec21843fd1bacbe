// JSON Web Tokens signed by token keys with jose: ES256, ES384, RS256, PS256. Each token is then
// verified by jose twice: on our Crypto with the token's public key, and on Node's own crypto with
// the public key exported as SPKI (what a relying party that knows nothing of the token does).
// Run: node examples/jose-jwt.mjs
import * as jose from "jose";
import { withGlobalCrypto } from "./lib/global-crypto.mjs";
import { runAsScript } from "./lib/script.mjs";
import { toPem } from "./lib/tools.mjs";

const rsa = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

/** JWS algorithms and the Web Crypto key each needs. */
export const jwtProfiles = [
  { alg: "ES256", algorithm: { name: "ECDSA", namedCurve: "P-256" } },
  { alg: "ES384", algorithm: { name: "ECDSA", namedCurve: "P-384" } },
  { alg: "RS256", algorithm: { name: "RSASSA-PKCS1-v1_5", ...rsa } },
  { alg: "PS256", algorithm: { name: "RSA-PSS", ...rsa } },
];

const issuer = "urn:example:token-signer";
const audience = "urn:example:relying-party";

/**
 * For each profile: a key pair on the token (private key non-extractable), a JWT signed with it,
 * and jose's verifications. Returns the JWTs, the public keys as PEM and the verified payloads.
 */
export async function joseJwt({ crypto, log, profiles = jwtProfiles }) {
  const results = [];
  for (const { alg, algorithm } of profiles) {
    const { privateKey, publicKey } = await crypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
    log(`${alg}: generated a ${algorithm.name} key pair on the token (private key extractable: ${privateKey.extractable})`);

    // jose calls the global crypto: ours while it signs and verifies with token keys.
    const { jwt, onToken } = await withGlobalCrypto(crypto, async () => {
      const jwt = await new jose.SignJWT({ scope: "documents:sign" })
        .setProtectedHeader({ alg, typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject("alice")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey);
      const onToken = await jose.jwtVerify(jwt, publicKey, { issuer, audience, algorithms: [alg] });
      return { jwt, onToken };
    });
    log(`${alg}: jose signed a JWT with the token key (globalThis.crypto = our Crypto for the call): ${jwt.slice(0, 40)}...`);
    log(`${alg}: jose verified it on our Crypto with the token's public key: subject ${onToken.payload.sub}`);

    // Back on Node's own crypto: only the public key crosses over, as SPKI PEM.
    const publicKeyPem = toPem(await crypto.subtle.exportKey("spki", publicKey), "PUBLIC KEY");
    const verified = await verifyWithNodeCrypto(jwt, publicKeyPem, alg);
    log(`${alg}: jose on Node's own crypto verified it with the exported public key: issuer ${verified.payload.iss}, scope ${verified.payload.scope}`);
    results.push({ alg, privateKey, publicKey, jwt, publicKeyPem, onToken, verified });
  }
  return results;
}

/** What a relying party does: jose on Node's own crypto, with the public key from PEM. */
export async function verifyWithNodeCrypto(jwt, publicKeyPem, alg) {
  const key = await jose.importSPKI(publicKeyPem, alg);
  return jose.jwtVerify(jwt, key, { issuer, audience, algorithms: [alg] });
}

void runAsScript(import.meta.url, async (context) => {
  const results = await joseJwt(context);
  return results.length === jwtProfiles.length;
});
