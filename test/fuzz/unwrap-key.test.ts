// Fuzzing unwrapKey with AES-KW (the wrapping mechanism SoftHSM can unwrap with): the wrapped
// bytes mutated (the token's integrity check must refuse them: OperationError), and the key
// inside mutated before wrapping (the unwrapped bytes then go through the importers: raw AES and
// HMAC keys, JWKs of AES and ECDSA keys). Each input goes to our unwrapKey and to Node's, with the
// same key-wrapping key on both: the same error name or the same key; no hang, no object left on
// the token. Where the token lacks AES-KW unwrapping, every call must be NotSupportedError.
import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { Crypto } from "../../src/index.js";
import {
  describeInput, fuzzIterations, fuzzSeed, FuzzTally, labelSeed, mutateBytes, mutateJwk, Random, settle, settledObjectCount, SPEC_ERRORS, traceInput,
} from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type Format = "raw" | "jwk";
/** Bytes on an ArrayBuffer of their own, as Web Crypto's BufferSource wants. */
type Bytes = Buffer<ArrayBuffer>;
interface Target {
  format: Format;
  /** The key inside, unmutated: raw bytes or a JWK. */
  inner: Bytes | JsonWebKey;
  algorithm: Algorithm | HmacImportParams | EcKeyImportParams;
  usages: KeyUsage[];
}

/** AES-KW wraps whole 8-byte blocks; JSON is padded with spaces, as wrapKey does. */
function plaintext(format: Format, inner: Bytes | Record<string, unknown>): Bytes {
  const bytes = format === "raw" ? (inner as Bytes) : Buffer.from(JSON.stringify(inner), "utf8");
  return format === "jwk" && bytes.length % 8 !== 0 ? Buffer.concat([bytes, Buffer.alloc(8 - (bytes.length % 8), " ")]) : bytes;
}

