/**
 * A SoftHSM token reached through p11-kit's RPC (TEST_TOKEN=remote): `p11-kit server` exports one
 * token of its own SoftHSM (its own SOFTHSM2_CONF, in a temporary directory) on a Unix socket in
 * that directory, and the tests load p11-kit-client.so, which forwards every call over the socket.
 * This is how a token in another process, container or machine is used, and it tests what the
 * RPC layer changes: the mechanisms it can carry, and a module that insists on CKF_OS_LOCKING_OK.
 *
 * The server listens only on the socket file (`-n` with an absolute path); the address it prints
 * is checked to be that file before it is used.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CryptoParams } from "../../src/index.js";
import { SO_PIN, SOFTHSM_LIBRARY, USER_PIN } from "./softhsm.js";

export const P11_KIT_CLIENT = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so";

/** sockaddr_un's sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface RemoteToken {
  directory: string;
  /** The server's address, "unix:path=<directory>/p11-kit.sock". */
  address: string;
  config: CryptoParams;
  stop(): Promise<void>;
  /**
   * Kills the server and the per-connection processes it forked (p11-kit-remote, which serve
   * connected clients and would otherwise outlive the server), as a crash of the remote side
   * would: clients' calls then fail.
   */
  kill(): Promise<void>;
  /** Starts the server again, after kill(), on the same socket and with the same token directory. */
  restart(): Promise<void>;
}

/** A SoftHSM configuration and one initialized token, for the server's environment only. */
function makeServerToken(directory: string, label: string): NodeJS.ProcessEnv {
  const tokens = join(directory, "tokens");
  mkdirSync(tokens);
  const configPath = join(directory, "softhsm2.conf");
  writeFileSync(configPath, [`directories.tokendir = ${tokens}`, "objectstore.backend = file", "log.level = ERROR", ""].join("\n"));
  // Not this process's SOFTHSM2_CONF: that one names the local test tokens.
  const env = { ...process.env, SOFTHSM2_CONF: configPath };
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", SO_PIN], { env, stdio: "pipe" });
  return env;
}

/** Resolves with the address the server prints (P11_KIT_SERVER_ADDRESS=...;) once it listens. */
function readAddress(server: ChildProcess, logPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const fail = (why: string) => {
      cleanup();
      const log = existsSync(logPath) ? readFileSync(logPath, "utf8").trim() : "";
      reject(new Error(`p11-kit server did not start: ${why}${log ? `\n${log}` : ""}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /P11_KIT_SERVER_ADDRESS=([^;\s]+);/.exec(output);
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null, signal: string | null) => fail(`it exited (${signal ?? `code ${code}`})`);
    const onSpawnError = (error: Error) => fail(error.message);
    const timer = setTimeout(() => fail(`no address within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function cleanup() {
      clearTimeout(timer);
      server.stdout?.off("data", onData);
      server.off("exit", onExit);
      server.off("error", onSpawnError);
      // From here on, drain stdout unread, so that the server can never block on a full pipe.
      server.stdout?.resume();
    }
    server.stdout?.on("data", onData);
    server.on("exit", onExit);
    server.on("error", onSpawnError);
  });
}

/**
 * Stops the server. A client still connected keeps its per-connection p11-kit-remote until it
 * disconnects (C_Finalize, or the end of this process); that child is not ours to kill.
 */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode === null && server.signalCode === null) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.kill("SIGKILL"), STOP_TIMEOUT_MS);
      server.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      server.kill("SIGTERM");
    });
  }
  // Should anything have inherited stdout, its open end must not keep this process alive.
  server.stdout?.destroy();
}

/** Processes whose parent is `pid` (from /proc: the 4th field of stat, after the command's parentheses). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/**
 * SIGKILL to the server and to its per-connection p11-kit-remote processes (read before the
 * server dies: they are then re-parented). Killing the server alone would leave connected clients
 * served by their child.
 */
async function killServerAndChildren(server: ChildProcess): Promise<void> {
  if (server.pid !== undefined && server.exitCode === null && server.signalCode === null) {
    for (const child of childrenOf(server.pid)) {
      try {
        process.kill(child, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    server.kill("SIGKILL");
  }
  await stopServer(server);
}

/**
 * Starts the server and points this process at it. Call before the first Crypto on
 * p11-kit-client.so: the client reads P11_KIT_SERVER_ADDRESS when the module is loaded.
 */
export async function startRemoteToken(label = "main"): Promise<RemoteToken> {
  if (!SOFTHSM_LIBRARY) throw new Error("SoftHSM is not installed (no libsofthsm2.so found): apt-get install softhsm2");
  if (!existsSync(P11_KIT_CLIENT)) throw new Error(`${P11_KIT_CLIENT} is missing: apt-get install p11-kit-modules`);
  const directory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-remote-"));
  const socket = join(directory, "p11-kit.sock");
  let server: ChildProcess | undefined;
  // If the after-all hook never runs (a crash, a bail-out), the server must not outlive us.
  const killOnExit = () => server?.kill("SIGKILL");
  try {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new Error(`Socket path ${socket} is too long for a Unix socket; set a shorter TMPDIR`);
    const env = makeServerToken(directory, label);
    // stderr goes to a file, not a pipe: the server's per-connection children (p11-kit-remote)
    // inherit it and live as long as their client, and an inherited pipe to us would keep this
    // process from exiting after the run. (They take the connection as stdin/stdout.)
    const logPath = join(directory, "server.log");
    const launch = async (): Promise<string> => {
      const log = openSync(logPath, "a");
      let child: ChildProcess;
      try {
        // -f: stay in the foreground as our child, so that we know its pid and it dies with the run.
        child = server = spawn("p11-kit", ["server", "-f", "-n", socket, "--provider", SOFTHSM_LIBRARY, `pkcs11:token=${encodeURIComponent(label)}`], {
          env,
          stdio: ["ignore", "pipe", log],
        });
      } finally {
        closeSync(log);
      }
      const address = await readAddress(child, logPath);
      if (address !== `unix:path=${socket}`) throw new Error(`p11-kit server listens on ${address}, not on the socket ${socket}`);
      return address;
    };
    process.once("exit", killOnExit);
    const address = await launch();
    const previous = process.env.P11_KIT_SERVER_ADDRESS;
    process.env.P11_KIT_SERVER_ADDRESS = address;
    return {
      directory,
      address,
      config: { library: P11_KIT_CLIENT, tokenLabel: label, pin: USER_PIN },
      kill: async () => {
        if (server) await killServerAndChildren(server);
      },
      restart: async () => {
        if (server) await killServerAndChildren(server);
        // A server killed with SIGKILL leaves its socket file behind; the new one binds afresh.
        rmSync(socket, { force: true });
        await launch();
      },
      stop: async () => {
        if (server) await stopServer(server);
        process.off("exit", killOnExit);
        if (previous === undefined) delete process.env.P11_KIT_SERVER_ADDRESS;
        else process.env.P11_KIT_SERVER_ADDRESS = previous;
        rmSync(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await stopServer(server);
    process.off("exit", killOnExit);
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}
