// Password-based JSON Web Encryption with jose on our Crypto: PBES2-HS256+A128KW derives a
// key-wrapping key from a password with PBKDF2 (in Node's crypto: the password is already in
// JavaScript), creates it as an AES-KW key on the token, and wraps the content key with it on the
// token; the content is encrypted with AES-GCM or AES-CBC + HMAC on the token. jose on Node's own
// crypto decrypts what ours encrypted, and the other way round.
// Run: node examples/jose-pbes2.mjs
import * as jose from "jose";
import { withGlobalCrypto } from "./lib/global-crypto.mjs";
import { runAsScript } from "./lib/script.mjs";

export const contentEncryptions = ["A128GCM", "A128CBC-HS256"];
const alg = "PBES2-HS256+A128KW";

/**
 * For each content encryption: a JWE encrypted with a password on our Crypto, decrypted on ours
 * and on Node's; a JWE encrypted on Node's, decrypted on ours. Returns the JWEs and the plaintexts.
 */
export async function josePbes2({ crypto, log, password = "correct horse battery staple", encodings = contentEncryptions }) {
  const secret = new TextEncoder().encode(password);
  const message = `A secret note, encrypted ${new Date().toISOString()}`;
  const results = [];
  for (const enc of encodings) {
    // jose calls the global crypto: ours while it encrypts and decrypts.
    const { jwe, onToken } = await withGlobalCrypto(crypto, async () => {
      const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(message))
        .setProtectedHeader({ alg, enc })
        .setKeyManagementParameters({ p2c: 10_000 })
        .encrypt(secret);
      const onToken = await jose.compactDecrypt(jwe, secret, { keyManagementAlgorithms: [alg] });
      return { jwe, onToken };
    });
    const header = jose.decodeProtectedHeader(jwe);
    log(`${enc}: jose encrypted a note with ${alg} on our Crypto (p2c ${header.p2c}, salt ${header.p2s}): ${jwe.slice(0, 40)}...`);
    log(`${enc}: jose decrypted it on our Crypto: "${new TextDecoder().decode(onToken.plaintext)}"`);

    const onNode = await jose.compactDecrypt(jwe, secret, { keyManagementAlgorithms: [alg] });
    log(`${enc}: jose on Node's own crypto decrypted it too: "${new TextDecoder().decode(onNode.plaintext)}"`);

    const fromNode = await new jose.CompactEncrypt(new TextEncoder().encode(`${message} (from Node)`))
      .setProtectedHeader({ alg, enc })
      .setKeyManagementParameters({ p2c: 10_000 })
      .encrypt(secret);
    const nodeOnToken = await withGlobalCrypto(crypto, () => jose.compactDecrypt(fromNode, secret, { keyManagementAlgorithms: [alg] }));
    log(`${enc}: jose on Node's crypto encrypted another; ours decrypted it: "${new TextDecoder().decode(nodeOnToken.plaintext)}"`);
    results.push({ enc, message, jwe, onToken, onNode, fromNode, nodeOnToken });
  }
  return results;
}

void runAsScript(import.meta.url, async (context) => {
  const results = await josePbes2(context);
  return results.length === contentEncryptions.length;
});