describe("fuzz: unwrapKey (AES-KW)", () => {
  let crypto: Crypto;
  let ourKek: CryptoKey;
  let nodeKek: CryptoKey;
  let targets: Record<string, Target>;

  before(async () => {
    crypto = new Crypto(config());
    const random = new Random(labelSeed("unwrap keys"));
    const kek = random.bytes(32);
    ourKek = await crypto.subtle.importKey("raw", kek, "AES-KW", false, ["wrapKey", "unwrapKey"]);
    nodeKek = await native.importKey("raw", kek, "AES-KW", false, ["wrapKey", "unwrapKey"]);
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.concat([Buffer.of(0), random.bytes(31)]));
    const point = ecdh.getPublicKey();
    const ecJwk = { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url"), d: ecdh.getPrivateKey().toString("base64url") };
    targets = {
      "raw AES-GCM (unwrapped on the token)": { format: "raw", inner: random.bytes(32), algorithm: { name: "AES-GCM" }, usages: ["encrypt", "decrypt"] },
      "raw HMAC (unwrapped bytes imported)": { format: "raw", inner: random.bytes(32), algorithm: { name: "HMAC", hash: "SHA-256" }, usages: ["sign", "verify"] },
      "jwk AES-CBC": { format: "jwk", inner: { kty: "oct", k: random.bytes(16).toString("base64url"), alg: "A128CBC" }, algorithm: { name: "AES-CBC" }, usages: ["encrypt"] },
      "jwk ECDSA private": { format: "jwk", inner: ecJwk, algorithm: { name: "ECDSA", namedCurve: "P-256" }, usages: ["sign"] },
    };
  });
  after(() => crypto.close());

  for (const name of ["raw AES-GCM (unwrapped on the token)", "raw HMAC (unwrapped bytes imported)", "jwk AES-CBC", "jwk ECDSA private"]) {
    it(`${name} (seed ${fuzzSeed()})`, async function () {
      this.timeout(600_000);
      const before = await settledObjectCount(crypto);
      // In a function of its own: an async function's frame keeps its last iteration's locals (a
      // key) alive while it waits, which would count as an object left on the token.
      const tally = await fuzzUnwrap(name, fuzzIterations(500));
      const after = await settledObjectCount(crypto);
      this.test!.title += ` [${tally.summary()}; ${tally.findings.length} findings]`;
      assert.deepEqual(tally.findings.slice(0, 6), [], `${tally.findings.length} findings`);
      assert.equal(after, before, "objects left on the token");
    });
  }

  async function fuzzUnwrap(name: string, iterations: number): Promise<FuzzTally> {
    const target = targets[name];
    const canUnwrap = crypto.supports("AES-KW", "unwrapKey");
    const random = new Random(labelSeed(`unwrap ${name}`));
    const tally = new FuzzTally();
    for (let i = 0; i <= iterations; i++) {
      // Input 0 is the unmutated wrapping; then half mutate the wrapping, half the key inside.
      let wrapped: Bytes;
      if (i === 0 || random.chance(0.5)) {
        wrapped = await wrapWithNode(plaintext(target.format, target.inner as Bytes));
        if (i > 0) wrapped = mutateBytes(random, wrapped).data;
      } else {
        const inner = Buffer.isBuffer(target.inner) ? mutateBytes(random, target.inner).data : mutateJwk(random, target.inner).jwk;
        const bytes = plaintext(target.format, inner);
        // What Node's wrapKey would refuse cannot be made: AES-KW needs 16+ bytes in 8-byte blocks.
        if (bytes.length < 16 || bytes.length % 8 !== 0) continue;
        wrapped = await wrapWithNode(bytes);
      }
      traceInput(`unwrap ${name} #${i}`, wrapped);
      const call = (subtle: typeof native, kek: CryptoKey) => () =>
        subtle.unwrapKey(target.format, wrapped, kek, "AES-KW", target.algorithm, true, target.usages);
      const [a, b] = await Promise.all([
        settle(call(crypto.subtle as unknown as typeof native, ourKek), 10_000, "our unwrapKey"),
        settle(call(native, nodeKek), 10_000, "Node's unwrapKey"),
      ]);
      tally.count(a.name);
      const where = `input #${i} ${describeInput(wrapped)}`;
      if (!canUnwrap) {
        if (a.name !== "NotSupportedError") tally.finding(`the token cannot unwrap with AES-KW, yet ours gave ${a.name}: ${where}`);
      } else if (i === 0 && (a.name !== "ok" || b.name !== "ok")) {
        tally.finding(`unmutated: ours ${a.name}, Node's ${b.name}: ${String(a.error ?? b.error)}`);
      } else if (a.name !== "ok" && !SPEC_ERRORS.has(a.name)) {
        tally.finding(`ours ${a.name} (not a Web Crypto error): ${String((a.error as Error)?.message)}: ${where}`);
      } else if (a.name !== b.name && wrapped.length === 0 && a.name === "OperationError" && b.name === "DataError") {
        // OpenSSL unwraps an empty input into nothing, which Node then fails to import
        // (DataError); RFC 3394 and the spec make it an OperationError, as we do.
        tally.knownDifference("an empty wrapping");
      } else if (a.name !== b.name && a.name === "NotSupportedError" && /refuses a generic secret of that size/.test(String((a.error as Error)?.message)) && wrapped.length > 256) {
        // A token that caps generic secrets (NSS: 256 bytes) cannot unwrap more through one.
        tally.knownDifference("the token's cap on unwrapped bytes");
      } else if (a.name !== b.name) {
        tally.finding(`ours ${a.name} (${String((a.error as Error)?.message)}), Node's ${b.name} (${String((b.error as Error)?.message)}): ${where}`);
      } else if (a.name === "ok") {
        const [x, y] = await Promise.all([crypto.subtle.exportKey("jwk", a.value as CryptoKey), native.exportKey("jwk", b.value as CryptoKey)]);
        if (x.k !== y.k || x.d !== y.d || x.x !== y.x) tally.finding(`both unwrapped, but the keys differ: ${where}`);
      }
    }
    return tally;
  }

  async function wrapWithNode(bytes: Bytes): Promise<Bytes> {
    // Wrap the bytes as a raw generic key of Node's: HMAC takes any length.
    const carrier = await native.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    return Buffer.from(await native.wrapKey("raw", carrier, nodeKek, "AES-KW"));
  }
});
