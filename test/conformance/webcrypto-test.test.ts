/**
 * Conformance: the @peculiar/webcrypto-test suite (1.0.x) against our Crypto on the test token.
 *
 * webcrypto-test defines its tests with mocha's global `context` and `it` when
 * `WebcryptoTest.check(crypto)` runs. Here those globals are swapped for collectors during that
 * call, so every test of the suite (vector > operation group > test) is collected, then defined
 * again as a mocha test of ours that runs it and judges the outcome:
 *
 *   - it passes: the test passes, unless an allowlist entry says it should fail (a stale entry
 *     fails the test, so the list cannot keep claiming a limit that is gone);
 *   - it fails and an applicable allowlist entry names this test with this error name and message:
 *     the test passes as a known failure, its title says so, and the same suite test is run
 *     against Node's WebCrypto to check the entry's claim (kind "suite": Node fails it with the
 *     same error name; kinds "token" and "unimplemented": Node passes it, so the failure is ours);
 *   - anything else fails the test, with the suite's own error.
 *
 * After the run a table gives, per vector, how many tests passed, failed as known (by kind) and
 * failed unexplained. scripts/conformance.mjs runs the unmodified suite against ours,
 * node-webcrypto-p11 and Node for the comparison table.
 */
import assert from "node:assert/strict";
import { WebcryptoTest } from "@peculiar/webcrypto-test";
import { Crypto } from "../../src/index.js";
import { config } from "../support/tokens.js";

/** One test of the suite, as webcrypto-test defined it. */
interface SuiteTest {
  vector: string;
  group: string;
  title: string;
  run: () => Promise<void>;
}

/** Runs webcrypto-test's registration against `crypto` with collectors in place of mocha's globals. */
function collect(crypto: unknown): SuiteTest[] {
  const tests: SuiteTest[] = [];
  const path: string[] = [];
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { context: g.context, describe: g.describe, it: g.it };
  const suite = (title: string, body: () => void) => {
    path.push(title);
    try {
      body();
    } finally {
      path.pop();
    }
  };
  const test = (title: string, body: () => Promise<void>) => {
    if (path.length !== 2) throw new Error(`webcrypto-test defined "${title}" at an unexpected depth: ${path.join(" > ")}`);
    tests.push({ vector: path[0], group: path[1], title, run: body });
  };
  const only = () => {
    throw new Error("webcrypto-test defined an it.only test: this harness would run everything regardless");
  };
  const skip = (title: string) => {
    throw new Error(`webcrypto-test skips "${title}": record it here before accepting a skipped test`);
  };
  g.context = g.describe = suite;
  g.it = Object.assign(test, { only, skip });
  try {
    // The suite wants the DOM's Crypto type; it uses only `crypto.subtle`.
    WebcryptoTest.check(crypto as Parameters<typeof WebcryptoTest.check>[0]);
  } finally {
    Object.assign(g, saved);
  }
  return tests;
}

type Kind =
  /** webcrypto-test expects what Web Crypto (and Node, the oracle) does not do; Node fails it alike. */
  | "suite"
  /** The token cannot: a documented SoftHSM limit (README, "Where SoftHSM cannot"). */
  | "token"
  /** Not implemented yet (README, "What is implemented"). */
  | "unimplemented";

interface KnownFailure {
  kind: Kind;
  vectors: string[];
  /** Operation group ("Generate Key", "Import/Export", ...); any when absent. */
  group?: string;
  /** Test titles within the group; any when absent. */
  tests?: string[];
  /** Test titles the entry does not cover. */
  except?: string[];
  /** The error the test must fail with: its name and a pattern for its message. */
  error: { name: string; message: RegExp };
  /** Whether the entry applies to this run (token kind, capabilities); always when absent. */
  applies?: (run: { token: string; crypto: Crypto }) => boolean;
  /** Short reason, shown in the test title and the summary. */
  reason: string;
}

/** The token kind of this run, by the rule test/support/tokens.ts uses. "remote" is SoftHSM behind p11-kit. */
const TOKEN = process.env.TEST_TOKEN || "softhsm";
const onSoftHsm = ({ token }: { token: string }) => token === "softhsm" || token === "remote";

const ALL_ECDH_IMPORTS = ["JWK public key", "SPKI", "RAW", "JWK private key", "PKCS8"].flatMap((format) =>
  ["P-256", "P-384", "P-521"].map((curve) => `${format} ${curve}`));

/**
 * Every failure this file accepts, each with why. Entries match by vector, group, test title,
 * error name and message; a failure no entry matches fails `npm test`.
 */
