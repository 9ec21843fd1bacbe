/**
 * Differential tests for SubtleCrypto.digest: SHA-1/256/384/512 computed on the token must equal
 * Node's globalThis.crypto.subtle.digest on the same input, for lengths around the padding and
 * block boundaries and a 1 MiB input; the algorithm given as a string, as { name }, and in any
 * case; every kind of BufferSource (including views with a nonzero offset); and the same error
 * names as Node for bad algorithms and bad arguments.
 *
 * A token without a hash's digest mechanism (NSS softokn's "NSS Certificate DB" lists no CKM_SHA*)
 * must answer NotSupportedError naming the mechanism, for every test of that hash.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { assertNotSupported, digestMechanism, itIfSupported } from "../support/capability.js";
import { assertSameOutcome, bytes, native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

/** Lets the error tests pass arguments the typings would refuse, to both implementations alike. */
type LooseDigest = { digest(...args: unknown[]): Promise<unknown> };
const loose = (subtle: object): LooseDigest => subtle as unknown as LooseDigest;

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const;

/**
 * 55/56 and 64/65 straddle SHA-1/SHA-256's padding and block boundaries; 111/112 and 128/129 do
 * the same for SHA-384/SHA-512's 128-byte blocks.
 */
const LENGTHS = [0, 1, 55, 56, 64, 65, 111, 112, 128, 129, 1 << 20];

