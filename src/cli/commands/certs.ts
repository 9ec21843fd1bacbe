import { readFileSync } from "node:fs";
import type { Crypto, CryptoCertificate } from "../../index.js";
import { stringOption, type Command } from "../command.js";
import { EXIT, OperationFailed, UsageError } from "../exit-codes.js";
import { printJson, printTable, writeResult } from "../output.js";

interface CertificateRow {
  id: string;
  type: "x509" | "request";
  label: string;
  subject: string;
  issuer?: string;
  serialNumber?: string;
  notBefore?: string;
  notAfter?: string;
  error?: string;
}

function row(item: CryptoCertificate): CertificateRow {
  const base = { id: item.id, type: item.type, label: item.label, subject: item.subjectName };
  if (item.type === "request") return base;
  return { ...base, issuer: item.issuerName, serialNumber: item.serialNumber, notBefore: item.notBefore.toISOString(), notAfter: item.notAfter.toISOString() };
}

/** The stored item with this id, or exit 1 saying there is none. */
export async function storedItem(crypto: Crypto, id: string): Promise<CryptoCertificate> {
  if (!/^(x509|request)-[0-9a-f]+$/.test(id)) throw new UsageError(`"${id.slice(0, 80)}" is not a certificate id: ids look like x509-<hex> or request-<hex> (see "certs list")`);
  // The public key is read for use (verify) only; any algorithm the key has is fine for that.
  const item = await crypto.certStorage.getItem(id);
  if (!item) throw new OperationFailed(`no certificate or request ${id} on token "${crypto.tokenLabel}" (see "certs list")`);
  return item;
}

const list: Command = {
  name: "certs list",
  summary: "list the X.509 certificates and PKCS#10 requests on the token",
  usage: "",
  description: "Certificates are public token objects: no PIN is asked for (one given by --pin-env or --pin-file is used).",
  options: {},
  args: { min: 0, max: 0 },
  connection: "token",
  async run({ json, io, connect }) {
    const crypto = await connect({ login: false });
    const rows: CertificateRow[] = [];
    for (const id of await crypto.certStorage.keys()) {
      try {
        rows.push(row((await crypto.certStorage.getItem(id))!));
      } catch (error) {
        // One certificate whose key the token cannot import (an unusual algorithm) still gets its line.
        rows.push({ id, type: id.startsWith("x509") ? "x509" : "request", label: "", subject: "", error: (error as Error).message });
      }
    }
    if (json) printJson(io, rows);
    else {
      printTable(io, rows, [
        ["ID", (item) => item.id],
        ["TYPE", (item) => item.type],
        ["LABEL", (item) => item.label],
        ["SUBJECT", (item) => item.subject || `(unreadable: ${item.error})`],
        ["ISSUER", (item) => item.issuer ?? "-"],
        ["NOT AFTER", (item) => item.notAfter?.slice(0, 10) ?? "-"],
      ], `No certificates or requests on token "${crypto.tokenLabel}".`);
    }
    return EXIT.ok;
  },
};

const importCert: Command = {
  name: "certs import",
  summary: "store a certificate or certificate request (PEM or DER) on the token",
  usage: "<file>",
  description: "The certificate gets the CKA_ID of its key pair when that is on the token, so other tools find them together.",
  options: { label: { type: "string", value: "LABEL", description: "CKA_LABEL (default: the subject's common name)" } },
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    let data: Buffer;
    try {
      data = readFileSync(args[0]);
    } catch (error) {
      throw new UsageError(`${args[0]}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    const crypto = await connect({ login: true });
    const isPem = data.toString("latin1").includes("-----BEGIN");
    const item = isPem ? await crypto.certStorage.importCert("pem", data.toString("latin1")) : await crypto.certStorage.importCert("raw", new Uint8Array(data));
    const label = stringOption(values, "label");
    const id = await crypto.certStorage.setItem(item, label === undefined ? {} : { label });
    const stored = await storedItem(crypto, id);
    if (json) printJson(io, row(stored));
    else io.stdout.write(`Imported ${id} (${stored.subjectName})\n`);
    return EXIT.ok;
  },
};

const exportCert: Command = {
  name: "certs export",
  summary: "write a stored certificate or request as PEM (default) or DER",
  usage: "<id>",
  options: {
    der: { type: "boolean", description: "write DER instead of PEM" },
    out: { type: "string", value: "FILE", description: "write to FILE instead of stdout" },
  },
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    const crypto = await connect({ login: false });
    const item = await storedItem(crypto, args[0]);
    const data = values.der === true ? new Uint8Array(await crypto.certStorage.exportCert("raw", item)) : await crypto.certStorage.exportCert("pem", item);
    const out = stringOption(values, "out");
    if (json && out === undefined) {
      printJson(io, { id: item.id, ...(typeof data === "string" ? { pem: data } : { der: Buffer.from(data).toString("base64") }) });
      return EXIT.ok;
    }
    writeResult(io, data, out);
    if (json) printJson(io, { id: item.id, out });
    return EXIT.ok;
  },
};

const remove: Command = {
  name: "certs delete",
  summary: "delete a stored certificate or request",
  usage: "<id>",
  options: {},
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, json, io, connect }) {
    const crypto = await connect({ login: true });
    await storedItem(crypto, args[0]);
    await crypto.certStorage.removeItem(args[0]);
    if (json) printJson(io, { deleted: [args[0]] });
    else io.stdout.write(`Deleted ${args[0]}\n`);
    return EXIT.ok;
  },
};

export const certificateCommands: readonly Command[] = [list, importCert, exportCert, remove];
