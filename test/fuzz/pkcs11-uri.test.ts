// Fuzzing PKCS#11 URIs (RFC 7512): parsePkcs11Uri, and new Crypto(uri) with the result. Mutated
// from valid URIs naming the test tokens. Each input must give a parsed URI or a TypeError (the
// parser), and a connected Crypto, a TypeError or a TokenError (the constructor): nothing else
// (no URIError, RangeError or raw PKCS#11 error), no hang, and never the PIN in a message or a
// stack: the seeds carry distinctive PINs so that any echo shows. SoftHSM on every TEST_TOKEN:
// this is about our parser and connection code. FUZZ_ITERATIONS for the long run.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Crypto, parsePkcs11Uri, TokenError } from "../../src/index.js";
import { fuzzIterations, fuzzSeed, FuzzTally, labelSeed, mutateString, Random, traceInput } from "../support/fuzz.js";
import { softHsmConfig, SOFTHSM_LIBRARY, tokenSerial, USER_PIN } from "../support/tokens.js";

/** A wrong PIN no other part of a URI contains, so that any echo of it is plain. */
const WRONG_PIN = "Qv7pin9Zk";

describe("fuzz: PKCS#11 URIs", () => {
  let keeper: Crypto;
  let directory: string;
  let seeds: string[];

  before(() => {
    // Holds the module loaded, so that each fuzzed connection shares it instead of reloading it.
    keeper = new Crypto(softHsmConfig("main"));
    directory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-uri-"));
    const pinFile = join(directory, "pin");
    writeFileSync(pinFile, `${USER_PIN}\n`);
    const module = encodeURIComponent(SOFTHSM_LIBRARY).replace(/%2F/g, "/");
    seeds = [
      `pkcs11:token=main?module-path=${module}&pin-value=${USER_PIN}`,
      `pkcs11:token=second;serial=${tokenSerial("second")}?module-path=${module}&pin-value=${WRONG_PIN}`,
      `pkcs11:serial=${tokenSerial("main")};manufacturer=SoftHSM%20project;model=SoftHSM%20v2?module-name=softhsm2&pin-source=file:${pinFile}`,
      `pkcs11:token=lockout;object=key;type=private;id=%01%02?module-path=${module}&pin-value=${WRONG_PIN}`,
      `pkcs11:slot-id=0;token=m%61in?module-path=${module}&x-library-parameters=abc`,
    ];
  });
  after(async () => {
    await keeper.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /**
   * The PIN a URI means to give: the value of a query item that starts with pin-value (with or
   * without its "=", as a mutation may leave it), decoded where it decodes; only when long enough
   * to spot. (Text that merely contains "pin-value=" inside another attribute is no PIN.)
   */
  function pinOf(uri: string): string | undefined {
    const question = uri.indexOf("?");
    if (question < 0) return undefined;
    for (const item of uri.slice(question + 1).split("&")) {
      const match = /^pin-value=?(.*)$/is.exec(item);
      if (!match) continue;
      let pin: string;
      try {
        pin = decodeURIComponent(match[1]);
      } catch {
        pin = match[1];
      }
      // A PIN copied into another attribute as well (a token label, a path) may show there.
      const elsewhere = uri.split(pin).length - 1 > 1;
      if (pin.length >= 6 && !elsewhere) return pin;
    }
    return undefined;
  }

  function checkNoPin(error: unknown, pin: string | undefined, where: string, tally: FuzzTally): void {
    if (!pin) return;
    const text = `${(error as Error)?.message}\n${(error as Error)?.stack}\n${inspect(error, { depth: 5 })}`;
    if (text.includes(pin)) tally.finding(`the PIN appears in the error: ${(error as Error)?.message}: ${where}`);
  }

  it(`parsePkcs11Uri and new Crypto(uri) (seed ${fuzzSeed()})`, async function () {
    this.timeout(600_000);
    const random = new Random(labelSeed("pkcs11 uri"));
    const tally = new FuzzTally();
    const iterations = fuzzIterations(500);
    for (let i = 0; i < iterations + seeds.length; i++) {
      const uri = i < seeds.length ? seeds[i] : mutateString(random, random.pick(seeds));
      traceInput(`uri #${i}`, uri);
      const pin = pinOf(uri);
      const where = `input #${i} ${JSON.stringify(uri)}`;
      let parsed = true;
      try {
        parsePkcs11Uri(uri);
      } catch (error) {
        parsed = false;
        if (!(error instanceof TypeError)) tally.finding(`parsePkcs11Uri threw ${(error as Error)?.name}: ${(error as Error)?.message}: ${where}`);
        checkNoPin(error, pin, where, tally);
      }
      let crypto: Crypto | undefined;
      const started = Date.now();
      try {
        crypto = new Crypto(uri);
        tally.count("connected");
      } catch (error) {
        tally.count((error as Error)?.name ?? "?");
        if (!(error instanceof TypeError) && !(error instanceof TokenError)) {
          tally.finding(`new Crypto threw ${(error as Error)?.name}: ${(error as Error)?.message}: ${where}`);
        }
        if (parsed === false && !(error instanceof TypeError)) tally.finding(`the parser refused it, but new Crypto threw ${(error as Error)?.name}: ${where}`);
        checkNoPin(error, pin, where, tally);
      } finally {
        await crypto?.close();
      }
      if (Date.now() - started > 10_000) tally.finding(`new Crypto took ${Date.now() - started} ms: ${where}`);
      if (crypto) checkNoPin(new Error(inspect(crypto, { depth: 5 })), pin, `util.inspect of the Crypto, ${where}`, tally);
      // Seeds 1 and 3 have a wrong PIN; seed 4 asks for library parameters the loaded module was
      // not initialized with (MODULE_PARAMETERS_CONFLICT). The others must connect.
      if ((i === 0 || i === 2) && !crypto) tally.finding(`an unmutated seed did not connect: ${where}`);
    }
    this.test!.title += ` [${tally.summary()}; ${tally.findings.length} findings]`;
    assert.deepEqual(tally.findings.slice(0, 6), [], `${tally.findings.length} findings`);
  });
});
