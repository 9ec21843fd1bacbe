/**
 * Crypto.getRandomValues and Crypto.randomUUID (drawn from the token's RNG) compared with Node's
 * globalThis.crypto on the same inputs: every integer typed array is filled and returned as the
 * same object; 0 and 65,536 bytes are fine, 65,537 is a QuotaExceededError; float arrays and
 * DataView are TypeMismatchErrors; no argument is a TypeError; a subarray gets only its window
 * written; the output looks random. randomUUID gives unique RFC 4122 version 4 UUIDs. Also the
 * shape of our CryptoKey objects (toStringTag, instanceof CryptoKey, usages copies) against Node's.
 */
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { assertSameOutcome, native, outcome } from "../support/oracle.js";
import { config } from "../support/tokens.js";

const nodeCrypto = globalThis.crypto;

/** Lets tests pass arguments the typings would refuse, to both implementations alike. */
type LooseRandom = { getRandomValues(...args: unknown[]): unknown };
const loose = (crypto: object): LooseRandom => crypto as unknown as LooseRandom;

type IntegerArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

const INTEGER_ARRAYS: IntegerArrayConstructor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
];

const HMAC_SHA256: HmacKeyGenParams = { name: "HMAC", hash: "SHA-256" };
const HMAC_SHA384: HmacImportParams = { name: "HMAC", hash: "SHA-384" };

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The bytes a view covers, as a Buffer (no copy). */
const viewBytes = (view: ArrayBufferView) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

