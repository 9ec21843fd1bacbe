// Conformance figures: the @peculiar/webcrypto-test suite, unmodified, against
//   ours                 this package (dist/cjs, so build first: `npm run conformance` does) on a
//                        throwaway SoftHSM token
//   node-webcrypto-p11   on another throwaway SoftHSM token
//   Node                 Node's own globalThis.crypto
// each in a child mocha process (test/conformance/suite.cjs) with mocha's JSON reporter, then prints
// a Markdown table: per vector (algorithm) and operation group, tests passed / tests run by each;
// totals; a per-vector summary; and every failure with its error, so each count can be traced.
//
//   npm run conformance            (or: npm run build && node scripts/conformance.mjs)
//
// `npm test` runs the same suite against ours with an allowlist of explained failures
// (test/conformance/webcrypto-test.test.ts); this script only counts.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createThrowawayToken } from "./throwaway-token.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const mocha = join(root, "node_modules", "mocha", "bin", "mocha.js");
const spec = join(root, "test", "conformance", "suite.cjs");
const { vectors } = require("@peculiar/webcrypto-test");

if (!existsSync(join(root, "dist", "cjs", "index.js"))) {
  console.error("dist/cjs is missing: run `npm run conformance` (it builds first)");
  process.exit(1);
}

/** The suite's vector names (its top-level `context`s), longest first so prefixes do not steal matches. */
const vectorNames = Object.values(vectors).map((vector) => vector.name);
const byLength = [...vectorNames].sort((a, b) => b.length - a.length);
/** webcrypto-test's operation groups (its second-level `context`s). */
const GROUPS = ["Generate Key", "Encrypt/Decrypt", "Import/Export", "Sign/Verify", "Derive bits", "Derive key", "Digest", "Wrap/Unwrap key"];

const targets = [
  { id: "ours", title: "pkcs11-webcrypto", token: (t) => t.config },
  { id: "node-webcrypto-p11", title: "node-webcrypto-p11", token: (t) => ({ library: t.library, slot: 0, pin: t.pin, readWrite: true }) },
  { id: "node", title: "Node" },
];

