// The CLI's interface through the real binary: help, exit codes, the ways to name a token, and PIN
// handling (prompt without echo, environment, file; refused on the command line; never printed).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SOFTHSM_LIBRARY } from "../support/softhsm.js";
import { tokenKind } from "../support/tokens.js";
import { BIN, CliToken, ensureBuilt, hasScript, LABEL, PIN } from "./cli-support.js";

const COMMANDS = [
  "slots", "tokens", "algorithms", "keys list", "keys generate", "keys import", "keys export", "keys delete",
  "certs list", "certs import", "certs export", "certs delete", "csr", "self-signed", "sign", "verify",
];

if (tokenKind() === "softhsm") describe("CLI: help, exit codes, token and PIN options", function () {
  let cli: CliToken;

  before(() => {
    ensureBuilt();
    cli = CliToken.create();
  });

  after(() => {
    // Every line the binary printed in this file, successes and failures alike.
    const leaked = cli.outputs.filter((output) => output.includes(PIN));
    cli.remove();
    assert.deepEqual(leaked, [], "the PIN appeared in the CLI's output");
  });

  it("--help lists every command and the exit codes; no arguments is a usage error on stderr", () => {
    const help = cli.run(["--help"]);
    assert.equal(help.code, 0);
    const listed = help.stdout.split("Commands:\n")[1].split("\n\n")[0].split("\n").map((line) => line.trim().split(/\s{2,}/)[0]);
    assert.deepEqual(listed, COMMANDS);
    assert.match(help.stdout, /Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 .*\n\s+3 /);
    const bare = cli.run([]);
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, "");
    assert.match(bare.stderr, /^Usage: pkcs11-webcrypto <command>/);
  });

  it("is the package's bin, runnable by its shebang as an installed command is", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    assert.equal(resolve(pkg.bin["pkcs11-webcrypto"]), BIN);
    const direct = spawnSync(BIN, ["--help"], { encoding: "utf8", env: cli.env });
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(direct.stdout, cli.run(["--help"]).stdout);
  });

  it("every command has --help with its usage line, token options and exit codes (exit 0)", () => {
    for (const name of COMMANDS) {
      const result = cli.run([...name.split(" "), "--help"]);
      assert.equal(result.code, 0, name);
      assert.ok(result.stdout.startsWith(`Usage: pkcs11-webcrypto ${name}`), name);
      assert.match(result.stdout, /--module PATH/, name);
      assert.match(result.stdout, /Exit codes:/, name);
    }
    const group = cli.run(["keys", "--help"]);
    assert.equal(group.code, 0);
    for (const sub of ["list", "generate", "import", "export", "delete"]) assert.match(group.stdout, new RegExp(`keys ${sub} `));
  });

  it("usage errors exit 2: unknown command, subcommand, option, missing argument, bad value", () => {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command "frobnicate"/],
      [["keys", "frobnicate", ...cli.login], /unknown command "keys frobnicate"/],
      [["keys", "list", "--frobnicate", ...cli.login], /unknown option --frobnicate/],
      [["keys", "list", "--json=yes", ...cli.login], /--json takes no value/],
      [["sign", ...cli.login], /usage: pkcs11-webcrypto sign/],
      [["keys", "generate", "ECDSA", "--curve", "P-999", ...cli.login], /unknown curve "P-999"/],
      [["keys", "generate", "Rot13", ...cli.login], /unknown algorithm "Rot13"/],
      [["keys", "delete", "not-an-id", ...cli.login], /is not a key id/],
      [["keys", "list"], /no PKCS#11 module/],
      [["keys", "list", "--slot", "first", "--module", SOFTHSM_LIBRARY], /--slot takes a number/],
      [["keys", "list", ...cli.token, "--pin-env", "PKCS11_WEBCRYPTO_NO_SUCH_VARIABLE"], /--pin-env PKCS11_WEBCRYPTO_NO_SUCH_VARIABLE: the environment variable is not set/],
      [["keys", "list", ...cli.token, "--pin-file", cli.path("missing")], /--pin-file .*missing: cannot read it \(ENOENT\)/],
      [["csr", "--key", "00", ...cli.login], /--subject is required/],
      [["self-signed", "--key", "00", "--subject", "CN=x", "--days", "0", ...cli.login], /--days/],
      [["keys", "import", cli.path("missing.pem"), ...cli.login], /cannot read it \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const result = cli.run(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
      assert.equal(result.stdout, "", args.join(" "));
    }
  });

  it("token errors exit 3: no module file, no such token, wrong PIN, no PIN and no terminal", () => {
    const missingModule = cli.run(["keys", "list", "--module", "/nonexistent/libpkcs11.so"]);
    assert.equal(missingModule.code, 3);
    assert.match(missingModule.stderr, /module not found/);
    const noToken = cli.run(["algorithms", "--module", SOFTHSM_LIBRARY, "--token", "no-such-token"]);
    assert.equal(noToken.code, 3);
    assert.match(noToken.stderr, new RegExp(`No token matches tokenLabel "no-such-token".*"${LABEL}"`));
    const wrongPin = cli.run(["keys", "list", ...cli.token, "--pin-file", cli.file("wrong-pin", "0000-not-it\n")]);
    assert.equal(wrongPin.code, 3);
    assert.match(wrongPin.stderr, /PIN is incorrect \(CKR_PIN_INCORRECT\)/);
    assert.doesNotMatch(wrongPin.stderr, /0000-not-it/);
    // spawnSync gives the child a pipe, not a terminal: there is nobody to ask.
    const noPin = cli.run(["keys", "list", ...cli.token]);
    assert.equal(noPin.code, 3);
    assert.match(noPin.stderr, /needs the user PIN: give --pin-env VAR or --pin-file FILE/);
    // The wrong PIN counted against the token; a right one resets the count for the tests after this.
    assert.equal(cli.run(["keys", "list", ...cli.login]).code, 0);
  });

  it("refuses a PIN on the command line (--pin, a URI's pin-value) without repeating it", () => {
    for (const args of [["--pin", PIN], [`--pin=${PIN}`]]) {
      const result = cli.run(["keys", "list", ...cli.token, ...args]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /there is no --pin option: a command line is visible to other users/);
    }
    const uri = `pkcs11:token=${LABEL}?module-path=${SOFTHSM_LIBRARY}&pin-value=${PIN}`;
    const result = cli.run(["keys", "list", "--uri", uri]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pin-value/);
    // The after hook checks that neither PIN appeared in any of this.
  });

  it("slots and tokens list the module's token with the serial softhsm2-util reported", () => {
    const slots = cli.json(["slots", "--module", SOFTHSM_LIBRARY]);
    const ours = slots.filter((slot: any) => slot.token?.label === LABEL);
    assert.equal(ours.length, 1);
    assert.equal(ours[0].token.serial, cli.serial);
    assert.equal(ours[0].token.loginRequired, true);
    assert.equal(ours[0].index, 0);
    // SoftHSM always offers one more, uninitialized token.
    assert.ok(slots.some((slot: any) => slot.token && !slot.token.tokenInitialized));
    assert.deepEqual(cli.json(["slots", "--uri", `pkcs11:?module-path=${SOFTHSM_LIBRARY}`]), slots);
    const tokens = cli.json(["tokens", "--module", SOFTHSM_LIBRARY]);
    assert.ok(tokens.every((slot: any) => slot.tokenPresent));
    const table = cli.run(["tokens", "--module", SOFTHSM_LIBRARY]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^INDEX\s+SLOT ID\s+LABEL\s+SERIAL\s+MANUFACTURER\s+MODEL\s+FLAGS\n/);
    assert.match(table.stdout, new RegExp(`\\n0\\s+\\d+\\s+${LABEL}\\s+${cli.serial}\\s+SoftHSM project\\s+SoftHSM v2\\s+initialized, login required`));
  });

  it("algorithms: the same token named four ways (options, --config, --uri, --slot) gives the same answer", () => {
    const byOptions = cli.json(["algorithms", ...cli.token]);
    assert.equal(byOptions.token.serial, cli.serial);
    assert.deepEqual(byOptions.algorithms.ECDSA, ["generateKey", "importKey", "exportKey", "sign", "verify"]);
    const config = cli.file("config.json", JSON.stringify({ library: SOFTHSM_LIBRARY, tokenSerial: cli.serial }));
    assert.deepEqual(cli.json(["algorithms", "--config", config]), byOptions);
    assert.deepEqual(cli.json(["algorithms", "--uri", `pkcs11:serial=${cli.serial}?module-path=${SOFTHSM_LIBRARY}`]), byOptions);
    assert.deepEqual(cli.json(["algorithms", "--module", SOFTHSM_LIBRARY, "--slot", "0"]), byOptions);
    const withMechanisms = cli.json(["algorithms", ...cli.token, "--mechanisms"]);
    assert.ok(withMechanisms.mechanisms.includes("CKM_ECDSA"));
    const table = cli.run(["algorithms", ...cli.token]);
    assert.match(table.stdout, /\nECDSA\s+generateKey, importKey, exportKey, sign, verify\n/);
  });

  it("takes the PIN from --pin-env, --pin-file, a --config file and a URI's pin-source", () => {
    const listed = (args: string[], env: NodeJS.ProcessEnv = {}) => cli.json(["keys", "list", ...args], env);
    const expected = listed(cli.login);
    assert.deepEqual(listed([...cli.token, "--pin-env", "CLI_TEST_PIN"], { CLI_TEST_PIN: PIN }), expected);
    const config = cli.file("config-pin.json", JSON.stringify({ library: SOFTHSM_LIBRARY, tokenLabel: LABEL, pin: PIN }));
    assert.deepEqual(listed(["--config", config]), expected);
    assert.deepEqual(listed(["--uri", `pkcs11:token=${LABEL}?module-path=${SOFTHSM_LIBRARY}&pin-source=file:${cli.pinFile}`]), expected);
    // Options may come before the command's words too.
    const before = cli.run(["--module", SOFTHSM_LIBRARY, "--token", LABEL, "keys", "--pin-file", cli.pinFile, "list", "--json"]);
    assert.equal(before.code, 0, before.stderr);
    assert.deepEqual(JSON.parse(before.stdout), expected);
  });

  it("asks for the PIN at a terminal and does not echo it", async function () {
    if (!hasScript()) this.skip(); // util-linux's `script` makes the pseudo-terminal
    const asked = await cli.runOnTerminal(["keys", "list", ...cli.token], `${PIN}\r`);
    assert.equal(asked.code, 0, asked.stdout);
    assert.match(asked.stdout, new RegExp(`PIN for token "${LABEL}": `));
    assert.match(asked.stdout, /No keys on token|^ID\s+TYPE/m);
    assert.ok(!asked.stdout.includes(PIN), "the PIN was echoed");
    const wrong = await cli.runOnTerminal(["keys", "list", ...cli.token], "0000-not-it\r");
    assert.equal(wrong.code, 3);
    assert.ok(!wrong.stdout.includes("0000-not-it"), "the wrong PIN was echoed");
    const interrupted = await cli.runOnTerminal(["keys", "list", ...cli.token], "\u0003");
    assert.equal(interrupted.code, 3);
    assert.match(interrupted.stdout, /no PIN entered/);
    assert.equal(cli.run(["keys", "list", ...cli.login]).code, 0);
  });
});
