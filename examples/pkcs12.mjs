// Password-protected PKCS#12 (.p12/.pfx) files with pkijs on our Crypto: PBKDF2 (derived in
// Node's crypto from the password, which is in JavaScript anyway), AES-256-CBC and the HMAC
// integrity check all go through our SubtleCrypto, the ciphers and the MAC on the token. We write
// one that OpenSSL reads, and read one that OpenSSL wrote, whose key we then put on the token as
// non-extractable.
// A key inside a PKCS#12 file is key material in a file by design: the key we write is generated
// extractable on purpose. What this shows is password-based encryption working on a token.
// Run: node examples/pkcs12.mjs
import * as asn1js from "asn1js";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pkijs from "pkijs";
import { certificateDer, issueCaCertificate } from "./pkijs-certificates.mjs";
import { usePkijsEngine } from "./lib/pkijs-engine.mjs";
import { runAsScript } from "./lib/script.mjs";
import { lastLine, run, toPem } from "./lib/tools.mjs";

const OID = {
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
};

const passwordBased = (password) => ({
  password,
  contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 },
  hmacHashAlgorithm: "SHA-256", // PBKDF2's PRF
  iterationCount: 2048,
});

function bagAttributes(localKeyId, name) {
  return [
    new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: name })] }),
    new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: localKeyId })] }),
  ];
}

/**
 * A PKCS#12 file (DER) holding `pkcs8` (shrouded with PBES2: PBKDF2-SHA256 + AES-256-CBC) and
 * `certificate` (in a PBES2-encrypted SafeContents), with an HMAC-SHA256 integrity check, all with
 * `password`, as OpenSSL 3 writes them by default.
 */
export async function writePkcs12(engine, { pkcs8, certificate, password, name = "example" }) {
  const passwordBytes = new TextEncoder().encode(password).buffer;
  const localKeyId = engine.crypto.getRandomValues(new Uint8Array(8)).buffer;
  const privateKeyInfo = pkijs.PrivateKeyInfo.fromBER(pkcs8);
  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0, // password-based integrity (HMAC)
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            {
              privacyMode: 0, // the key bag is shrouded on its own
              value: new pkijs.SafeContents({
                safeBags: [new pkijs.SafeBag({ bagId: OID.shroudedKeyBag, bagValue: new pkijs.PKCS8ShroudedKeyBag({ parsedValue: privateKeyInfo }), bagAttributes: bagAttributes(localKeyId, name) })],
              }),
            },
            {
              privacyMode: 1, // password-based encryption of the whole SafeContents
              value: new pkijs.SafeContents({
                safeBags: [new pkijs.SafeBag({ bagId: OID.certBag, bagValue: new pkijs.CertBag({ parsedValue: certificate }), bagAttributes: bagAttributes(localKeyId, name) })],
              }),
            },
          ],
        },
      }),
    },
  });
  const safeContents = pfx.parsedValue.authenticatedSafe.parsedValue.safeContents;
  await safeContents[0].value.safeBags[0].bagValue.makeInternalValues(passwordBased(passwordBytes), engine);
  await pfx.parsedValue.authenticatedSafe.makeInternalValues({ safeContents: [{}, passwordBased(passwordBytes)] }, engine);
  await pfx.makeInternalValues({ password: passwordBytes, iterations: 2048, pbkdf2HashAlgorithm: "SHA-256", hmacHashAlgorithm: "SHA-256" }, engine);
  return new Uint8Array(pfx.toSchema().toBER(false));
}

/**
 * Opens a PKCS#12 file with `password`: checks its HMAC (a wrong password fails here), decrypts
 * its SafeContents and shrouded keys. Returns { privateKeys: PKCS#8 DER[], certificates: pkijs.Certificate[] }.
 */
export async function readPkcs12(engine, der, password) {
  const passwordBytes = new TextEncoder().encode(password).buffer;
  const pfx = pkijs.PFX.fromBER(der);
  await pfx.parseInternalValues({ password: passwordBytes, checkIntegrity: true }, engine);
  const authenticatedSafe = pfx.parsedValue.authenticatedSafe;
  const count = authenticatedSafe.safeContents.length;
  await authenticatedSafe.parseInternalValues({ safeContents: Array.from({ length: count }, () => ({ password: passwordBytes })) }, engine);
  const privateKeys = [];
  const certificates = [];
  for (const { value } of authenticatedSafe.parsedValue.safeContents) {
    for (const bag of value.safeBags) {
      if (bag.bagId === OID.shroudedKeyBag) {
        await bag.bagValue.parseInternalValues({ password: passwordBytes }, engine);
        privateKeys.push(new Uint8Array(bag.bagValue.parsedValue.toSchema().toBER(false)));
      } else if (bag.bagId === OID.certBag && bag.bagValue.certId === OID.x509Certificate) {
        certificates.push(bag.bagValue.parsedValue);
      }
    }
  }
  return { privateKeys, certificates };
}

/**
 * Writes ours.p12 and has OpenSSL read it; has OpenSSL write openssl.p12 and reads it, then imports
 * its key onto the token (non-extractable) and signs with it. Returns the files and the answers.
 */