const KNOWN_FAILURES: KnownFailure[] = [
  // AES-CMAC, AES-ECB, DES-CBC and 3DES-CBC are webcrypto-core extensions, not Web Crypto
  // algorithms: Node (like browsers) rejects the names in "normalize an algorithm".
  {
    kind: "suite",
    vectors: ["AES-128-CMAC", "AES-192-CMAC", "AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "DES-CBC", "DES-EDE3-CBC"],
    // The suite's "wrong key size" import expects any Error, so it passes for an unknown name too.
    except: ["wrong key size"],
    error: { name: "NotSupportedError", message: /^Unrecognized algorithm name$/ },
    reason: "not a Web Crypto algorithm",
  },
  // RSAES-PKCS1-v1_5 was removed from the Web Crypto spec (2014, Bleichenbacher padding oracles);
  // Node does not have it.
  {
    kind: "suite",
    vectors: ["RSAES-PKCS1-v1_5"],
    error: { name: "NotSupportedError", message: /^Unrecognized algorithm name$/ },
    reason: "removed from Web Crypto",
  },
  // K-256 (secp256k1) is not one of Web Crypto's named curves (P-256, P-384, P-521): generating
  // and importing such keys is NotSupportedError.
  {
    kind: "suite",
    vectors: ["ECDH", "ECDSA"],
    tests: ["K-256", "K-256 128"],
    error: { name: "NotSupportedError", message: /^Unrecognized namedCurve$/ },
    reason: "K-256 is not a Web Crypto curve",
  },
  // The same for the suite's second ECDSA signature test, whose keys are K-256 (it has no name).
  {
    kind: "suite",
    vectors: ["ECDSA"],
    group: "Sign/Verify",
    tests: ["#2"],
    error: { name: "NotSupportedError", message: /^Unrecognized namedCurve$/ },
    reason: "K-256 is not a Web Crypto curve",
  },
  // The suite imports ECDH keys with the usages "verify" (public) and "sign" (private); ECDH keys
  // take only deriveKey/deriveBits (public keys none), so importKey throws SyntaxError, as in Node.
  {
    kind: "suite",
    vectors: ["ECDH"],
    group: "Import/Export",
    tests: ALL_ECDH_IMPORTS,
    error: { name: "SyntaxError", message: /^Unsupported key usage for a ECDH key$/ },
    reason: "ECDH keys cannot have sign/verify usages",
  },
  // The suite expects a 512-bit default HMAC key for every hash; the spec's default is the hash's
  // block size, 1024 bits for SHA-384 and SHA-512 (Node says 1024 too).
  {
    kind: "suite",
    vectors: ["HMAC"],
    group: "Generate Key",
    tests: ["default length for SHA-384 algorithm", "default length for SHA-512 algorithm"],
    error: { name: "AssertionError", message: /^1024 == 512$/ },
    reason: "spec default HMAC length is the hash's block size",
  },
  // The suite expects a 164-bit HMAC length to be rounded down to 160; Node rejects lengths that
  // are not a multiple of 8 with TypeError, and we follow Node.
  {
    kind: "suite",
    vectors: ["HMAC"],
    group: "Generate Key",
    tests: ["Round length 164->160"],
    error: { name: "TypeError", message: /must be a multiple of 8\. Received 164$/ },
    reason: "Node rejects HMAC lengths that are not a multiple of 8",
  },
  // SoftHSM's CKM_AES_CBC_PAD lacks CKF_WRAP, and we do not wrap by encrypting with a key that
  // holds the wrapKey usage (README, "Wrapping"): wrapping with AES-CBC is NotSupportedError.
  {
    kind: "token",
    vectors: ["AES-128-CBC"],
    group: "Wrap/Unwrap key",
    error: { name: "NotSupportedError", message: /^wrapKey with AES-CBC is not supported by token "[^"]*": its CKM_AES_CBC_PAD cannot wrap \(no CKF_WRAP\)$/ },
    applies: onSoftHsm,
    reason: "SoftHSM cannot wrap with AES-CBC",
  },
  // The suite's RSA-OAEP keys use SHA-256; SoftHSM's CKM_RSA_PKCS_OAEP does SHA-1 only, and no
  // labels (README, "Where SoftHSM cannot").
  {
    kind: "token",
    vectors: ["RSA-OAEP"],
    group: "Encrypt/Decrypt",
    tests: ["with label", "without label"],
    error: { name: "NotSupportedError", message: /^RSA-OAEP encryption with SHA-256( and a label)? is not supported by token "[^"]*": it refuses these RSA-OAEP parameters \(CKR_ARGUMENTS_BAD\)$/ },
    applies: onSoftHsm,
    reason: "SoftHSM does RSA-OAEP with SHA-1 only",
  },
  // Tokens without a mechanism (decided from what the token lists, through crypto.supports):
  // NSS softokn's "NSS Certificate DB" lists no CKM_SHA* digests; p11-kit 0.24's remote token
  // drops CKM_AES_CBC(_PAD), CKM_AES_CTR, CKM_AES_GCM, CKM_AES_KEY_WRAP and CKM_ECDH1_DERIVE.
  // Each test then fails with our NotSupportedError naming the mechanism; Node passes it.
  ...(["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const).map((hash): KnownFailure => ({
    kind: "token",
    vectors: ["SHA"],
    group: "Digest",
    tests: [hash],
    error: { name: "NotSupportedError", message: new RegExp(`^${hash} digest is not supported by token "[^"]*": it lacks CKM_${hash === "SHA-1" ? "SHA_1" : hash.replace("-", "")}$`) },
    applies: ({ crypto }) => !crypto.supports(hash, "digest"),
    reason: `the token has no ${hash} digest`,
  })),
  ...([["AES-CBC", "CKM_AES_CBC_PAD"], ["AES-CTR", "CKM_AES_CTR"], ["AES-GCM", "CKM_AES_GCM"]] as const).map(([mode, mechanism]): KnownFailure => ({
    kind: "token",
    vectors: [128, 192, 256].map((bits) => `AES-${bits}-${mode.slice(4)}`),
    group: "Encrypt/Decrypt",
    tests: ["#1"],
    error: { name: "NotSupportedError", message: new RegExp(`^${mode} (en|de)cryption is not supported by token "[^"]*": it lacks ${mechanism}$`) },
    applies: ({ crypto }) => !crypto.supports(mode, "encrypt"),
    reason: `the token has no ${mechanism}`,
  })),
  {
    kind: "token",
    vectors: ["AES-128-KW", "AES-192-KW", "AES-256-KW"],
    group: "Wrap/Unwrap key",
    tests: ["#1"],
    error: { name: "NotSupportedError", message: /^(wrap|unwrap)Key with AES-KW is not supported by token "[^"]*": its CKM_AES_KEY_WRAP cannot (wrap|unwrap) \(no CKF_(WRAP|UNWRAP)\)$/ },
    applies: ({ crypto }) => !crypto.supports("AES-KW", "wrapKey"),
    reason: "the token cannot wrap with CKM_AES_KEY_WRAP",
  },
  {
    kind: "token",
    vectors: ["ECDH"],
    tests: ["P-256 128", "P-384 192", "P-521 256"],
    error: { name: "NotSupportedError", message: /^ECDH key agreement is not supported by token "[^"]*": it lacks CKM_ECDH1_DERIVE$/ },
    applies: ({ crypto }) => !crypto.supports("ECDH", "deriveBits"),
    reason: "the token has no CKM_ECDH1_DERIVE",
  },
  // HKDF and PBKDF2 are not implemented yet (README). The entries apply only while the token
  // reports no importKey for them; once implemented, the tests must pass or be explained anew.
  {
    kind: "unimplemented",
    vectors: ["HKDF"],
    error: { name: "NotSupportedError", message: /^HKDF importKey is not implemented$/ },
    applies: ({ crypto }) => !crypto.supports("HKDF", "importKey"),
    reason: "HKDF not implemented yet",
  },
  {
    kind: "unimplemented",
    vectors: ["PBKDF2"],
    error: { name: "NotSupportedError", message: /^PBKDF2 importKey is not implemented$/ },
    applies: ({ crypto }) => !crypto.supports("PBKDF2", "importKey"),
    reason: "PBKDF2 not implemented yet",
  },
];

