// A PDF signed with a key that never leaves the token: pdf-lib writes the PDF, @signpdf adds the
// signature field and fills it, and the CMS inside is built by pkijs on our Crypto. Poppler's
// pdfsig checks the signature, trusting the example CA through an NSS database of its own.
// Run: node examples/pdf-sign.mjs
import { plainAddPlaceholder } from "@signpdf/placeholder-plain";
import { SignPdf } from "@signpdf/signpdf";
import { Signer, SUBFILTER_ADOBE_PKCS7_DETACHED, SUBFILTER_ETSI_CADES_DETACHED } from "@signpdf/utils";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PDFDocument, StandardFonts } from "pdf-lib";
import { certificateDer, generateTokenKeyPair, issueCaCertificate, issueSigningCertificate, keyProfiles } from "./pkijs-certificates.mjs";
import { signDetached } from "./pkijs-cms.mjs";
import { usePkijsEngine } from "./lib/pkijs-engine.mjs";
import { runAsScript } from "./lib/script.mjs";
import { run, slug, toPem } from "./lib/tools.mjs";

/**
 * @signpdf's Signer for a token key: given the PDF's signed byte ranges, it returns a detached CMS
 * SignedData built by pkijs and signed on the token. @signpdf checks `instanceof Signer`, hence
 * the subclass.
 */
export class TokenCmsSigner extends Signer {
  constructor({ engine, privateKey, certificate, chain = [], subFilter = SUBFILTER_ADOBE_PKCS7_DETACHED }) {
    super();
    Object.assign(this, { engine, privateKey, certificate, chain, subFilter });
  }

  async sign(data, signingTime = new Date()) {
    const cms = await signDetached(this.engine, {
      data,
      signer: this.certificate,
      privateKey: this.privateKey,
      certificates: [this.certificate, ...this.chain],
      signingTime,
      cades: this.subFilter === SUBFILTER_ETSI_CADES_DETACHED,
    });
    return Buffer.from(cms);
  }
}

/** A one-page PDF made with pdf-lib, without object streams (@signpdf's plain placeholder needs a classic xref). */
export async function makePdf(text) {
  const pdf = await PDFDocument.create();
  const page = pdf.addPage([595, 842]);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  page.drawText(text, { x: 50, y: 780, size: 14, font });
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

/** An NSS database that trusts `caPem` for e-mail signing, for pdfsig's -nssdir. */
export function nssTrustStore(directory, caPem) {
  mkdirSync(directory, { recursive: true });
  const caPath = join(directory, "ca.pem");
  writeFileSync(caPath, caPem);
  for (const args of [
    ["-N", "-d", `sql:${directory}`, "--empty-password"],
    ["-A", "-d", `sql:${directory}`, "-n", "Example CA", "-t", "C,C,C", "-i", caPath],
  ]) {
    const result = run("certutil", args);
    if (result.status !== 0) throw new Error(`certutil ${args[0]} failed: ${result.output}`);
  }
  return `sql:${directory}`;
}

/** pdfsig's verdict on a signed PDF, with its fields picked out. */
export function checkPdf(pdfPath, nssDirectory) {
  const result = run("pdfsig", nssDirectory ? ["-nssdir", nssDirectory, pdfPath] : [pdfPath]);
  const field = (name) => result.stdout.match(new RegExp(`- ${name}: (.*)`))?.[1]?.trim();
  return {
    ...result,
    signatureValidation: field("Signature Validation"),
    certificateValidation: field("Certificate Validation"),
    signatureType: field("Signature Type"),
    signerName: field("Signer Certificate Common Name"),
    wholeDocument: /Total document signed/.test(result.stdout),
  };
}

/**
 * For each key profile and each of the two PDF signature types (adbe.pkcs7.detached and
 * ETSI.CAdES.detached): a CA and a signing key on the token, the signing certificate, a PDF signed
 * with it, and pdfsig's verdict. Returns the files and pdfsig's answers.
 */
export async function pdfSign({ crypto, workDirectory, log, profiles = keyProfiles, subFilters = [SUBFILTER_ADOBE_PKCS7_DETACHED, SUBFILTER_ETSI_CADES_DETACHED] }) {
  const engine = usePkijsEngine(crypto);
  const results = [];
  for (const profile of profiles) {
    const caKeys = await generateTokenKeyPair(crypto, profile.algorithm);
    const signerKeys = await generateTokenKeyPair(crypto, profile.algorithm);
    const caCertificate = await issueCaCertificate(engine, caKeys, `Example CA (${profile.name})`);
    const certificate = await issueSigningCertificate(engine, { certificate: caCertificate, privateKey: caKeys.privateKey }, signerKeys.publicKey, `Example signer (${profile.name})`);
    const nssDirectory = nssTrustStore(join(workDirectory, `nss-${slug(profile.name)}`), toPem(certificateDer(caCertificate), "CERTIFICATE"));
    log(`${profile.name}: a CA key and a signing key on the token (non-extractable); the CA issued the signing certificate; an NSS database trusts the CA, for pdfsig`);

    for (const subFilter of subFilters) {
      const pdf = await makePdf(`Signed on a PKCS#11 token (${profile.name}, ${subFilter}).`);
      const withPlaceholder = plainAddPlaceholder({
        pdfBuffer: pdf,
        reason: "Approved",
        contactInfo: "signer@example.com",
        name: `Example signer (${profile.name})`,
        location: "SoftHSM",
        subFilter,
      });
      const signer = new TokenCmsSigner({ engine, privateKey: signerKeys.privateKey, certificate, chain: [caCertificate], subFilter });
      const signed = await new SignPdf().sign(withPlaceholder, signer);
      const pdfPath = join(workDirectory, `signed-${slug(profile.name)}-${slug(subFilter)}.pdf`);
      writeFileSync(pdfPath, signed);
      log(`${profile.name}, ${subFilter}: pdf-lib made a PDF, @signpdf added the field, pkijs built the CMS and the token signed it: ${pdfPath}`);

      const check = checkPdf(pdfPath, nssDirectory);
      log(`${profile.name}, ${subFilter}: pdfsig -> ${check.signatureValidation ?? "no signature found"}; ${check.certificateValidation ?? "?"}; type ${check.signatureType ?? "?"}; whole document signed: ${check.wholeDocument}`);
      results.push({ profile, subFilter, pdfPath, nssDirectory, signed, check });
    }
  }
  return results;
}

void runAsScript(import.meta.url, async (context) => {
  const results = await pdfSign(context);
  return results.every(({ check }) => check.status === 0 && check.signatureValidation === "Signature is Valid.");
});
