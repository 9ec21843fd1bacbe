import { stringOption, type Command, type CommandContext, type OptionSpec } from "../command.js";
import { createRequest, createSelfSigned, type SigningInput } from "../certificate-builder.js";
import { EXIT, UsageError } from "../exit-codes.js";
import { oneKey, publicHalf } from "../key-ids.js";
import { printJson, writeResult } from "../output.js";
import { signatureScheme } from "../signature-schemes.js";
import { parseSubject } from "../subject-name.js";

const COMMON_OPTIONS: Record<string, OptionSpec> = {
  key: { type: "string", value: "ID", description: "the signing key: private-<hex>, or the key pair's CKA_ID in hex" },
  "public-key": { type: "string", value: "ID", description: "its public key, when it is not the one with the same CKA_ID" },
  subject: { type: "string", value: "DN", description: 'the subject, e.g. "CN=Alice,O=Example,C=NL" (in this order)' },
  hash: { type: "string", value: "HASH", description: "SHA-256 (default; ECDSA: the curve's size), SHA-384, SHA-512, SHA-1" },
  pss: { type: "boolean", description: "RSA keys: sign with RSA-PSS instead of RSASSA-PKCS1-v1_5" },
  der: { type: "boolean", description: "write DER instead of PEM" },
  out: { type: "string", value: "FILE", description: "write to FILE instead of stdout" },
  store: { type: "boolean", description: "also store the result on the token (certs list shows it)" },
  label: { type: "string", value: "LABEL", description: "CKA_LABEL when stored (default: the subject's common name)" },
};

async function signingInput({ values, connect }: CommandContext): Promise<SigningInput> {
  const keyArgument = stringOption(values, "key");
  const subjectText = stringOption(values, "subject");
  if (keyArgument === undefined) throw new UsageError("--key is required (see keys list)");
  if (subjectText === undefined) throw new UsageError('--subject is required, e.g. --subject "CN=Alice,O=Example"');
  const subject = parseSubject(subjectText);
  const crypto = await connect({ login: true });
  const privateInfo = await oneKey(crypto, keyArgument, ["private"]);
  const scheme = signatureScheme(privateInfo, { hash: stringOption(values, "hash"), pss: values.pss === true });
  if (!scheme.x509) throw new UsageError(`${privateInfo.id} cannot sign certificates`);
  const publicInfo = await publicHalf(crypto, privateInfo, stringOption(values, "public-key"));
  const privateKey = await crypto.keyStorage.getItem(privateInfo.id, scheme.keyAlgorithm as unknown as AlgorithmIdentifier, ["sign"]);
  const publicKey = await crypto.keyStorage.getItem(publicInfo.id, scheme.keyAlgorithm as unknown as AlgorithmIdentifier, []);
  return { subtle: crypto.subtle, privateKey: privateKey!, scheme, subject, spki: await crypto.subtle.exportKey("spki", publicKey!) };
}

async function finish(context: CommandContext, der: Buffer, kind: "x509" | "request"): Promise<number> {
  const { values, json, io } = context;
  const label = kind === "x509" ? "CERTIFICATE" : "CERTIFICATE REQUEST";
  const pem = `-----BEGIN ${label}-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
  let id: string | undefined;
  if (values.store === true) {
    const crypto = await context.connect({ login: true });
    const item = await crypto.certStorage.importCert("raw", new Uint8Array(der));
    const storeLabel = stringOption(values, "label");
    id = await crypto.certStorage.setItem(item, storeLabel === undefined ? {} : { label: storeLabel });
  }
  const out = stringOption(values, "out");
  if (json) {
    if (out !== undefined) writeResult(io, values.der === true ? der : pem, out);
    printJson(io, { ...(id ? { id } : {}), ...(out !== undefined ? { out } : { pem }) });
  } else {
    writeResult(io, values.der === true ? der : pem, out);
    if (id) io.stderr.write(`Stored as ${id}\n`);
  }
  return EXIT.ok;
}

const csr: Command = {
  name: "csr",
  summary: "create a PKCS#10 certificate request signed by a token key",
  usage: "--key ID --subject DN",
  description: "The request is signed on the token; its public key is the key pair's public key.",
  options: COMMON_OPTIONS,
  args: { min: 0, max: 0 },
  connection: "token",
  async run(context) {
    return finish(context, await createRequest(await signingInput(context)), "request");
  },
};

const selfSigned: Command = {
  name: "self-signed",
  summary: "create a self-signed X.509 certificate for a token key",
  usage: "--key ID --subject DN [--days N]",
  description: "A v3 root certificate (basicConstraints cA, keyUsage digitalSignature, keyCertSign, cRLSign),\nvalid from a minute ago for --days days, with a random serial number, signed on the token.",
  options: { ...COMMON_OPTIONS, days: { type: "string", value: "N", description: "validity in days (default 365)" } },
  args: { min: 0, max: 0 },
  connection: "token",
  async run(context) {
    const daysText = stringOption(context.values, "days") ?? "365";
    if (!/^\d+$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > 36500) throw new UsageError("--days is a whole number of days, 1 to 36500");
    const input = await signingInput(context);
    return finish(context, await createSelfSigned({ ...input, days: Number(daysText) }), "x509");
  },
};

export const pkiCommands: readonly Command[] = [csr, selfSigned];