function entryFor(test: SuiteTest): KnownFailure | undefined {
  const matching = KNOWN_FAILURES.filter((entry) =>
    entry.vectors.includes(test.vector) &&
    (entry.group === undefined || entry.group === test.group) &&
    (entry.tests === undefined || entry.tests.includes(test.title)) &&
    !(entry.except ?? []).includes(test.title));
  if (matching.length > 1) throw new Error(`${label(test)} matches ${matching.length} allowlist entries: make them disjoint`);
  return matching[0];
}

const label = (test: Pick<SuiteTest, "vector" | "group" | "title">) => `${test.vector} > ${test.group} > ${test.title}`;

async function outcome(run: () => Promise<void>): Promise<Error | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(`non-Error thrown: ${String(error)}`);
  }
}

const describeError = (error: Error) => `${error.name}: ${error.message}`;

// The suite is collected twice: against ours (through a handle, since the token exists only once
// the root hooks have run) and against Node's WebCrypto, to check the allowlist's claims.
let ours: Crypto | undefined;
const handle = {
  get subtle() {
    if (!ours) throw new Error("the conformance Crypto is not connected");
    return ours.subtle;
  },
};
const suiteTests = collect(handle);
const nodeTests = collect(globalThis.crypto);
assert.deepEqual(nodeTests.map(label), suiteTests.map(label), "webcrypto-test collected different tests for Node");

