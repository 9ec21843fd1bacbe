// A SoftHSM token in a temporary directory, for the demo and the benchmarks. SoftHSM reads only the
// configuration SOFTHSM2_CONF names, so the machine's own tokens are never touched. Call this
// before the first Crypto is made in the process (SoftHSM reads its configuration at C_Initialize).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const softHsmLibrary = [
  process.env.SOFTHSM2_MODULE,
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
].find((path) => path && existsSync(path));

export function createThrowawayToken({ label = "demo", pin = "1234", soPin = "5678", prefix = "pkcs11-webcrypto-" } = {}) {
  if (!softHsmLibrary) throw new Error("SoftHSM is not installed: run `bash scripts/setup.sh` first.");
  const directory = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(directory, "tokens"));
  const configPath = join(directory, "softhsm2.conf");
  writeFileSync(configPath, `directories.tokendir = ${join(directory, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = configPath;
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin], { stdio: "pipe" });
  return {
    directory,
    library: softHsmLibrary,
    label,
    pin,
    config: { library: softHsmLibrary, tokenLabel: label, pin },
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}
