// Runs an example as a script: `node examples/X.mjs` makes a throwaway SoftHSM token, connects
// our Crypto to it, runs the example's exported function and removes the token afterwards. When
// the module is imported (by a test, which brings its own Crypto), nothing runs.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Prints one step of an example in plain words. */
export function step(text) {
  console.log(`- ${text}`);
}

/** A logger that prints nothing: what tests pass to an example's function. */
export const quiet = () => {};

/**
 * Calls `body({ crypto, workDirectory, log })` if `moduleUrl` is the script node was started with.
 * Exits with status 1 if the body throws or returns false. Called without `await` at the end of
 * an example (no top-level await), so that tests, which load the examples through tsx as
 * CommonJS, can import them.
 */
export async function runAsScript(moduleUrl, body) {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  // Imported only here, so a test importing the example does not need SoftHSM's environment or dist/.
  const { createThrowawayToken } = await import("../../scripts/throwaway-token.mjs");
  const { Crypto } = await import("pkcs11-webcrypto");
  const token = createThrowawayToken({ label: "examples", prefix: "pkcs11-webcrypto-example-" });
  const workDirectory = join(token.directory, "files");
  mkdirSync(workDirectory);
  step(`Created a throwaway SoftHSM token "examples" in ${token.directory}`);
  const crypto = new Crypto(token.config);
  try {
    const outcome = await body({ crypto, workDirectory, log: step });
    if (outcome === false) process.exitCode = 1;
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await crypto.close();
    if (process.env.KEEP_EXAMPLE_FILES) step(`Kept the files in ${workDirectory}`);
    else token.remove();
    step("Closed the connection and removed the token directory");
  }
}