const work = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-conformance-"));
const runs = new Map();
try {
  for (const target of targets) runs.set(target.id, runSuite(target));
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Runs the suite against one implementation in a child mocha; returns mocha's JSON report. */
function runSuite(target) {
  const output = join(work, `${target.id}.json`);
  const env = { ...process.env, CONFORMANCE_TARGET: target.id };
  let token;
  if (target.token) {
    token = createThrowawayToken({ label: "conformance", prefix: `pkcs11-webcrypto-conformance-${target.id}-` });
    env.SOFTHSM2_CONF = process.env.SOFTHSM2_CONF; // createThrowawayToken points it at the new token
    env.CONFORMANCE_CONFIG = JSON.stringify(target.token(token));
  }
  try {
    const started = Date.now();
    const child = spawnSync(process.execPath, [mocha, "--no-config", "--no-package", "--reporter", "json", "--reporter-option", `output=${output}`, "--timeout", "120000", "--exit", spec], {
      cwd: root,
      env,
      encoding: "utf8",
      timeout: 10 * 60 * 1000,
    });
    if (child.error) throw child.error;
    if (!existsSync(output)) {
      throw new Error(`the ${target.id} run wrote no report (exit ${child.status}, signal ${child.signal}):\n${child.stdout}\n${child.stderr}`);
    }
    const report = JSON.parse(readFileSync(output, "utf8"));
    report.wall = Date.now() - started;
    return report;
  } finally {
    token?.remove();
  }
}

/** Splits a mocha full title, "<vector> <group> <test>", into its parts. */
function classify(test) {
  const vector = byLength.find((name) => test.fullTitle.startsWith(`${name} `));
  const rest = vector ? test.fullTitle.slice(vector.length + 1) : "";
  const group = GROUPS.find((name) => rest.startsWith(`${name} `));
  if (!vector || !group) throw new Error(`cannot place "${test.fullTitle}" in a vector and operation group`);
  return { vector, group, title: test.title };
}

const firstLine = (err) => String(err?.stack || err?.message || "").split("\n")[0];

// counts: "vector\tgroup" -> target -> { pass, total }
const counts = new Map();
const failures = new Map(targets.map((t) => [t.id, []]));
for (const target of targets) {
  const report = runs.get(target.id);
  const failed = new Set(report.failures.map((test) => test.fullTitle));
  const pending = new Set(report.pending.map((test) => test.fullTitle));
  for (const test of report.tests) {
    const { vector, group } = classify(test);
    const key = `${vector}\t${group}`;
    if (!counts.has(key)) counts.set(key, new Map());
    const cell = counts.get(key).get(target.id) ?? { pass: 0, total: 0 };
    cell.total++;
    const passed = !failed.has(test.fullTitle) && !pending.has(test.fullTitle);
    if (passed) cell.pass++;
    else failures.get(target.id).push(`${test.fullTitle}: ${pending.has(test.fullTitle) ? "pending" : firstLine(test.err)}`);
    counts.get(key).set(target.id, cell);
  }
}

const order = (key) => {
  const [vector, group] = key.split("\t");
  return vectorNames.indexOf(vector) * 100 + GROUPS.indexOf(group);
};
const keys = [...counts.keys()].sort((a, b) => order(a) - order(b));
const cellText = (cell) => (cell ? `${cell.pass}/${cell.total}` : "-");
const sum = (cells) => cells.reduce((acc, cell) => ({ pass: acc.pass + (cell?.pass ?? 0), total: acc.total + (cell?.total ?? 0) }), { pass: 0, total: 0 });

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (i < 2 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

const softhsm = (() => {
  try {
    return execFileSync("softhsm2-util", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
})();
const version = (name) => require(`${name}/package.json`).version;
const cpu = cpus();
console.log(`webcrypto-test ${version("@peculiar/webcrypto-test")} (${runs.get("node").stats.tests} tests), ${new Date().toISOString().slice(0, 10)}`);
console.log(`Node ${process.version}, SoftHSM ${softhsm}, pkcs11-webcrypto ${require(join(root, "package.json")).version}, node-webcrypto-p11 ${version("node-webcrypto-p11")}, pkcs11js ${version("pkcs11js")}`);
console.log(`${process.platform}/${process.arch}, ${cpu.length} x ${cpu[0]?.model ?? "?"}`);
console.log("");

const header = ["vector", "operations", ...targets.map((t) => t.title)];
const rows = keys.map((key) => [...key.split("\t"), ...targets.map((t) => cellText(counts.get(key).get(t.id)))]);
rows.push(["**total**", "", ...targets.map((t) => cellText(sum(keys.map((key) => counts.get(key).get(t.id)))))]);
console.log(table(header, rows));
console.log("");

const vectorRows = vectorNames
  .filter((vector) => keys.some((key) => key.startsWith(`${vector}\t`)))
  .map((vector) => {
    const mine = keys.filter((key) => key.startsWith(`${vector}\t`));
    return [vector, mine.map((key) => key.split("\t")[1]).join(", "), ...targets.map((t) => cellText(sum(mine.map((key) => counts.get(key).get(t.id)))))];
  });
vectorRows.push(["**total**", "", ...targets.map((t) => cellText(sum(keys.map((key) => counts.get(key).get(t.id)))))]);
console.log(table(["vector", "operations", ...targets.map((t) => t.title)], vectorRows));
console.log("");

for (const target of targets) {
  const report = runs.get(target.id);
  console.log(`${target.title}: ${report.stats.passes} passed, ${report.stats.failures} failed, ${report.stats.pending} pending, of ${report.stats.tests} (mocha ${report.stats.duration} ms; process ${report.wall} ms)`);
}
// Some of the suite's tests expect what Web Crypto does not do (other algorithms and curves, other
// defaults; see test/conformance/webcrypto-test.test.ts), so Node's own count is the ceiling for an
// implementation that follows the spec. The same counts over the tests Node passes:
const nodePasses = new Set(runs.get("node").passes.map((test) => test.fullTitle));
const agreed = targets.map((target) => {
  const passes = runs.get(target.id).passes.filter((test) => nodePasses.has(test.fullTitle)).length;
  return `${target.title} ${passes}/${nodePasses.size}`;
});
console.log(`On the ${nodePasses.size} tests Node passes: ${agreed.join(", ")}`);
for (const target of targets) {
  console.log(`\nFailures, ${target.title}:`);
  for (const failure of failures.get(target.id)) console.log(`  ${failure}`);
}
