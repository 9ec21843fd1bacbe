// The external verifiers (openssl, xmlsec1, pdfsig) run as child processes. Examples print what
// they say; tests assert on the exit status and on the verifier's own words of success.
import { spawnSync } from "node:child_process";

/** Runs a command to completion: { status, stdout, stderr, output } (output = stdout + stderr). */
export function run(command, args, { input } = {}) {
  const result = spawnSync(command, args, { input, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  const stdout = result.stdout ?? "";
  const stderr = result.stderr ?? "";
  return { command: [command, ...args].join(" "), status: result.status, stdout, stderr, output: stdout + stderr };
}

/** The last non-empty line of a verifier's output, to print it in one line. */
export function lastLine(result) {
  const lines = result.output.split("\n").map((line) => line.trim()).filter(Boolean);
  return lines.at(-1) ?? "(no output)";
}

/** Wraps DER bytes in PEM armour. */
export function toPem(der, label) {
  const base64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/** A file-name-friendly form of a profile's name ("RSA-PSS 2048" -> "rsa-pss-2048"). */
export function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}
