import { readFileSync } from "node:fs";
import { stringOption, type Command, type OptionSpec, type OptionValues } from "../command.js";
import { EXIT, UsageError } from "../exit-codes.js";
import { oneKey } from "../key-ids.js";
import { printJson, writeResult } from "../output.js";
import { CURVE_BYTES, ecdsaDerToRaw, ecdsaRawToDer, signatureScheme } from "../signature-schemes.js";

const SCHEME_OPTIONS: Record<string, OptionSpec> = {
  key: { type: "string", value: "ID", description: "the key (see keys list); a key pair's CKA_ID in hex picks the right half" },
  hash: { type: "string", value: "HASH", description: "SHA-256 (default; ECDSA: the curve's size), SHA-384, SHA-512, SHA-1" },
  pss: { type: "boolean", description: "RSA keys: RSA-PSS instead of RSASSA-PKCS1-v1_5" },
  "salt-length": { type: "string", value: "BYTES", description: "RSA-PSS salt length (default: the hash's length)" },
  der: { type: "boolean", description: "ECDSA: the signature as DER (as OpenSSL writes it) instead of r||s (as Web Crypto does)" },
};

/** The file's bytes, typed as Web Crypto's BufferSource (a Buffer's backing store is never shared here). */
function readInput(path: string, what: string): Uint8Array<ArrayBuffer> {
  try {
    return readFileSync(path) as Uint8Array<ArrayBuffer>;
  } catch (error) {
    throw new UsageError(`${what} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
}

function schemeOptions(values: OptionValues) {
  const salt = stringOption(values, "salt-length");
  if (salt !== undefined && !/^\d+$/.test(salt)) throw new UsageError("--salt-length is a number of bytes");
  return { hash: stringOption(values, "hash"), pss: values.pss === true, saltLength: salt === undefined ? undefined : Number(salt) };
}

function keyArgument(values: OptionValues): string {
  const key = stringOption(values, "key");
  if (key === undefined) throw new UsageError("--key is required (see keys list)");
  return key;
}

const sign: Command = {
  name: "sign",
  summary: "sign a file with a token key",
  usage: "<file> --key ID",
  description: [
    "The algorithm comes from the key: ECDSA, Ed25519, RSASSA-PKCS1-v1_5 (or RSA-PSS with --pss), HMAC.",
    "The signature is written raw to --out FILE, or as base64 to stdout (or to the file with --base64).",
  ].join("\n"),
  options: {
    ...SCHEME_OPTIONS,
    out: { type: "string", value: "FILE", description: "write the signature to FILE" },
    base64: { type: "boolean", description: "write base64 text even to --out FILE" },
  },
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    const key = keyArgument(values);
    const data = readInput(args[0], "file");
    const crypto = await connect({ login: true });
    const info = await oneKey(crypto, key, ["private", "secret"]);
    const scheme = signatureScheme(info, schemeOptions(values));
    if (values.der === true && scheme.sign.name !== "ECDSA") throw new UsageError("--der is for ECDSA signatures");
    const cryptoKey = await crypto.keyStorage.getItem(info.id, scheme.keyAlgorithm as unknown as AlgorithmIdentifier, ["sign"]);
    let signature: Buffer = Buffer.from(await crypto.subtle.sign(scheme.sign, cryptoKey!, data));
    if (values.der === true) signature = ecdsaRawToDer(signature);
    const out = stringOption(values, "out");
    const base64 = `${signature.toString("base64")}\n`;
    if (out !== undefined) writeResult(io, values.base64 === true ? base64 : signature, out);
    if (json) printJson(io, { key: info.id, algorithm: scheme.sign, signature: signature.toString("base64"), ...(out === undefined ? {} : { out }) });
    else if (out === undefined) io.stdout.write(base64);
    return EXIT.ok;
  },
};

/** A signature file: base64 text (as sign prints it) or the raw bytes. */
function signatureBytes(data: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const text = Buffer.from(data).toString("latin1").trim();
  if (text.length > 0 && /^[A-Za-z0-9+/\s]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text.replace(/\s+/g, ""), "base64");
    if (decoded.length > 0) return new Uint8Array(decoded);
  }
  return data;
}

const verify: Command = {
  name: "verify",
  summary: "verify a file's signature with a token key (exit 0 valid, 1 not valid)",
  usage: "<file> <signature> --key ID",
  description: "The signature file is raw bytes or base64. A public key needs no PIN; an HMAC key does.",
  options: SCHEME_OPTIONS,
  args: { min: 2, max: 2 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    const key = keyArgument(values);
    const data = readInput(args[0], "file");
    let signature = signatureBytes(readInput(args[1], "signature"));
    let crypto = await connect({ login: false });
    const info = await oneKey(crypto, key, ["public", "secret"]);
    if (info.type === "secret") crypto = await connect({ login: true });
    const scheme = signatureScheme(info, schemeOptions(values));
    if (values.der === true) {
      if (scheme.sign.name !== "ECDSA") throw new UsageError("--der is for ECDSA signatures");
      signature = new Uint8Array(ecdsaDerToRaw(signature, CURVE_BYTES[(scheme.keyAlgorithm as { namedCurve: string }).namedCurve]));
    }
    const cryptoKey = await crypto.keyStorage.getItem(info.id, scheme.keyAlgorithm as unknown as AlgorithmIdentifier, ["verify"]);
    const valid = await crypto.subtle.verify(scheme.sign, cryptoKey!, signature, data);
    if (json) printJson(io, { key: info.id, valid });
    else io.stdout.write(valid ? "Signature valid\n" : "Signature NOT valid\n");
    return valid ? EXIT.ok : EXIT.failed;
  },
};

export const signatureCommands: readonly Command[] = [sign, verify];
