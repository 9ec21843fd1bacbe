// An XML document signed (XML-DSig, enveloped signature) by xmldsigjs with a key that never
// leaves the token, then verified by xmlsec1 with the public key as PEM.
// Run: node examples/xmldsig.mjs
import * as xmldom from "@xmldom/xmldom";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setNodeDependencies } from "xml-core";
import * as xmldsig from "xmldsigjs";
import xpath from "xpath";
import { runAsScript } from "./lib/script.mjs";
import { lastLine, run, slug, toPem } from "./lib/tools.mjs";

// In Node, xmldsigjs's XML layer (xml-core) needs a DOM and XPath registered. xmldsigjs's README
// says to import setNodeDependencies from "xmldsigjs", but 2.8.8 does not re-export it: it comes
// from xml-core, xmldsigjs's own dependency.
setNodeDependencies({ DOMParser: xmldom.DOMParser, XMLSerializer: xmldom.XMLSerializer, DOMImplementation: xmldom.DOMImplementation, xpath });

export const xmlProfiles = [
  { name: "RSASSA-PKCS1-v1_5 2048", algorithm: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, signing: { name: "RSASSA-PKCS1-v1_5" } },
  { name: "ECDSA P-256", algorithm: { name: "ECDSA", namedCurve: "P-256" }, signing: { name: "ECDSA", hash: "SHA-256" } },
];

export const invoiceXml = `<?xml version="1.0" encoding="UTF-8"?>
<invoice xmlns="urn:example:invoice" number="2024-0042">
  <customer>Example Ltd</customer>
  <line item="PKCS#11 consulting" amount="1200.00" currency="EUR"/>
  <total currency="EUR">1200.00</total>
</invoice>`;

/**
 * For each profile: a key pair on the token (private key non-extractable), the invoice signed with
 * an enveloped XML-DSig signature, and `xmlsec1 --verify` with the public key as PEM. Returns the
 * files and xmlsec1's answers.
 */
export async function xmlSignature({ crypto, workDirectory, log, profiles = xmlProfiles }) {
  xmldsig.Application.setEngine("pkcs11-webcrypto", crypto);
  log('Made our Crypto xmldsigjs\'s engine (xmldsig.Application.setEngine("pkcs11-webcrypto", crypto))');
  const results = [];
  for (const profile of profiles) {
    const { privateKey, publicKey } = await crypto.subtle.generateKey(profile.algorithm, false, ["sign", "verify"]);
    log(`${profile.name}: generated a key pair on the token (private key extractable: ${privateKey.extractable})`);

    const document = xmldsig.Parse(invoiceXml);
    const signedXml = new xmldsig.SignedXml();
    // No <KeyInfo>: a verifier that took the key from the document itself (xmlsec1 does, from a
    // <KeyValue>) would prove only that the document is intact, not who signed it. The verifier
    // gets the public key separately, as PEM.
    await signedXml.Sign(profile.signing, privateKey, document, {
      references: [{ hash: "SHA-256", transforms: ["enveloped", "exc-c14n"] }],
    });
    document.documentElement.appendChild(signedXml.GetXml());
    const signedPath = join(workDirectory, `invoice-${slug(profile.name)}.signed.xml`);
    writeFileSync(signedPath, xmldsig.Stringify(document));
    log(`${profile.name}: xmldsigjs signed the invoice on the token (enveloped, exc-c14n, SHA-256): ${signedPath}`);

    const publicKeyPath = join(workDirectory, `invoice-${slug(profile.name)}.pub.pem`);
    writeFileSync(publicKeyPath, toPem(await crypto.subtle.exportKey("spki", publicKey), "PUBLIC KEY"));
    const check = verifyXml(signedPath, publicKeyPath);
    log(`${profile.name}: xmlsec1 --verify --pubkey-pem key.pem invoice.signed.xml -> ${check.status === 0 ? "OK" : lastLine(check)}`);
    results.push({ profile, privateKey, publicKey, signedPath, publicKeyPath, check });
  }
  return results;
}

/** `xmlsec1 --verify` with the given public key (and nothing else trusted). */
export function verifyXml(signedPath, publicKeyPath) {
  return run("xmlsec1", ["--verify", "--pubkey-pem", publicKeyPath, signedPath]);
}

void runAsScript(import.meta.url, async (context) => {
  const results = await xmlSignature(context);
  return results.every(({ check }) => check.status === 0);
});
