// Fuzzing certStorage.importCert: X.509 certificates (EC P-256, RSA, Ed25519) and a PKCS#10
// request (EC P-384), as DER ("raw") and as PEM text, mutated from the files in
// test/fuzz/corpus/. Each input must give a certificate item or a Web Crypto error (DataError,
// TypeError, NotSupportedError, ...), no hang, and nothing on the token (importCert writes
// nothing until setItem). Node's X509Certificate is the second opinion on certificates: a
// certificate we accept and it refuses is a finding (@peculiar/asn1-schema alone accepted some
// inner DER that OpenSSL refuses, so src/storage/certificate-data.ts now asks Node too); the
// title counts where the two agree.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Crypto } from "../../src/index.js";
import {
  describeInput, fuzzIterations, fuzzSeed, FuzzTally, labelSeed, mutateBytes, mutateString, Random, settle, settledObjectCount, SPEC_ERRORS, traceInput,
} from "../support/fuzz.js";
import { config } from "../support/tokens.js";

const CORPUS = join(__dirname, "corpus");
const SEEDS = ["ec-certificate.pem", "rsa-certificate.pem", "ed25519-certificate.pem", "ec-request.pem"].map((file) => {
  const pem = readFileSync(join(CORPUS, file), "utf8");
  return { file, pem, der: Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"), request: file.includes("request") };
});

type CertStorage = { importCert(format: string, data: unknown): Promise<unknown> };

describe("fuzz: certStorage.importCert", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  async function fuzzImportCert(format: "raw" | "pem", iterations: number): Promise<{ tally: FuzzTally; agreed: number; compared: number; lax: number }> {
    const storage = (crypto as unknown as { certStorage: CertStorage }).certStorage;
    const random = new Random(labelSeed(`importCert ${format}`));
    const tally = new FuzzTally();
    let agreed = 0;
    let compared = 0;
    let lax = 0;
    for (let i = 0; i < iterations + SEEDS.length; i++) {
      const seed = i < SEEDS.length ? SEEDS[i] : random.pick(SEEDS);
      let input: Buffer | string;
      if (i < SEEDS.length) input = format === "raw" ? seed.der : seed.pem;
      else if (format === "raw") input = mutateBytes(random, seed.der).data;
      else if (random.chance(0.5)) input = mutateString(random, seed.pem);
      else {
        // The DER inside mutated, in a well-formed PEM block.
        const label = seed.request ? "CERTIFICATE REQUEST" : "CERTIFICATE";
        input = `-----BEGIN ${label}-----\n${mutateBytes(random, seed.der).data.toString("base64")}\n-----END ${label}-----\n`;
      }
      traceInput(`importCert ${format} #${i}`, input);
      const ours = await settle(() => storage.importCert(format, input), 10_000, "importCert");
      tally.count(ours.name);
      const where = `${seed.file} input #${i} ${describeInput(input)}`;
      // A token without the key's algorithm (NSS: no Ed25519) answers NotSupportedError.
      const lacking = seed.file.startsWith("ed25519") && !crypto.supports("Ed25519", "importKey");
      if (lacking && ours.name !== "ok" && ours.name !== "NotSupportedError" && i < SEEDS.length) tally.finding(`an unmutated seed failed: ${ours.name}: ${where}`);
      else if (lacking) continue;
      else if (i < SEEDS.length && ours.name !== "ok") tally.finding(`an unmutated seed failed: ${ours.name} ${String((ours.error as Error)?.message)}: ${where}`);
      else if (ours.name !== "ok" && !SPEC_ERRORS.has(ours.name)) tally.finding(`${ours.name} (not a Web Crypto error): ${String((ours.error as Error)?.message)}: ${where}`);
      if (seed.request) continue;
      // Node's opinion of the same DER (for PEM, of the DER the block holds, when it has one).
      const der = typeof input === "string" ? pemBody(input) : input;
      if (der === undefined) continue;
      let nodeAccepts: boolean;
      try {
        new X509Certificate(der);
        nodeAccepts = true;
      } catch {
        nodeAccepts = false;
      }
      compared++;
      if (nodeAccepts === (ours.name === "ok")) agreed++;
      else if (ours.name === "ok") {
        lax++;
        tally.finding(`accepted, Node's X509Certificate refuses: ${where}`);
      }
    }
    return { tally, agreed, compared, lax };
  }

  for (const format of ["raw", "pem"] as const) {
    it(`importCert("${format}") (seed ${fuzzSeed()})`, async function () {
      this.timeout(600_000);
      const storage = (crypto as unknown as { certStorage?: CertStorage }).certStorage;
      if (typeof storage?.importCert !== "function") throw new Error("crypto.certStorage.importCert is missing");
      const before = await settledObjectCount(crypto);
      const { tally, agreed, compared, lax } = await fuzzImportCert(format, fuzzIterations(400));
      const after = await settledObjectCount(crypto);
      this.test!.title += ` [${tally.summary()}; Node's X509Certificate agreed on ${agreed} of ${compared}, ${lax} accepted that it refuses; ${tally.findings.length} findings]`;
      if (tally.findings.length > 0) throw new Error(`${tally.findings.length} findings, the first ones:\n  ${tally.findings.slice(0, 6).join("\n  ")}`);
      if (after !== before) throw new Error(`${after - before} objects left on the token`);
    });
  }
});

function pemBody(text: string): Buffer | undefined {
  const match = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/.exec(text);
  return match ? Buffer.from(match[1].replace(/\s/g, ""), "base64") : undefined;
}
