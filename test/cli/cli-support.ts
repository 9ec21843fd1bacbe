/**
 * What the CLI tests share: the real binary (bin/pkcs11-webcrypto.cjs on the built dist, as users
 * and `npm test` run it), a throwaway SoftHSM token of its own, and a record of everything the
 * binary printed so that a test can check the PIN never appeared in any of it.
 *
 * The token lives in a SoftHSM directory of its own (not the suite's): the CLI's `slots` output
 * is then exactly this token, and nothing the CLI creates or deletes touches other tests' tokens.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createSoftHsmEnvironment, initToken, SOFTHSM_LIBRARY, type SoftHsmEnvironment } from "../support/softhsm.js";

export const BIN = resolve("bin/pkcs11-webcrypto.cjs");
const BUILT_MAIN = resolve("dist/cjs/cli/main.js");
export const LABEL = "cli";
/** Distinctive, so that finding it in any output cannot be a coincidence of hex or base64. */
export const PIN = "cli-Pin-7q3X";

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm test` builds first; a run of this file alone builds when dist is older than src. */
export function ensureBuilt(): void {
  if (existsSync(BUILT_MAIN) && statSync(BUILT_MAIN).mtimeMs >= newestSource(resolve("src"))) return;
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "pipe" });
}

export class CliToken {
  readonly outputs: string[] = [];
  readonly directory: string;
  readonly serial: string;
  readonly pinFile: string;
  readonly #environment: SoftHsmEnvironment;

  private constructor(environment: SoftHsmEnvironment, serial: string) {
    this.#environment = environment;
    this.serial = serial;
    this.directory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-cli-files-"));
    this.pinFile = this.file("pin", `${PIN}\n`);
  }

  /** A SoftHSM directory and token of its own; this process's SOFTHSM2_CONF is left as it was. */
  static create(): CliToken {
    const previous = process.env.SOFTHSM2_CONF;
    try {
      const environment = createSoftHsmEnvironment();
      return new CliToken(environment, initToken(LABEL, PIN));
    } finally {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
    }
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SOFTHSM2_CONF: this.#environment.configPath };
  }

  /** The options that name this token (and log in with the PIN file). */
  get token(): string[] {
    return ["--module", SOFTHSM_LIBRARY, "--token", LABEL];
  }

  get login(): string[] {
    return [...this.token, "--pin-file", this.pinFile];
  }

  file(name: string, content: string | Uint8Array): string {
    const path = join(this.directory, name);
    writeFileSync(path, content);
    return path;
  }

  path(name: string): string {
    return join(this.directory, name);
  }

  /** Runs the binary; its output is recorded for the PIN check. */
  run(args: string[], env: NodeJS.ProcessEnv = {}): Result {
    const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...this.env, ...env }, encoding: "utf8", timeout: 60_000 });
    this.outputs.push(result.stdout, result.stderr);
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs the binary and parses its --json output, failing with its stderr if it did not exit 0. */
  json<T = any>(args: string[], env: NodeJS.ProcessEnv = {}): T {
    const result = this.run([...args, "--json"], env);
    if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  /**
   * Runs the binary on a pseudo-terminal (util-linux `script`), typing `typed` once the prompt
   * has appeared: what a user at a terminal sees, echo included.
   */
  runOnTerminal(args: string[], typed: string): Promise<Result> {
    const command = [process.execPath, BIN, ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: this.env });
    let output = "";
    let sent = false;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => child.kill(), 30_000);
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        if (!sent && output.includes("PIN for token")) {
          sent = true;
          child.stdin.write(typed);
        }
      });
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        this.outputs.push(output);
        resolvePromise({ code, stdout: output, stderr: "" });
      });
    });
  }

  remove(): void {
    this.#environment.remove();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

export function hasScript(): boolean {
  return spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
}
