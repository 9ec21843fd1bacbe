// Builds the package three ways from one source tree: ESM, CommonJS and type declarations.
// tsc is run once per output with its module setting overridden; a package.json with "type"
// in each output folder tells Node how to load the .js files in it.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const run = (...args) => execFileSync(process.execPath, [tsc, "-p", "tsconfig.json", ...args], { stdio: "inherit" });

rmSync("dist", { recursive: true, force: true });
run("--outDir", "dist/esm", "--module", "ES2022", "--moduleResolution", "Bundler", "--declaration", "false");
run("--outDir", "dist/cjs", "--module", "CommonJS", "--moduleResolution", "Node10", "--declaration", "false");
run("--outDir", "dist/types", "--emitDeclarationOnly", "--sourceMap", "false");
writeFileSync("dist/esm/package.json", JSON.stringify({ type: "module" }) + "\n");
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
