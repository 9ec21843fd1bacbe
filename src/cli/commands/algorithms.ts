import type { Command } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { printJson, printTable } from "../output.js";

const algorithms: Command = {
  name: "algorithms",
  summary: "list the Web Crypto algorithms and operations the token supports",
  usage: "",
  description: "Read from the mechanisms the token reports; --mechanisms also lists those (CKM_...).",
  options: { mechanisms: { type: "boolean", description: "also list the token's PKCS#11 mechanisms" } },
  args: { min: 0, max: 0 },
  connection: "token",
  async run({ values, json, io, connect }) {
    const crypto = await connect({ login: false });
    const supported = crypto.algorithms;
    const mechanisms = values.mechanisms === true ? crypto.mechanisms : undefined;
    if (json) {
      printJson(io, { token: { label: crypto.tokenLabel, serial: crypto.tokenSerial }, algorithms: supported, ...(mechanisms ? { mechanisms } : {}) });
      return EXIT.ok;
    }
    io.stdout.write(`Token "${crypto.tokenLabel}" (serial ${crypto.tokenSerial})\n\n`);
    printTable(io, Object.entries(supported), [["ALGORITHM", ([name]) => name], ["OPERATIONS", ([, operations]) => operations.join(", ")]], "No Web Crypto algorithm is supported.");
    if (mechanisms) io.stdout.write(`\nMechanisms (${mechanisms.length}):\n${mechanisms.map((name) => `  ${name}`).join("\n")}\n`);
    return EXIT.ok;
  },
};

export const algorithmCommands = [algorithms];