describe("differential: digest", () => {
  let crypto: Crypto;

  before(() => {
    crypto = new Crypto(config());
  });

  after(async () => {
    await crypto.close();
  });

  const hasDigest = (hash: string) => crypto.supports(hash, "digest");
  /** A test of one hash's digest on the token: NotSupportedError naming its mechanism where the token lacks it. */
  const itDigests = (hash: string, title: string, body: () => Promise<void>) =>
    itIfSupported(() => hasDigest(hash), title, body, { mechanism: digestMechanism(hash) });
  /** `work(hash)` for each hash the token has; for each other, ours must refuse that hash's digest. */
  async function forEachHash(work: (hash: (typeof HASHES)[number]) => Promise<void>): Promise<void> {
    for (const hash of HASHES) {
      if (hasDigest(hash)) await work(hash);
      else await assertNotSupported(crypto.subtle.digest(hash, Buffer.from("abc")), digestMechanism(hash), hash);
    }
  }

  /** Digests `data` with ours and Node's, asserts the same bytes, returns them. */
  async function sameDigest(algorithm: AlgorithmIdentifier, data: BufferSource, label: string): Promise<Buffer> {
    const ours = await crypto.subtle.digest(algorithm, data);
    const theirs = await native.digest(algorithm, data);
    assert.ok(ours instanceof ArrayBuffer, `${label}: ours is not an ArrayBuffer`);
    assert.deepEqual(bytes(ours), bytes(theirs), `${label}: digest differs from Node's`);
    return bytes(ours);
  }

  describe("digest equals Node's", () => {
    for (const hash of HASHES) {
      for (const length of LENGTHS) {
        itDigests(hash, `${hash} over ${length} random bytes`, async () => {
          const data = randomBytes(length);
          const digest = await sameDigest(hash, data, `${hash}/${length}`);
          // A wrong-length answer (a fixed-size output buffer, say) would also be caught above,
          // but say so plainly: the digest has the hash's own length.
          assert.equal(digest.length, bytes(await native.digest(hash, new Uint8Array(0))).length);
        });
      }
    }

    it("different inputs give different digests (the input is actually read)", async () => {
      await forEachHash(async (hash) => {
        const a = await sameDigest(hash, Buffer.from("message a"), hash);
        const b = await sameDigest(hash, Buffer.from("message b"), hash);
        assert.notDeepEqual(a, b, `${hash}: two different messages hashed the same`);
      });
    });
  });

  describe("algorithm forms", () => {
    const data = Buffer.from("The quick brown fox jumps over the lazy dog");
    for (const hash of HASHES) {
      itDigests(hash, `${hash} as a string, as { name }, lower case and mixed case`, async () => {
        const reference = bytes(await native.digest(hash, data));
        const mixed = hash.split("").map((c, i) => (i % 2 ? c.toLowerCase() : c)).join("");
        const forms: AlgorithmIdentifier[] = [hash, { name: hash }, hash.toLowerCase(), { name: hash.toLowerCase() }, mixed, { name: mixed }];
        for (const form of forms) {
          const digest = await sameDigest(form, data, JSON.stringify(form));
          assert.deepEqual(digest, reference, `${JSON.stringify(form)} is not ${hash}`);
        }
      });
    }

    itDigests("SHA-256", "extra members in the algorithm object are ignored, as by Node", async () => {
      const algorithm = { name: "SHA-256", length: 128, hash: "SHA-1" } as AlgorithmIdentifier;
      await sameDigest(algorithm, data, "SHA-256 with extra members");
    });

    itDigests("SHA-384", "a name that is an object with toString is converted to a string, as by Node", async () => {
      const algorithm = { name: { toString: () => "SHA-384" } } as unknown as AlgorithmIdentifier;
      await sameDigest(algorithm, data, "name with toString");
    });
  });

  describe("input kinds", () => {
    // A backing store whose every window has different content, so hashing the wrong window fails.
    const backing = randomBytes(256);

    function inputs(): Array<[string, BufferSource, Buffer]> {
      const arrayBuffer = new Uint8Array(backing).buffer;
      const sub = new Uint8Array(arrayBuffer).subarray(13, 200);
      const bufferSlice = Buffer.from(arrayBuffer).subarray(7, 100);
      const dataView = new DataView(arrayBuffer, 5, 60);
      const int32 = new Int32Array(arrayBuffer, 16, 20);
      return [
        ["ArrayBuffer", arrayBuffer, Buffer.from(backing)],
        ["Uint8Array", new Uint8Array(backing), Buffer.from(backing)],
        ["DataView over the whole buffer", new DataView(new Uint8Array(backing).buffer), Buffer.from(backing)],
        ["DataView with offset 5, length 60", dataView, backing.subarray(5, 65)],
        ["Buffer", Buffer.from(backing), Buffer.from(backing)],
        ["Buffer from the shared pool (nonzero byteOffset)", Buffer.from("pooled"), Buffer.from("pooled")],
        ["Buffer slice with offset 7", bufferSlice, backing.subarray(7, 100)],
        ["Uint8Array subarray with offset 13", sub, backing.subarray(13, 200)],
        ["Int32Array with offset 16, 20 elements", int32, backing.subarray(16, 96)],
        ["Float64Array", new Float64Array(new Uint8Array(backing).buffer), Buffer.from(backing)],
      ];
    }

    for (const hash of HASHES) {
      itDigests(hash, `${hash}: every BufferSource kind hashes exactly its own bytes`, async () => {
        for (const [label, input, window] of inputs()) {
          const digest = await sameDigest(hash, input, label);
          // Node agrees with us; check also that both hashed the view's window, not its whole buffer.
          assert.deepEqual(digest, bytes(await native.digest(hash, new Uint8Array(window))), `${label}: not the digest of its window`);
        }
      });
    }

    it("empty inputs of every kind hash as the empty string", async () => {
      const empties: Array<[string, BufferSource]> = [
        ["empty ArrayBuffer", new ArrayBuffer(0)],
        ["empty Buffer", Buffer.alloc(0)],
        ["empty subarray at offset 10", new Uint8Array(new ArrayBuffer(32), 10, 0)],
        ["empty DataView at offset 3", new DataView(new ArrayBuffer(8), 3, 0)],
      ];
      await forEachHash(async (hash) => {
        for (const [label, input] of empties) await sameDigest(hash, input, `${hash}, ${label}`);
      });
    });

    itDigests("SHA-256", "a view with a nonzero offset does not hash its whole buffer", async () => {
      const view = new Uint8Array(backing.buffer.slice(0)).subarray(1);
      const whole = await native.digest("SHA-256", view.buffer);
      const ours = await crypto.subtle.digest("SHA-256", view);
      assert.notDeepEqual(bytes(ours), bytes(whole));
      assert.deepEqual(bytes(ours), bytes(await native.digest("SHA-256", view)));
    });

    itDigests("SHA-256", "the data is read when digest is called: changing it afterwards has no effect", async () => {
      const data = randomBytes(4096);
      const expected = bytes(await native.digest("SHA-256", data));
      const pending = crypto.subtle.digest("SHA-256", data);
      data.fill(0);
      assert.deepEqual(bytes(await pending), expected);
    });
  });

  describe("errors: the same names as Node's", () => {
    const data = Buffer.from("abc");
    const cases: Array<[string, unknown[]]> = [
      ["unknown name SHA-2", ["SHA-2", data]],
      ["unknown name MD5", ["MD5", data]],
      ["unknown name SHA-224", ["SHA-224", data]],
      ["unknown name SHA3-256", [{ name: "SHA3-256" }, data]],
      ["name with a trailing space", ["SHA-256 ", data]],
      ["empty name", ["", data]],
      ["a non-digest algorithm (HMAC)", ["HMAC", data]],
      ["a non-digest algorithm (AES-GCM) as { name }", [{ name: "AES-GCM" }, data]],
      ["{} without name", [{}, data]],
      ["{ name: undefined }", [{ name: undefined }, data]],
      ["algorithm a Symbol", [Symbol("SHA-256"), data]],
      ["no arguments", []],
      ["algorithm only", ["SHA-256"]],
      ["data a string", ["SHA-256", "abc"]],
      ["data a number", ["SHA-256", 42]],
      ["data null", ["SHA-256", null]],
      ["data undefined (explicit)", ["SHA-256", undefined]],
      ["data an array of numbers", ["SHA-256", [1, 2, 3]]],
      ["data a plain object", ["SHA-256", { byteLength: 3 }]],
      ["data a SharedArrayBuffer", ["SHA-256", new SharedArrayBuffer(8)]],
      ["data a Uint8Array over a SharedArrayBuffer", ["SHA-256", new Uint8Array(new SharedArrayBuffer(8))]],
      // AlgorithmIdentifier is (object or DOMString): Node turns these into unknown names.
      ["algorithm null", [null, data]],
      ["algorithm undefined (explicit)", [undefined, data]],
      ["algorithm a number", [256, data]],
      ["algorithm a boolean", [true, data]],
      ["unknown name and bad data", ["MD5", "abc"]],
      ["{} and bad data", [{}, 42]],
    ];
    for (const [label, args] of cases) {
      it(label, async () => {
        const result = await assertSameOutcome(
          label,
          () => loose(crypto.subtle).digest(...args),
          () => loose(native).digest(...args),
        );
        assert.notEqual(result, "ok", `${label}: both accepted it`);
      });
    }
  });
});