describe("Crypto.getRandomValues and randomUUID against Node's", () => {
  let crypto: Crypto;

  before(() => {
    crypto = new Crypto(config());
  });

  after(async () => {
    await crypto.close();
  });

  /** Runs getRandomValues on a fresh input from `make` in ours and Node's; same outcome; returns it. */
  function sameOutcome(label: string, make: () => unknown): Promise<string> {
    return assertSameOutcome(
      label,
      () => loose(crypto).getRandomValues(make()),
      () => loose(nodeCrypto).getRandomValues(make()),
    );
  }

  describe("getRandomValues", () => {
    for (const Type of INTEGER_ARRAYS) {
      it(`${Type.name}: filled and returned as the same object, as in Node`, async () => {
        const elements = 256 / Type.BYTES_PER_ELEMENT; // 256 bytes: all zeros has probability 2^-2048
        const ours = new Type(elements);
        const theirs = new Type(elements);
        assert.equal(crypto.getRandomValues(ours), ours, "ours returned another object");
        assert.equal(nodeCrypto.getRandomValues(theirs), theirs, "Node returned another object");
        assert.equal(ours.length, elements);
        assert.ok(viewBytes(ours).some((byte) => byte !== 0), "ours is all zeros");
        assert.ok(Object.getPrototypeOf(ours) === Type.prototype);
      });
    }

    it("Buffer (a Uint8Array subclass) is accepted and filled, as in Node", async () => {
      const buffer = Buffer.alloc(64);
      assert.equal(await sameOutcome("Buffer", () => Buffer.alloc(64)), "ok");
      assert.equal(crypto.getRandomValues(buffer), buffer);
      assert.ok(buffer.some((byte) => byte !== 0));
    });

    it("0 bytes: returned unchanged, as in Node", async () => {
      for (const Type of [Uint8Array, BigInt64Array, Int16Array] as IntegerArrayConstructor[]) {
        assert.equal(await sameOutcome(`${Type.name}(0)`, () => new Type(0)), "ok");
        const empty = new Type(0);
        assert.equal(crypto.getRandomValues(empty), empty);
      }
      const emptyWindow = new Uint8Array(new ArrayBuffer(16), 8, 0);
      assert.equal(crypto.getRandomValues(emptyWindow), emptyWindow);
      assert.ok(new Uint8Array(emptyWindow.buffer).every((byte) => byte === 0), "bytes outside an empty view written");
    });

    it("exactly 65,536 bytes is accepted, as in Node", async () => {
      const inputs: Array<[string, () => ArrayBufferView]> = [
        ["Uint8Array(65536)", () => new Uint8Array(65536)],
        ["Uint32Array(16384)", () => new Uint32Array(16384)],
        ["BigUint64Array(8192)", () => new BigUint64Array(8192)],
        ["a 65,536-byte window of a larger buffer", () => new Uint8Array(new ArrayBuffer(70000), 100, 65536)],
      ];
      for (const [label, make] of inputs) {
        assert.equal(await sameOutcome(label, make), "ok", label);
        const array = make();
        assert.equal(crypto.getRandomValues(array), array);
      }
    });

    it("65,537 bytes and more: QuotaExceededError, as in Node, and nothing is written", async () => {
      const inputs: Array<[string, () => ArrayBufferView]> = [
        ["Uint8Array(65537)", () => new Uint8Array(65537)],
        ["Uint16Array(32769)", () => new Uint16Array(32769)],
        ["Int32Array(16385)", () => new Int32Array(16385)],
        ["BigInt64Array(8193)", () => new BigInt64Array(8193)],
        ["Uint8Array(1 MiB)", () => new Uint8Array(1 << 20)],
      ];
      for (const [label, make] of inputs) {
        assert.equal(await sameOutcome(label, make), "QuotaExceededError", label);
        const array = make();
        assert.throws(() => crypto.getRandomValues(array));
        assert.ok(viewBytes(array).every((byte) => byte === 0), `${label}: written despite the error`);
      }
    });

    it("Float32Array, Float64Array and DataView: TypeMismatchError, as in Node", async () => {
      const inputs: Array<[string, () => unknown]> = [
        ["Float32Array", () => new Float32Array(8)],
        ["Float64Array", () => new Float64Array(8)],
        ["DataView", () => new DataView(new ArrayBuffer(8))],
        ["empty Float64Array", () => new Float64Array(0)],
        ["oversized Float32Array (type is checked before size)", () => new Float32Array(20000)],
        ["oversized DataView", () => new DataView(new ArrayBuffer(70000))],
      ];
      for (const [label, make] of inputs) {
        assert.equal(await sameOutcome(label, make), "TypeMismatchError", label);
      }
    });

    it("other non-integer-array arguments fail as in Node", async () => {
      const inputs: Array<[string, () => unknown]> = [
        ["ArrayBuffer", () => new ArrayBuffer(8)],
        ["plain array", () => [1, 2, 3]],
        ["null", () => null],
        ["undefined (given explicitly)", () => undefined],
        ["number", () => 16],
        ["string", () => "sixteen"],
        ["array-like object", () => ({ length: 4, 0: 0, 1: 0, 2: 0, 3: 0 })],
      ];
      for (const [label, make] of inputs) {
        assert.notEqual(await sameOutcome(label, make), "ok", label);
      }
    });

    it("no argument: TypeError, as in Node", async () => {
      const result = await assertSameOutcome(
        "no argument",
        () => loose(crypto).getRandomValues(),
        () => loose(nodeCrypto).getRandomValues(),
      );
      assert.equal(result, "TypeError");
    });

    it("called detached from its Crypto: the same error name as Node's", async () => {
      const ours = crypto.getRandomValues;
      const theirs = nodeCrypto.getRandomValues;
      const result = await assertSameOutcome(
        "detached",
        () => ours.call(undefined, new Uint8Array(4)),
        () => theirs.call(undefined, new Uint8Array(4)),
      );
      assert.notEqual(result, "ok");
    });

    it("a subarray with a nonzero offset: only its window is written, as in Node", async () => {
      for (const [name, getRandomValues] of [
        ["ours", (view: Uint8Array | Uint32Array) => crypto.getRandomValues(view)],
        ["Node's", (view: Uint8Array | Uint32Array) => nodeCrypto.getRandomValues(view)],
      ] as const) {
        const backing = new Uint8Array(128).fill(0xa5);
        const window = backing.subarray(16, 80);
        assert.equal(getRandomValues(window), window, `${name}: returned another object`);
        assert.ok(backing.subarray(0, 16).every((byte) => byte === 0xa5), `${name}: bytes before the window written`);
        assert.ok(backing.subarray(80).every((byte) => byte === 0xa5), `${name}: bytes after the window written`);
        assert.ok(window.some((byte) => byte !== 0xa5), `${name}: window not written`);

        const words = new Uint32Array(32).fill(0xdeadbeef);
        const wordWindow = words.subarray(3, 7);
        assert.equal(getRandomValues(wordWindow), wordWindow);
        assert.ok([...words.subarray(0, 3), ...words.subarray(7)].every((word) => word === 0xdeadbeef), `${name}: words outside written`);
        assert.ok(wordWindow.some((word) => word !== 0xdeadbeef), `${name}: word window not written`);
      }
    });

    it("output looks random: not all zeros, every byte value, a plausible mean, two draws differ", async () => {
      const big = crypto.getRandomValues(new Uint8Array(65536));
      const counts = new Array<number>(256).fill(0);
      for (const byte of big) counts[byte]++;
      // Each value is expected 256 times; a missing one has probability about 256 * e^-256.
      assert.ok(counts.every((count) => count > 0), "some byte value never appears in 65,536 bytes");
      assert.ok(counts[0] < 512, `too many zero bytes: ${counts[0]}`);
      // The mean of 65,536 uniform bytes is 127.5 with standard deviation about 0.29.
      const mean = big.reduce((sum, byte) => sum + byte, 0) / big.length;
      assert.ok(mean > 122 && mean < 133, `implausible mean ${mean}`);

      const a = crypto.getRandomValues(new Uint8Array(32));
      const b = crypto.getRandomValues(new Uint8Array(32));
      assert.notDeepEqual(a, b, "two 32-byte draws are equal");
    });
  });

  describe("randomUUID", () => {
    it("is an RFC 4122 version 4 UUID, of the same form as Node's", () => {
      const theirs = nodeCrypto.randomUUID();
      assert.match(theirs, UUID_V4); // the pattern is right about Node's
      for (let i = 0; i < 20; i++) {
        const ours = crypto.randomUUID();
        assert.equal(typeof ours, typeof theirs);
        assert.equal(ours.length, theirs.length);
        assert.match(ours, UUID_V4);
      }
    });

    it("1,000 are unique, and use every hex digit in the random positions", () => {
      const uuids = Array.from({ length: 1000 }, () => crypto.randomUUID());
      assert.equal(new Set(uuids).size, 1000);
      for (const uuid of uuids) assert.match(uuid, UUID_V4);
      const digits = new Set(uuids.join("").replace(/-/g, ""));
      assert.equal(digits.size, 16, "not every hex digit appears");
    });
  });

  describe("object shapes, as Node's", () => {
    it("Crypto and SubtleCrypto have Node's toStringTag", () => {
      assert.equal(Object.prototype.toString.call(crypto), Object.prototype.toString.call(nodeCrypto));
      assert.equal(Object.prototype.toString.call(crypto.subtle), Object.prototype.toString.call(native));
    });

    it("CryptoKey: toStringTag, instanceof, own keys, JSON, read-only properties", async () => {
      const ourKeys = [
        (await crypto.subtle.generateKey(HMAC_SHA256, true, ["sign", "verify"])) as CryptoKey,
        await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]),
      ];
      const nodeKey = (await native.generateKey(HMAC_SHA256, true, ["sign", "verify"])) as CryptoKey;
      for (const key of ourKeys) {
        assert.equal(Object.prototype.toString.call(key), "[object CryptoKey]");
        assert.equal(Object.prototype.toString.call(key), Object.prototype.toString.call(nodeKey));
        assert.ok(key instanceof globalThis.CryptoKey, "not an instance of CryptoKey");
        assert.deepEqual(Object.keys(key), Object.keys(nodeKey));
        assert.equal(JSON.stringify(key), JSON.stringify(nodeKey));
        for (const property of ["type", "extractable", "algorithm", "usages"] as const) {
          await assertSameOutcome(
            `assigning ${property}`,
            () => {
              (key as unknown as Record<string, unknown>)[property] = "changed";
            },
            () => {
              (nodeKey as unknown as Record<string, unknown>)[property] = "changed";
            },
          );
        }
        assert.notEqual(key.type, "changed");
        assert.notEqual(key.algorithm, "changed");
      }
    });

    it("CryptoKey.usages is an array; mutating it changes neither the reported usages nor what the key may do", async () => {
      const raw = crypto.getRandomValues(new Uint8Array(48));
      const ours = await crypto.subtle.importKey("raw", raw, HMAC_SHA384, true, ["verify"]);
      const theirs = await native.importKey("raw", raw, HMAC_SHA384, true, ["verify"]);
      assert.ok(Array.isArray(ours.usages), "usages is not an array");
      assert.deepEqual(ours.usages, theirs.usages);
      const usages = ours.usages;
      usages.push("sign");
      usages[0] = "decrypt";
      assert.deepEqual(ours.usages, ["verify"], "mutating the returned array changed the key");
      ours.usages.length = 0;
      assert.deepEqual(ours.usages, ["verify"], "truncating the returned array changed the key");
      // It still may not sign, failing as Node's (unmutated) verify-only key does, and still verifies.
      const result = await assertSameOutcome(
        "sign with a verify-only key after mutating its usages array",
        () => crypto.subtle.sign("HMAC", ours, new Uint8Array(8)),
        () => native.sign("HMAC", theirs, new Uint8Array(8)),
      );
      assert.equal(result, "InvalidAccessError");
      const signer = await native.importKey("raw", raw, HMAC_SHA384, false, ["sign"]);
      const mac = await native.sign("HMAC", signer, new Uint8Array(8));
      assert.equal(await crypto.subtle.verify("HMAC", ours, mac, new Uint8Array(8)), true);
      assert.deepEqual((await crypto.subtle.exportKey("jwk", ours)).key_ops, ["verify"]);
    });

    it("CryptoKey.algorithm is the same object on every read, as in Node", async () => {
      const ours = await crypto.subtle.importKey("raw", new Uint8Array(32), "AES-GCM", true, ["encrypt", "decrypt"]);
      const theirs = await native.importKey("raw", new Uint8Array(32), "AES-GCM", true, ["encrypt", "decrypt"]);
      assert.equal(ours.algorithm === ours.algorithm, theirs.algorithm === theirs.algorithm);
    });

    // Deliberately not Node 20's behaviour: Node returns its internal usages array, so
    // key.usages.push("sign") lets Node sign with a verify-only key. Ours hands out a copy.
    it("CryptoKey.usages cannot be widened through the array it returns (Node 20's can)", async () => {
      const ours = (await crypto.subtle.generateKey(HMAC_SHA256, true, ["verify"])) as CryptoKey;
      ours.usages.push("sign");
      assert.deepEqual(ours.usages, ["verify"]);
      await assert.rejects(crypto.subtle.sign("HMAC", ours, new Uint8Array(8)), { name: "InvalidAccessError" });
      const theirs = (await native.generateKey(HMAC_SHA256, true, ["verify"])) as CryptoKey;
      theirs.usages.push("sign");
      assert.equal(await outcome(() => native.sign("HMAC", theirs, new Uint8Array(8))), "ok", "Node 20 changed: compare directly now");
    });
  });
});
