// The published shape: `npm test` builds first, then these load the built package the way users
// do, by its name through the exports map, as CommonJS and as an ES module.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

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
});