export async function pkcs12({ crypto, workDirectory, log, password = "p12 example password" }) {
  const engine = usePkijsEngine(crypto);
  const ecdsa = { name: "ECDSA", namedCurve: "P-256" };
  const pass = `pass:${password}`;

  // 1. We write, OpenSSL reads.
  const keys = await crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]);
  const certificate = await issueCaCertificate(engine, keys, "PKCS#12 example");
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  log("Generated an extractable ECDSA key on the token (a PKCS#12 file carries the key itself) and a self-signed certificate for it");
  const ours = await writePkcs12(engine, { pkcs8, certificate, password });
  const oursPath = join(workDirectory, "ours.p12");
  writeFileSync(oursPath, ours);
  log(`pkijs wrote ${oursPath} on our Crypto: PBKDF2-SHA256 + AES-256-CBC for the key and the certificate, HMAC-SHA256 over it all`);

  const info = run("openssl", ["pkcs12", "-in", oursPath, "-passin", pass, "-info", "-noout"]);
  log(`openssl pkcs12 -info: ${info.output.split("\n").filter((line) => /MAC:|PBES2|Shrouded|Certificate bag/.test(line)).join("; ")}`);
  const certificatesOut = run("openssl", ["pkcs12", "-in", oursPath, "-passin", pass, "-nokeys"]);
  const keysOut = run("openssl", ["pkcs12", "-in", oursPath, "-passin", pass, "-nocerts", "-nodes"]);
  // The public half of the key OpenSSL took out of the file, to compare with the token key's.
  const keyPublic = run("openssl", ["pkey", "-pubout"], { input: keysOut.stdout });
  const opensslSpki = Buffer.from(keyPublic.stdout.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const certificateMatches = certificatesOut.stdout.includes(toPem(certificateDer(certificate), "CERTIFICATE").trim());
  const keyMatches = keyPublic.status === 0 && Buffer.from(spki).equals(opensslSpki);
  log(`openssl pkcs12 -nokeys read our certificate: ${certificatesOut.status === 0 && certificateMatches ? "the same certificate" : `FAILED (${lastLine(certificatesOut)})`}`);
  log(`openssl pkcs12 -nocerts read our key: ${keysOut.status === 0 && keyPublic.status === 0 && keyMatches ? "its public key is the token key's" : `FAILED (${lastLine(keysOut)})`}`);
  const wrongPassword = run("openssl", ["pkcs12", "-in", oursPath, "-passin", "pass:not the password", "-nokeys"]);
  log(`openssl pkcs12 with a wrong password: exit status ${wrongPassword.status} (${lastLine(wrongPassword)})`);

  // 2. OpenSSL writes, we read.
  const keyPath = join(workDirectory, "openssl-key.pem");
  const certificatePath = join(workDirectory, "openssl-cert.pem");
  const opensslPath = join(workDirectory, "openssl.p12");
  const made = [
    run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", certificatePath, "-subj", "/CN=OpenSSL PKCS#12 example", "-days", "30"]),
    run("openssl", ["pkcs12", "-export", "-inkey", keyPath, "-in", certificatePath, "-name", "from-openssl", "-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC", "-macalg", "sha256", "-passout", pass, "-out", opensslPath]),
  ];
  if (made.some((result) => result.status !== 0)) throw new Error(`openssl could not write a PKCS#12 file: ${made.map((result) => result.output).join("\n")}`);
  log(`OpenSSL wrote ${opensslPath} (openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256)`);
  const read = await readPkcs12(engine, readFileSync(opensslPath), password);
  log(`pkijs read it on our Crypto: MAC checked, ${read.privateKeys.length} key and ${read.certificates.length} certificate decrypted (${read.certificates[0]?.subject.typesAndValues.map((t) => t.value.valueBlock.value).join(", ")})`);
  const tokenKey = await crypto.subtle.importKey("pkcs8", read.privateKeys[0], ecdsa, false, ["sign"]);
  const message = new TextEncoder().encode("signed with the key from OpenSSL's PKCS#12 file, now on the token");
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, tokenKey, message);
  const certificatePublicKey = await globalThis.crypto.subtle.importKey("spki", read.certificates[0].subjectPublicKeyInfo.toSchema().toBER(false), ecdsa, false, ["verify"]);
  const signatureValid = await globalThis.crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, certificatePublicKey, signature, message);
  log(`Imported that key onto the token as non-extractable (extractable: ${tokenKey.extractable}) and signed; Node verified with the certificate's public key: ${signatureValid ? "valid" : "INVALID"}`);

  let wrongPasswordError;
  try {
    await readPkcs12(engine, readFileSync(opensslPath), "not the password");
  } catch (error) {
    wrongPasswordError = error;
  }
  log(`pkijs with a wrong password: ${wrongPasswordError ? `refused (${wrongPasswordError.message})` : "ACCEPTED (wrong!)"}`);

  return { oursPath, ours, spki, certificate, info, certificatesOut, keysOut, certificateMatches, keyMatches, wrongPassword, opensslPath, read, tokenKey, signatureValid, wrongPasswordError };
}

void runAsScript(import.meta.url, async (context) => {
  const result = await pkcs12(context);
  return result.certificateMatches && result.keyMatches && result.signatureValid && result.wrongPassword.status !== 0 && Boolean(result.wrongPasswordError);
});
