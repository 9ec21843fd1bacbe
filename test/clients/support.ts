/**
 * What the client tests share: a Crypto on the test token with a scratch directory for the files an
 * example writes, running an example as the script a user runs, and spoiling a file so that a test
 * can show the external verifier does reject (a verifier that accepts everything proves nothing).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Crypto } from "../../src/index.js";
import { config } from "../support/tokens.js";

export interface ExampleContext {
  crypto: Crypto;
  workDirectory: string;
  /** The example's steps, collected rather than printed. */
  log: (text: string) => void;
  steps: string[];
}

/**
 * The test token's configuration for a client. Clients hash as much as they sign (certificate key
 * identifiers, CMS message digests, XML references); a token without digest mechanisms (NSS's
 * "NSS Certificate DB" slot has none: they are on its "Generic Crypto Services" slot) answers
 * NotSupportedError, so there a client needs `software: "public"`, which runs digests and
 * public-key operations in Node's crypto and leaves every private-key operation on the token.
 */
async function clientConfig(): Promise<ReturnType<typeof config>> {
  const probe = new Crypto(config());
  try {
    const digests = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"].every((hash) => probe.supports(hash, "digest"));
    return digests ? config() : config("main", { software: "public" });
  } finally {
    await probe.close();
  }
}

/** A Crypto on the test token and a scratch directory, for mocha's before/after hooks. */
export function exampleContext(): { open(): Promise<ExampleContext>; close(): Promise<void> } {
  let context: ExampleContext | undefined;
  return {
    async open() {
      const steps: string[] = [];
      context = {
        crypto: new Crypto(await clientConfig()),
        workDirectory: mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-client-test-")),
        log: (text) => steps.push(text),
        steps,
      };
      return context;
    },
    async close() {
      if (!context) return;
      try {
        await context.crypto.close();
      } finally {
        rmSync(context.workDirectory, { recursive: true, force: true });
        context = undefined;
      }
    },
  };
}

/**
 * Runs `node examples/<name>` as a user would (a throwaway SoftHSM token of its own, the built
 * package from dist/) and returns its output; fails the test unless it exits 0.
 */
export function runExampleScript(name: string): string {
  const result = spawnSync(process.execPath, [join("examples", name)], { encoding: "utf8", timeout: 90_000 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  assert.equal(result.status, 0, `node examples/${name} exited with ${result.status}:\n${output}`);
  assert.match(output, /removed the token directory/);
  return output;
}

/** Writes a copy of `path` with one byte changed (the first occurrence of `find` replaced). */
export function tamperedCopy(path: string, find: string | Buffer, replace: string | Buffer): string {
  const bytes = readFileSync(path);
  const needle = Buffer.from(find);
  const at = bytes.indexOf(needle);
  assert.ok(at >= 0, `${path} does not contain ${needle.toString()}`);
  const copy = Buffer.concat([bytes.subarray(0, at), Buffer.from(replace), bytes.subarray(at + needle.length)]);
  const tampered = `${path}.tampered`;
  writeFileSync(tampered, copy);
  return tampered;
}

/** A copy of a file with one bit flipped at `offset` (negative: from the end). */
export function flippedCopy(path: string, offset: number, asPath = `${path}.flipped`): string {
  const bytes = Buffer.from(readFileSync(path));
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] ^= 0x01;
  writeFileSync(asPath, bytes);
  return asPath;
}

/** The private key stays on the token: marked non-extractable, and the token refuses to export it. */
export async function assertNotExtractable(crypto: Crypto, key: CryptoKey): Promise<void> {
  assert.equal(key.extractable, false);
  assert.equal(key.type, "private");
  await assert.rejects(crypto.subtle.exportKey("pkcs8", key), { name: "InvalidAccessError" });
}
