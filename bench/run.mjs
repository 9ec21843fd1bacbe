// The benchmark: each operation through (a) our Crypto, (b) raw pkcs11js calls on the same token,
// key types and mechanisms, (c) node-webcrypto-p11 (each cell in a child process, since it fails
// or crashes on some), (d) Node's own WebCrypto; sequential, and concurrent for (a), (c), (d);
// plus the worst event-loop lag during an RSA-4096 generation and a 64 MiB AES-GCM encryption.
// See bench/README.md.
//
//   npm run bench                        # builds, then runs everything (about 3 to 4 minutes)
//   npm run bench -- --quick             # 0.3 s per cell: a smoke run (about 1.5 minutes)
//   node bench/run.mjs --json out.json   # also write the results as JSON (after npm run build)
//   node bench/run.mjs --only 'ecdsa|aes' --impl ours,raw --mode sequential --no-lag
import { spawn, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Crypto } from "pkcs11-webcrypto";
import { createThrowawayToken } from "../scripts/throwaway-token.mjs";
import { openRaw } from "./baselines/raw-pkcs11js.mjs";
import { concurrent, reasonOf, sequential, sequentialSync, settle, worstLag } from "./lib/measure.mjs";
import { inputs, MiB, operations, p256Spki } from "./lib/operations.mjs";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    only: { type: "string" },
    impl: { type: "string", default: "ours,raw,nwp11,native" },
    mode: { type: "string", default: "sequential,concurrent" },
    seconds: { type: "string" },
    "no-lag": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(`node bench/run.mjs [--quick] [--json FILE] [--only REGEX] [--impl ours,raw,nwp11,native]
                  [--mode sequential,concurrent] [--seconds S] [--no-lag]`);
  process.exit(0);
}

const budget = args.quick ? { seconds: 0.3, warmup: 0.05, slices: 1 } : { seconds: 1.5, warmup: 0.3, slices: 3 };
if (args.seconds) budget.seconds = Number(args.seconds);
const implementations = new Set(args.impl.split(","));
const modes = new Set(args.mode.split(","));
const only = args.only ? new RegExp(args.only) : undefined;
const selected = operations.filter((op) => !only || only.test(op.id));

