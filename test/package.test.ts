// The published shape: `npm test` builds first, then these load the built package the way users
// do, by its name through the exports map, as CommonJS and as an ES module.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const run = (args: string[]) => execFileSync(process.execPath, args, { encoding: "utf8", cwd: process.cwd() }).trim();

describe("the built package", () => {
  it("loads with require() and with import, exporting the same names", () => {
    const cjs = run(["-e", 'console.log(Object.keys(require("pkcs11-webcrypto")).sort().join(","))']);
    const esm = run(["--input-type=module", "-e", 'import * as m from "pkcs11-webcrypto"; console.log(Object.keys(m).sort().join(","))']);
    assert.equal(cjs, esm);
    for (const name of ["Crypto", "SubtleCrypto", "CryptoKey", "TokenError", "parsePkcs11Uri"]) assert.ok(cjs.split(",").includes(name), name);
  });

  it("ships type declarations named by the exports map", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    const types = readFileSync(pkg.exports["."].types, "utf8");
    assert.match(types, /export \{ Crypto \}/);
  });

  it("packs the command-line tool, and runs it by name through a link on PATH, as npm installs bins", function () {
    this.timeout(60_000);
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    const files = new Set(packed.files.map((file: { path: string }) => file.path));
    for (const path of [pkg.bin["pkcs11-webcrypto"], "dist/cjs/cli/main.js", "dist/cjs/index.js", "dist/esm/index.js", "dist/types/index.d.ts"]) {
      assert.ok(files.has(path), `${path} is not in the package`);
    }
    const binDirectory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-bin-"));
    try {
      symlinkSync(resolve(pkg.bin["pkcs11-webcrypto"]), join(binDirectory, "pkcs11-webcrypto"));
      const help = execFileSync("pkcs11-webcrypto", ["--help"], { encoding: "utf8", env: { ...process.env, PATH: `${binDirectory}:${process.env.PATH}` } });
      assert.match(help, /keys generate/);
      assert.match(help, /exit codes?/i);
    } finally {
      rmSync(binDirectory, { recursive: true, force: true });
    }
  });
});
