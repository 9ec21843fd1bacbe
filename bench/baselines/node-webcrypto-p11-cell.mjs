// One node-webcrypto-p11 measurement, in a process of its own: node-webcrypto-p11 runs every
// operation on one session, so concurrent calls fail (CKR_OPERATION_ACTIVE), and some inputs
// crash the process; bench/run.mjs runs each cell here and reads one JSON line from stdout.
//
//   node bench/baselines/node-webcrypto-p11-cell.mjs '{"operation":"ecdsa-sign","mode":"sequential",
//     "seconds":1.5,"warmup":0.3,"inFlight":256,"library":"...","label":"...","pin":"..."}'
//
// SOFTHSM2_CONF comes from the parent's environment, so this opens the parent's throwaway token.
import { createRequire } from "node:module";
import { concurrent, reasonOf, sequential } from "../lib/measure.mjs";
import { inputs, operationById } from "../lib/operations.mjs";

const require = createRequire(import.meta.url);
const { Crypto } = require("node-webcrypto-p11");

const request = JSON.parse(process.argv[2]);
const report = (result) => process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);

/** node-webcrypto-p11 selects a slot by index among the slots with a token; find ours by label. */
function connect() {
  for (let slot = 0; slot < 8; slot++) {
    const crypto = new Crypto({ library: request.library, slot, readWrite: true, pin: request.pin });
    if (crypto.token.label.trim() === request.label) return crypto;
  }
  throw new Error(`node-webcrypto-p11: no slot with the token ${request.label}`);
}

try {
  const crypto = connect();
  const operation = operationById(request.operation);
  const call = await operation.webcrypto(crypto.subtle, inputs);
  const options = { seconds: request.seconds, warmup: request.warmup, inFlight: request.inFlight };
  const result = request.mode === "sequential" ? await sequential(call, options) : await concurrent(call, options);
  const { firstError, ...counts } = result;
  report(result.failed || result.warmupFailed ? { ...counts, error: reasonOf(firstError) } : counts);
  process.exit(0);
} catch (error) {
  report({ error: reasonOf(error) });
  process.exit(0);
}