const require = createRequire(import.meta.url);
const versionOf = (name) => {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return "?";
  }
};
const softHsmVersion = () => {
  try {
    return execFileSync("softhsm2-util", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};
const progress = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Cells

/** Rate in the operation's unit: calls per second, or MB/s (10^6 bytes) for the 1 MiB cells. */
function finish(operation, result) {
  const { firstError, ...counts } = result;
  if (counts.failed || counts.warmupFailed) return { ...counts, error: reasonOf(firstError) };
  delete counts.failed;
  const perSecond = counts.ops / counts.seconds;
  return { ...counts, value: operation.bytes ? (perSecond * operation.bytes) / 1e6 : perSecond };
}

/**
 * The in-process cells of one row (ours, raw, native), interleaved: each is set up and warmed up,
 * then the time budget is cut into slices that the implementations take in turn (ours, raw,
 * native, then raw, native, ours, ...), so that a burst of load from elsewhere on a shared
 * machine falls on all of them rather than on one. Each implementation's figure is its calls over
 * its time, summed over its slices; the JSON keeps each slice's rate as well.
 */
async function interleavedCells(operation, mode, contenders) {
  const slices = mode === "concurrent" && operation.inFlight < 256 ? 1 : budget.slices;
  const run = (contender, seconds, warmup) => {
    if (contender.sync) return sequentialSync(contender.call, { seconds, warmup });
    if (mode === "sequential") return sequential(contender.call, { seconds, warmup });
    return concurrent(contender.call, { seconds, warmup, inFlight: operation.inFlight });
  };
  const results = {};
  const live = [];
  for (const contender of contenders) {
    await settle();
    try {
      contender.call = await contender.make();
      const warm = await run(contender, budget.warmup, 0);
      if (warm.failed) throw warm.firstError;
      live.push(contender);
      results[contender.name] = { ops: 0, seconds: 0, failed: 0, callsPerSecondBySlice: [] };
    } catch (error) {
      results[contender.name] = { error: reasonOf(error) };
    }
  }
  for (let slice = 0; slice < slices; slice++) {
    const order = live.map((_, i) => live[(i + slice) % live.length]);
    for (const contender of order) {
      const total = results[contender.name];
      if (total.error) continue;
      await settle();
      try {
        const part = await run(contender, budget.seconds / slices, 0);
        total.ops += part.ops;
        total.seconds += part.seconds;
        total.failed += part.failed ?? 0;
        total.firstError ??= part.firstError;
        total.callsPerSecondBySlice.push(Math.round((part.ops / part.seconds) * 10) / 10);
      } catch (error) {
        results[contender.name] = { error: reasonOf(error) };
      }
    }
  }
  for (const [name, total] of Object.entries(results)) if (!total.error) results[name] = finish(operation, total);
  return results;
}

const childScript = fileURLToPath(new URL("./baselines/node-webcrypto-p11-cell.mjs", import.meta.url));

/** A node-webcrypto-p11 cell in a child process: a failure or a crash is reported, not thrown. */
function nwp11Cell(operation, mode, token) {
  const request = {
    operation: operation.id,
    mode,
    seconds: budget.seconds,
    warmup: budget.warmup,
    inFlight: operation.inFlight,
    library: token.library,
    label: token.label,
    pin: token.pin,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [childScript, JSON.stringify(request)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const limit = 60_000 + 4 * (budget.seconds + budget.warmup) * 1000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limit);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (line && !timedOut) {
        const result = JSON.parse(line.slice("RESULT ".length));
        if (result.error) return resolve({ ...result, error: result.error });
        const perSecond = result.ops / result.seconds;
        return resolve({ ...result, value: operation.bytes ? (perSecond * operation.bytes) / 1e6 : perSecond });
      }
      const lastLine = stderr.trim().split("\n").filter(Boolean).pop() ?? "";
      if (timedOut) return resolve({ error: `timed out after ${Math.round(limit / 1000)} s`, crashed: true });
      resolve({ error: `crashed (${signal ?? `exit ${code}`})`, crashed: true, detail: lastLine.slice(0, 200) });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Formatting

function number(value) {
  if (value >= 100) return Math.round(value).toLocaleString("en-US");
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cellText(cell) {
  if (cell === undefined) return "—";
  if (cell.error) {
    if (cell.crashed) return cell.error;
    return cell.failed ? `failed: ${cell.error}, ${cell.failed} of ${cell.failed + cell.ops} calls` : `failed: ${cell.error}`;
  }
  if (cell.worstMs !== undefined) return `${cell.worstMs.toFixed(1)} ms (${cell.seconds.toFixed(2)} s)`;
  return number(cell.value);
}

function ratioOf(a, b) {
  if (!a || !b || a.error || b.error || a.value === undefined || b.value === undefined) return undefined;
  return a.value / b.value;
}

function ratio(a, b, mark = "") {
  const r = ratioOf(a, b);
  if (r === undefined) return "—";
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}${mark}`;
}

function table(rows, lagRows) {
  const header = ["operation", "ours", "raw pkcs11js", "node-webcrypto-p11", "native", "ours/raw", "ours/nwp11"];
  const lines = rows.map((row) => {
    const name = `${row.label}, ${row.mode === "sequential" ? "sequential" : `${row.inFlight} in flight`} (${row.unit})`;
    const rawRatio = row.mode === "sequential" ? ratio(row.ours, row.raw) : ratio(row.ours, row.rawSequential, "*");
    return [name, cellText(row.ours), cellText(row.raw), cellText(row.nwp11), cellText(row.native), rawRatio, ratio(row.ours, row.nwp11)];
  });
  for (const row of lagRows) {
    lines.push([`event-loop lag: ${row.label} (worst ms)`, cellText(row.ours), cellText(row.raw), "—", cellText(row.native), "", ""]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)));
  const format = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [format(header), `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`, ...lines.map(format)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The run

const started = new Date();
const loadAtStart = loadavg()[0];
const meta = {
  date: started.toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? "?",
  cores: availableParallelism(),
  softhsm: softHsmVersion(),
  pkcs11js: versionOf("pkcs11js"),
  nodeWebcryptoP11: versionOf("node-webcrypto-p11"),
  budget,
};

const token = createThrowawayToken({ label: "bench", prefix: "pkcs11-webcrypto-bench-" });
const ours = new Crypto(token.config);
// Opened after ours, on the module instance ours initialized (see baselines/raw-pkcs11js.mjs).
const raw = implementations.has("raw") ? openRaw({ library: token.library, label: token.label, pin: token.pin }) : undefined;
const native = globalThis.crypto.subtle;
const rawInputs = { ...inputs, spki: await p256Spki() };
const rows = [];
const lagRows = [];

try {
  progress(`pkcs11-webcrypto benchmark: ${selected.length} operations, cells of ${budget.seconds} s (${budget.slices} slices) after ${budget.warmup} s warm-up`);
  for (const operation of selected) {
    const base = { id: operation.id, label: operation.label, unit: operation.unit };
    let rawSequential;
    const webCrypto = (name, subtle) => ({ name, make: () => operation.webcrypto(subtle, inputs) });
    const contenders = (mode) =>
      [
        implementations.has("ours") && webCrypto("ours", ours.subtle),
        raw && mode === "sequential" && { name: "raw", sync: true, make: async () => raw.setup(operation.id, rawInputs) },
        implementations.has("native") && webCrypto("native", native),
      ].filter(Boolean);
    if (modes.has("sequential")) {
      const row = { ...base, mode: "sequential", ...(await interleavedCells(operation, "sequential", contenders("sequential"))) };
      rawSequential = row.raw;
      if (implementations.has("nwp11")) row.nwp11 = await nwp11Cell(operation, "sequential", token);
      rows.push(row);
      progress(`  ${operation.id} sequential: ours ${cellText(row.ours)}, raw ${cellText(row.raw)}, native ${cellText(row.native)}, nwp11 ${cellText(row.nwp11)}`);
    }
    if (modes.has("concurrent")) {
      const row = { ...base, mode: "concurrent", inFlight: operation.inFlight, rawSequential };
      Object.assign(row, await interleavedCells(operation, "concurrent", contenders("concurrent")));
      if (implementations.has("nwp11")) row.nwp11 = await nwp11Cell(operation, "concurrent", token);
      rows.push(row);
      progress(`  ${operation.id} ${operation.inFlight} in flight: ours ${cellText(row.ours)}, native ${cellText(row.native)}, nwp11 ${cellText(row.nwp11)}`);
    }
  }

  if (!args["no-lag"]) {
    const rsa4096 = { name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
    const lag = async (work) => {
      await settle();
      try {
        return await worstLag(work);
      } catch (error) {
        return { error: reasonOf(error) };
      }
    };
    const rsaRow = { id: "lag-rsa-4096", label: "RSA-4096 generateKey" };
    rsaRow.ours = await lag(() => ours.subtle.generateKey(rsa4096, false, ["sign", "verify"]));
    rsaRow.native = await lag(() => native.generateKey(rsa4096, false, ["sign", "verify"]));
    lagRows.push(rsaRow);
    progress(`  lag RSA-4096: ours ${cellText(rsaRow.ours)}, native ${cellText(rsaRow.native)}`);

    const big = Buffer.allocUnsafe(64 * MiB).fill(0x5a);
    const aesRow = { id: "lag-aes-gcm-64m", label: "AES-256-GCM encrypt 64 MiB" };
    const ourKey = await ours.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
    const nativeKey = await native.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
    aesRow.ours = await lag(() => ours.subtle.encrypt({ name: "AES-GCM", iv: inputs.iv }, ourKey, big));
    // Raw is synchronous: the event loop is blocked for the whole call.
    if (raw) {
      const encrypt = raw.aesGcmEncryptor(inputs.iv);
      aesRow.raw = await lag(async () => encrypt(big));
    }
    aesRow.native = await lag(() => native.encrypt({ name: "AES-GCM", iv: inputs.iv }, nativeKey, big));
    lagRows.push(aesRow);
    progress(`  lag AES-GCM 64 MiB: ours ${cellText(aesRow.ours)}, raw ${cellText(aesRow.raw)}, native ${cellText(aesRow.native)}`);
  }
} finally {
  raw?.close();
  await ours.close();
  token.remove();
}

meta.loadAverage = { start: loadAtStart, end: loadavg()[0] };
meta.seconds = (Date.now() - started.getTime()) / 1000;

const heading = [
  `pkcs11-webcrypto benchmark, ${meta.date}`,
  `Node ${meta.node}; ${meta.cpu}, ${meta.cores} cores; load average ${loadAtStart.toFixed(2)} at start, ${meta.loadAverage.end.toFixed(2)} at end`,
  `SoftHSM ${meta.softhsm}, pkcs11js ${meta.pkcs11js}, node-webcrypto-p11 ${meta.nodeWebcryptoP11}`,
  `each cell: ${budget.warmup} s warm-up, then ${budget.seconds} s${budget.slices > 1 ? ` in ${budget.slices} slices interleaved with the row's other in-process cells` : ""}; figures are ops/s, or MB/s (10^6 bytes/s) where marked; run took ${meta.seconds.toFixed(0)} s`,
];
const notes = [
  "ours/raw and ours/nwp11: ours divided by the other (below 1: ours is slower). * in flight vs raw sequential: raw is one synchronous loop on one session and has no concurrent mode.",
  "raw pkcs11js: synchronous calls in a loop on one session of the same module instance, same key attributes and mechanisms (ECDSA: SHA-256 in Node, then CKM_ECDSA).",
  "node-webcrypto-p11: each cell in a child process; 'failed: X, N of M calls': N of its M calls failed with X; 'crashed (SIGNAL)': the process died.",
];
console.log(`\n${heading.join("\n")}\n\n${table(rows, lagRows)}\n\n${notes.join("\n")}`);

if (args.json) {
  writeFileSync(args.json, `${JSON.stringify({ meta, rows: rows.map(({ rawSequential, ...row }) => ({
    ...row,
    oursOverRaw: ratioOf(row.ours, row.mode === "sequential" ? row.raw : rawSequential),
    oursOverNwp11: ratioOf(row.ours, row.nwp11),
  })), lag: lagRows }, null, 2)}\n`);
  progress(`results written to ${args.json}`);
}