type Result = "pass" | Kind | "unexplained";
const results = new Map<string, Map<Result, number>>();
function record(vector: string, result: Result): void {
  const counts = results.get(vector) ?? new Map<Result, number>();
  counts.set(result, (counts.get(result) ?? 0) + 1);
  results.set(vector, counts);
}

describe("conformance: @peculiar/webcrypto-test", function () {
  before(function () {
    ours = new Crypto(config());
  });

  after(async function () {
    await ours?.close();
    ours = undefined;
    printSummary();
  });

  it("every allowlist entry names tests of the suite", function () {
    const unused = KNOWN_FAILURES.filter((entry) => !suiteTests.some((test) => entryFor(test) === entry));
    assert.deepEqual(unused.map((entry) => entry.reason), [], "allowlist entries that match no test");
    for (const entry of KNOWN_FAILURES) {
      for (const title of [...(entry.tests ?? []), ...(entry.except ?? [])]) {
        assert.ok(
          suiteTests.some((test) => entry.vectors.includes(test.vector) && (entry.group === undefined || entry.group === test.group) && test.title === title),
          `allowlist entry "${entry.reason}" names test "${title}", which the suite does not have`,
        );
      }
    }
  });

  const vectors = [...new Set(suiteTests.map((test) => test.vector))];
  for (const vector of vectors) {
    describe(vector, function () {
      suiteTests.forEach((test, index) => {
        if (test.vector !== vector) return;
        it(`${test.group}: ${test.title}`, async function () {
          const entry = entryFor(test);
          const applicable = entry && (entry.applies?.({ token: TOKEN, crypto: ours! }) ?? true) ? entry : undefined;
          const error = await outcome(test.run);
          if (!error) {
            if (applicable) {
              record(vector, "unexplained");
              assert.fail(`${label(test)} passes now, but the allowlist says it fails (${applicable.reason}): delete or narrow that entry`);
            }
            record(vector, "pass");
            return;
          }
          if (!applicable || error.name !== applicable.error.name || !applicable.error.message.test(error.message)) {
            record(vector, "unexplained");
            if (applicable) {
              error.message = `${error.message}\n(the allowlist expects ${applicable.error.name} ${applicable.error.message} here: ${applicable.reason})`;
            }
            throw error;
          }
          // A known failure: check the entry's claim against Node's WebCrypto on the same suite test.
          const nodeError = await outcome(nodeTests[index].run);
          try {
            if (applicable.kind === "suite") {
              assert.ok(nodeError, `${label(test)} is allowlisted as the suite's expectation ("${applicable.reason}"), but Node passes it`);
              assert.equal(nodeError.name, error.name, `${label(test)}: ours fails with ${describeError(error)}, Node with ${describeError(nodeError)}`);
            } else {
              assert.equal(nodeError, undefined, `${label(test)} is allowlisted as ours ("${applicable.reason}"), but Node fails it too: ${nodeError && describeError(nodeError)}`);
            }
          } catch (mismatch) {
            record(vector, "unexplained");
            throw mismatch;
          }
          record(vector, applicable.kind);
          this.test!.title += ` [known failure: ${applicable.reason}]`;
        });
      });
    });
  }
});

function printSummary(): void {
  const columns: Result[] = ["pass", "token", "unimplemented", "suite", "unexplained"];
  const header = ["vector", "tests", ...columns];
  const rows = [...results].map(([vector, counts]) => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return [vector, String(total), ...columns.map((column) => String(counts.get(column) ?? 0))];
  });
  const totals = columns.map((column) => [...results.values()].reduce((sum, counts) => sum + (counts.get(column) ?? 0), 0));
  rows.push(["total", String(totals.reduce((a, b) => a + b, 0)), ...totals.map(String)]);
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) => "    " + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  const out = [
    "",
    `    webcrypto-test on ${TOKEN} (known failures: token = the token cannot, unimplemented = not yet, suite = webcrypto-test expects what Web Crypto/Node does not)`,
    line(header),
    ...rows.map(line),
    "",
  ];
  process.stdout.write(out.join("\n") + "\n");
}
