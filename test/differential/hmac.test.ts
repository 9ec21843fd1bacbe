/**
 * Differential tests for HMAC (SHA-1/256/384/512) on the token against Node's WebCrypto:
 * generateKey (default and explicit lengths: key shapes deep-equal Node's), MACs byte-for-byte
 * equal to Node's for the same raw key (key sizes 1 to 200 bytes, messages empty to 1 MiB), verify
 * in both directions, tampered/truncated/wrong-length MACs, raw and JWK import/export round trips
 * (JWK deep-equal Node's export), and the same error names as Node for bad lengths, keys, usages,
 * JWK members, export formats, hashes and key usage at sign/verify time.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { assertSameOutcome, bytes, native, outcome } from "../support/oracle.js";
import { config } from "../support/tokens.js";

/** Lets the error tests pass arguments the typings would refuse, to both implementations alike. */
type LooseSubtle = Record<"generateKey" | "importKey" | "exportKey" | "sign" | "verify", (...args: unknown[]) => Promise<unknown>>;
const loose = (subtle: object): LooseSubtle => subtle as unknown as LooseSubtle;

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const;
type Hash = (typeof HASHES)[number];

/**
 * Key sizes in bytes: tiny, typical, each hash's output length (20/32/48/64), one block of SHA-1/256
 * (64), one byte over it, and longer than any block (hashed down before use).
 */
const KEY_SIZES = [1, 16, 20, 32, 48, 64, 65, 200];

/**
 * The shortest key SoftHSM's HMAC mechanisms accept (the hash's output length); shorter keys
 * make C_SignInit/C_VerifyInit fail with CKR_KEY_SIZE_RANGE. Node accepts any nonzero length.
 */

/** Bytes in an ordinary (not shared) ArrayBuffer: what the BufferSource typings accept. */
type Bytes = Uint8Array<ArrayBuffer>;
const random = (length: number): Bytes => new Uint8Array(randomBytes(length));

const MIB = 1 << 20;
const BIG_MESSAGE = random(MIB);

const hmac = (hash: Hash | AlgorithmIdentifier, length?: number): HmacImportParams =>
  length === undefined ? { name: "HMAC", hash } : ({ name: "HMAC", hash, length } as HmacImportParams);

const shape = (key: CryptoKey) => ({ type: key.type, extractable: key.extractable, algorithm: key.algorithm, usages: key.usages });

/** A copy with one bit flipped at `index` (negative counts from the end). */
function flipBit(data: ArrayBuffer | Uint8Array, index: number): Bytes {
  const copy = new Uint8Array(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  copy[(index + copy.length) % copy.length] ^= 0x01;
  return copy;
}

describe("differential: HMAC", () => {
  let crypto: Crypto;

  before(() => {
    crypto = new Crypto(config());
  });

  after(async () => {
    await crypto.close();
  });

  /** The same raw key imported into ours and Node's. */
  async function importBoth(raw: Bytes, hash: Hash, usages: KeyUsage[] = ["sign", "verify"], extractable = true) {
    const ours = await crypto.subtle.importKey("raw", raw, hmac(hash), extractable, usages);
    const theirs = await native.importKey("raw", raw, hmac(hash), extractable, usages);
    return { ours, theirs };
  }

  /** Signs `data` with both; asserts equal MACs and that each verifies the other's. Returns our MAC. */
  async function sameMac(keys: { ours: CryptoKey; theirs: CryptoKey }, data: Bytes, label: string): Promise<Bytes> {
    const ours = new Uint8Array(await crypto.subtle.sign("HMAC", keys.ours, data));
    const theirs = new Uint8Array(await native.sign("HMAC", keys.theirs, data));
    assert.deepEqual(ours, theirs, `${label}: MAC differs from Node's`);
    assert.equal(await crypto.subtle.verify("HMAC", keys.ours, theirs, data), true, `${label}: ours rejects Node's MAC`);
    assert.equal(await native.verify("HMAC", keys.theirs, ours, data), true, `${label}: Node rejects our MAC`);
    return ours;
  }

  /** Verifies each (MAC, data) pair with both; asserts the same answer, and that it is false. */
  async function sameRejection(keys: { ours: CryptoKey; theirs: CryptoKey }, cases: Array<[string, Bytes, Bytes]>, label: string) {
    for (const [what, mac, data] of cases) {
      const theirs = await native.verify("HMAC", keys.theirs, mac, data);
      const ours = await crypto.subtle.verify("HMAC", keys.ours, mac, data);
      assert.equal(ours, theirs, `${label}, ${what}: ours ${ours}, Node's ${theirs}`);
      assert.equal(ours, false, `${label}, ${what}: verified`);
    }
  }

  describe("generateKey", () => {
    for (const hash of HASHES) {
      it(`${hash}: default length and key shape equal Node's; the key works`, async () => {
        const ours = (await crypto.subtle.generateKey(hmac(hash), true, ["sign", "verify"])) as CryptoKey;
        const theirs = (await native.generateKey(hmac(hash), true, ["sign", "verify"])) as CryptoKey;
        assert.deepEqual(shape(ours), shape(theirs));
        const raw = new Uint8Array(await crypto.subtle.exportKey("raw", ours));
        assert.equal(raw.length * 8, (theirs.algorithm as HmacKeyAlgorithm).length, "exported key length");
        // Node, given our key's bytes, computes the same MAC our token does.
        const nodeCopy = await native.importKey("raw", raw, hmac(hash), false, ["sign"]);
        const data = Buffer.from("generated key check");
        assert.deepEqual(bytes(await crypto.subtle.sign("HMAC", ours, data)), bytes(await native.sign("HMAC", nodeCopy, data)));
      });

      for (const length of [8, 128, 256, 520, 1024]) {
        it(`${hash}: explicit length ${length}`, async () => {
          const ours = (await crypto.subtle.generateKey(hmac(hash, length), true, ["sign", "verify"])) as CryptoKey;
          const theirs = (await native.generateKey(hmac(hash, length), true, ["sign", "verify"])) as CryptoKey;
          assert.deepEqual(shape(ours), shape(theirs));
          assert.equal(bytes(await crypto.subtle.exportKey("raw", ours)).length, length / 8);
        });

        // Keys shorter than SoftHSM's HMAC minimum (the hash length) are stored zero-padded,
        // which gives the same MACs (RFC 2104); these tests check that they do.
        it(`${hash}: a generated ${length}-bit key signs as Node does with its bytes`, async () => {
          const ours = (await crypto.subtle.generateKey(hmac(hash, length), true, ["sign", "verify"])) as CryptoKey;
          const raw = await crypto.subtle.exportKey("raw", ours);
          const theirs = await native.importKey("raw", raw, hmac(hash, length), true, ["sign", "verify"]);
          assert.deepEqual(shape(ours), shape(theirs));
          await sameMac({ ours, theirs }, Buffer.from("generated"), `${hash}/${length}`);
        });
      }
    }

    it("hash given as { name } and in lower case gives the same key algorithm as Node's", async () => {
      for (const hash of [{ name: "SHA-384" }, "sha-256", { name: "sha-1" }, "Sha-512"]) {
        const ours = (await crypto.subtle.generateKey(hmac(hash as AlgorithmIdentifier), false, ["sign"])) as CryptoKey;
        const theirs = (await native.generateKey(hmac(hash as AlgorithmIdentifier), false, ["sign"])) as CryptoKey;
        assert.deepEqual(shape(ours), shape(theirs), JSON.stringify(hash));
      }
    });

    it("non-extractable keys and single usages have Node's shape", async () => {
      for (const usages of [["sign"], ["verify"]] as KeyUsage[][]) {
        const ours = (await crypto.subtle.generateKey(hmac("SHA-256"), false, usages)) as CryptoKey;
        const theirs = (await native.generateKey(hmac("SHA-256"), false, usages)) as CryptoKey;
        assert.deepEqual(shape(ours), shape(theirs), usages.join());
      }
    });

    it("two generated keys differ", async () => {
      const a = (await crypto.subtle.generateKey(hmac("SHA-256"), true, ["sign"])) as CryptoKey;
      const b = (await crypto.subtle.generateKey(hmac("SHA-256"), true, ["sign"])) as CryptoKey;
      assert.notDeepEqual(bytes(await crypto.subtle.exportKey("raw", a)), bytes(await crypto.subtle.exportKey("raw", b)));
    });

    // Deliberately the spec's behaviour, not Node 20's: usages are the "usage intersection", in
    // the KeyUsage enumeration's order without duplicates; Node 20 keeps their given order (without duplicates).
    it("usages given out of order and with duplicates are reported in the spec's order (Node 20 keeps their given order)", async () => {
      const usages: KeyUsage[] = ["verify", "sign", "sign"];
      const ours = (await crypto.subtle.generateKey(hmac("SHA-256"), true, usages)) as CryptoKey;
      const theirs = (await native.generateKey(hmac("SHA-256"), true, usages)) as CryptoKey;
      assert.deepEqual(ours.usages, ["sign", "verify"]);
      assert.deepEqual(theirs.usages, [...new Set(usages)], "Node 20 changed: this test can now compare with it directly");
      const imported = await importBoth(random(32), "SHA-256", usages);
      assert.deepEqual(imported.ours.usages, ["sign", "verify"]);
      assert.deepEqual((await crypto.subtle.exportKey("jwk", imported.ours)).key_ops, ["sign", "verify"]);
    });
  });

  describe("sign and verify with the same raw key", () => {
    for (const hash of HASHES) {
      for (const size of KEY_SIZES) {
        // Sizes below SoftHSM's HMAC minimum (20/32/48/64 bytes) exercise the zero-padding.
        it(`${hash}, ${size}-byte key: MACs equal Node's and verify both ways`, async () => {
          const keys = await importBoth(random(size), hash);
          for (const [label, data] of [
            ["1-byte message", random(1)],
            ["short message", Buffer.from("The quick brown fox jumps over the lazy dog")],
            ["1000-byte message", random(1000)],
            ["1 MiB message", BIG_MESSAGE],
          ] as Array<[string, Bytes]>) {
            await sameMac(keys, data, `${hash}, ${size}-byte key, ${label}`);
          }
        });
      }

      it(`${hash}: empty message`, async () => {
        const keys = await importBoth(random(64), hash);
        await sameMac(keys, Buffer.alloc(0), `${hash}, empty message`);
      });

      it(`${hash}: truncated, extended and empty MACs verify false, as in Node`, async () => {
        const keys = await importBoth(random(64), hash);
        const data = Buffer.from("message");
        const mac = await sameMac(keys, data, hash);
        await sameRejection(
          keys,
          [
            ["truncated by one byte", mac.subarray(0, -1), data],
            ["truncated to half", mac.subarray(0, mac.length / 2), data],
            ["one byte appended", Buffer.concat([mac, Buffer.of(0)]), data],
            ["empty MAC", Buffer.alloc(0), data],
          ],
          hash,
        );
      });

      it(`${hash}: tampered MACs and tampered data verify false, as in Node`, async () => {
        const keys = await importBoth(random(64), hash);
        const data = Buffer.from("message");
        const mac = await sameMac(keys, data, hash);
        await sameRejection(
          keys,
          [
            ["first bit flipped", flipBit(mac, 0), data],
            ["last bit flipped", flipBit(mac, -1), data],
            ["all zeros", Buffer.alloc(mac.length), data],
            ["data bit flipped", mac, flipBit(data, 3)],
            ["data extended", mac, Buffer.concat([data, Buffer.of(0)])],
          ],
          hash,
        );
      });

      it(`${hash}: different keys give different MACs`, async () => {
        const data = Buffer.from("same data");
        const a = await importBoth(random(64), hash);
        const b = await importBoth(random(64), hash);
        assert.notDeepEqual(await sameMac(a, data, "key a"), await sameMac(b, data, "key b"));
      });
    }

    it("algorithm given as { name: 'hmac' } and data as other BufferSource kinds", async () => {
      const keys = await importBoth(random(32), "SHA-256");
      const backing = random(64);
      const view = new Uint8Array(new Uint8Array(backing).buffer).subarray(5, 50);
      for (const data of [view, new DataView(view.buffer, 3, 20), new Uint8Array(backing).buffer] as BufferSource[]) {
        const ours = await crypto.subtle.sign({ name: "hmac" }, keys.ours, data);
        const theirs = await native.sign({ name: "hmac" }, keys.theirs, data);
        assert.deepEqual(bytes(ours), bytes(theirs));
        assert.equal(await crypto.subtle.verify({ name: "Hmac" }, keys.ours, new DataView(theirs), data), true);
      }
    });
  });

  describe("import and export", () => {
    for (const hash of HASHES) {
      it(`${hash}: raw import, raw and jwk export equal Node's`, async () => {
        for (const size of [16, 65]) {
          const raw = random(size);
          const keys = await importBoth(raw, hash);
          assert.deepEqual(shape(keys.ours), shape(keys.theirs));
          assert.deepEqual(bytes(await crypto.subtle.exportKey("raw", keys.ours)), Buffer.from(raw));
          const jwk = await crypto.subtle.exportKey("jwk", keys.ours);
          const nodeJwk = await native.exportKey("jwk", keys.theirs);
          assert.deepEqual(jwk, nodeJwk);
          assert.equal(jwk.alg, nodeJwk.alg, "alg"); // HS1, HS256, HS384, HS512
        }
      });

      it(`${hash}: jwk import (Node's JWK) round-trips and signs as Node`, async () => {
        const theirs = (await native.generateKey(hmac(hash), true, ["sign", "verify"])) as CryptoKey;
        const jwk = await native.exportKey("jwk", theirs);
        const ours = await crypto.subtle.importKey("jwk", jwk, hmac(hash), true, ["sign", "verify"]);
        const nodeAgain = await native.importKey("jwk", jwk, hmac(hash), true, ["sign", "verify"]);
        assert.deepEqual(shape(ours), shape(nodeAgain));
        assert.deepEqual(await crypto.subtle.exportKey("jwk", ours), await native.exportKey("jwk", nodeAgain));
        assert.deepEqual(bytes(await crypto.subtle.exportKey("raw", ours)), bytes(await native.exportKey("raw", theirs)));
        await sameMac({ ours, theirs }, Buffer.from("jwk round trip"), `${hash} jwk`);
      });
    }

    it("JWK variants Node accepts: no alg, use 'sig', key_ops subset, ext, explicit length", async () => {
      const k = randomBytes(32).toString("base64url");
      const variants: Array<[string, JsonWebKey, KeyUsage[], boolean, number?]> = [
        ["no alg", { kty: "oct", k }, ["sign", "verify"], true],
        ["use sig", { kty: "oct", k, use: "sig", alg: "HS256" }, ["sign"], true],
        ["key_ops wider than usages", { kty: "oct", k, key_ops: ["sign", "verify"] }, ["verify"], true],
        ["ext true, not extractable", { kty: "oct", k, ext: true }, ["sign"], false],
        ["ext false, not extractable", { kty: "oct", k, ext: false }, ["sign"], false],
        ["explicit length 256", { kty: "oct", k, alg: "HS256" }, ["sign"], true, 256],
        ["extra unknown members", { kty: "oct", k, kid: "x", foo: 1 } as JsonWebKey, ["sign"], true],
        // WebIDL's JsonWebKey conversion makes k the string "42": a 1-byte key.
        ["k a number", { kty: "oct", k: 42 } as unknown as JsonWebKey, ["sign"], true],
      ];
      for (const [label, jwk, usages, extractable, length] of variants) {
        const ours = await crypto.subtle.importKey("jwk", jwk, hmac("SHA-256", length), extractable, usages);
        const theirs = await native.importKey("jwk", jwk, hmac("SHA-256", length), extractable, usages);
        assert.deepEqual(shape(ours), shape(theirs), label);
        if (extractable) assert.deepEqual(await crypto.subtle.exportKey("jwk", ours), await native.exportKey("jwk", theirs), label);
      }
    });

    it("imported key algorithm with explicit length equal to the key size equals Node's", async () => {
      const raw = random(20);
      const ours = await crypto.subtle.importKey("raw", raw, hmac("SHA-1", 160), true, ["sign"]);
      const theirs = await native.importKey("raw", raw, hmac("SHA-1", 160), true, ["sign"]);
      assert.deepEqual(shape(ours), shape(theirs));
    });

    it("the key data is copied at import: changing it afterwards has no effect", async () => {
      const raw = random(32);
      const copy = Buffer.from(raw);
      const pending = crypto.subtle.importKey("raw", raw, hmac("SHA-256"), true, ["sign"]);
      raw.fill(0);
      assert.deepEqual(bytes(await crypto.subtle.exportKey("raw", await pending)), copy);
    });
  });

  describe("errors: the same names as Node's", () => {
    interface Side {
      subtle: LooseSubtle;
      /** HMAC SHA-256, extractable, sign and verify. */
      key: CryptoKey;
      nonExtractable: CryptoKey;
      verifyOnly: CryptoKey;
      signOnly: CryptoKey;
      aesKey: CryptoKey;
    }
    let ours: Side;
    let theirs: Side;
    const raw16 = random(16);
    const k16 = Buffer.from(raw16).toString("base64url");
    const data = Buffer.from("data");

    async function makeSide(subtle: SubtleCrypto): Promise<Side> {
      const key = await subtle.importKey("raw", raw16, hmac("SHA-256"), true, ["sign", "verify"]);
      return {
        subtle: loose(subtle),
        key,
        nonExtractable: await subtle.importKey("raw", raw16, hmac("SHA-256"), false, ["sign", "verify"]),
        verifyOnly: await subtle.importKey("raw", raw16, hmac("SHA-256"), true, ["verify"]),
        signOnly: await subtle.importKey("raw", raw16, hmac("SHA-256"), true, ["sign"]),
        aesKey: await subtle.importKey("raw", raw16, "AES-GCM", true, ["encrypt", "decrypt"]),
      };
    }

    before(async () => {
      ours = await makeSide(crypto.subtle as unknown as SubtleCrypto);
      theirs = await makeSide(native);
    });

    const gen = (algorithm: unknown, usages: unknown = ["sign", "verify"]) => (s: Side) => s.subtle.generateKey(algorithm, true, usages);
    const imp = (format: string, keyData: unknown, algorithm: unknown, usages: unknown = ["sign", "verify"], extractable = true) =>
      (s: Side) => s.subtle.importKey(format, keyData, algorithm, extractable, usages);
    const jwk = (members: Record<string, unknown>, usages: KeyUsage[] = ["sign", "verify"], extractable = true, hash: Hash = "SHA-256") =>
      imp("jwk", { kty: "oct", k: k16, ...members }, hmac(hash), usages, extractable);

    const cases: Array<[string, (side: Side) => unknown]> = [
      // generateKey
      ["generateKey length 0", gen(hmac("SHA-256", 0))],
      ["generateKey length 0 (SHA-512)", gen(hmac("SHA-512", 0))],
      ["generateKey length 7", gen(hmac("SHA-256", 7))],
      ["generateKey length 1", gen(hmac("SHA-1", 1))],
      ["generateKey length 257", gen(hmac("SHA-384", 257))],
      ["generateKey length -8", gen(hmac("SHA-256", -8))],
      ["generateKey length 2^32", gen(hmac("SHA-256", 2 ** 32))],
      ["generateKey length NaN", gen(hmac("SHA-256", NaN))],
      ["generateKey usages ['encrypt']", gen(hmac("SHA-256"), ["encrypt"])],
      ["generateKey usages ['sign', 'decrypt']", gen(hmac("SHA-256"), ["sign", "decrypt"])],
      ["generateKey empty usages", gen(hmac("SHA-256"), [])],
      ["generateKey unknown usage", gen(hmac("SHA-256"), ["sign", "frobnicate"])],
      ["generateKey usages a string", gen(hmac("SHA-256"), "sign")],
      ["generateKey missing hash", gen({ name: "HMAC" })],
      ["generateKey missing hash, with length", gen({ name: "HMAC", length: 256 })],
      ["generateKey unknown hash SHA-224", gen(hmac("SHA-224" as Hash))],
      ["generateKey unknown hash MD5 as { name }", gen({ name: "HMAC", hash: { name: "MD5" } })],
      ["generateKey hash {} without name", gen({ name: "HMAC", hash: {} })],
      ["generateKey missing arguments", (s) => s.subtle.generateKey(hmac("SHA-256"), true)],
      // importKey raw
      ["import length 7", imp("raw", raw16, hmac("SHA-256", 7))],
      ["import length 0", imp("raw", raw16, hmac("SHA-256", 0))],
      ["import length larger than data (136 for 16 bytes)", imp("raw", raw16, hmac("SHA-256", 136))],
      ["import length a byte shorter than data (120 for 16 bytes)", imp("raw", raw16, hmac("SHA-256", 120))],
      ["import length much shorter than data (64 for 16 bytes)", imp("raw", raw16, hmac("SHA-256", 64))],
      ["import zero-length key", imp("raw", Buffer.alloc(0), hmac("SHA-256"))],
      ["import zero-length key with length 0", imp("raw", Buffer.alloc(0), hmac("SHA-256", 0))],
      ["import usages ['encrypt']", imp("raw", raw16, hmac("SHA-256"), ["encrypt"])],
      ["import usages ['sign', 'wrapKey']", imp("raw", raw16, hmac("SHA-256"), ["sign", "wrapKey"])],
      ["import empty usages", imp("raw", raw16, hmac("SHA-256"), [])],
      ["import missing hash", imp("raw", raw16, { name: "HMAC" })],
      ["import unknown hash", imp("raw", raw16, hmac("SHA-3" as Hash))],
      ["import unknown format", imp("pem", raw16, hmac("SHA-256"))],
      ["import raw key data a string", imp("raw", "0123456789abcdef", hmac("SHA-256"))],
      ["import jwk key data a Buffer", imp("jwk", raw16, hmac("SHA-256"))],
      ["import jwk key data null", imp("jwk", null, hmac("SHA-256"))],
      // importKey jwk
      ["jwk kty RSA", jwk({ kty: "RSA" })],
      ["jwk kty EC", jwk({ kty: "EC" })],
      ["jwk kty missing", jwk({ kty: undefined })],
      ["jwk alg HS256 for SHA-1", jwk({ alg: "HS256" }, ["sign"], true, "SHA-1")],
      ["jwk alg HS384 for SHA-256", jwk({ alg: "HS384" })],
      ["jwk alg HS1 for SHA-512", jwk({ alg: "HS1" }, ["sign"], true, "SHA-512")],
      ["jwk alg A128GCM", jwk({ alg: "A128GCM" })],
      ["jwk alg in lower case", jwk({ alg: "hs256" })],
      ["jwk use enc", jwk({ use: "enc" })],
      ["jwk use foo", jwk({ use: "foo" })],
      ["jwk key_ops ['encrypt'] for usages ['sign']", jwk({ key_ops: ["encrypt"] }, ["sign"])],
      ["jwk key_ops ['verify'] for usages ['sign', 'verify']", jwk({ key_ops: ["verify"] })],
      ["jwk key_ops with duplicates", jwk({ key_ops: ["sign", "sign"] }, ["sign"])],
      ["jwk key_ops not a sequence", jwk({ key_ops: "sign" }, ["sign"])],
      ["jwk ext false for an extractable import", jwk({ ext: false })],
      ["jwk k missing", jwk({ k: undefined })],
      ["jwk empty usages", jwk({}, [])],
      ["jwk wrong usages", jwk({}, ["decrypt"])],
      // exportKey
      ["export non-extractable as raw", (s) => s.subtle.exportKey("raw", s.nonExtractable)],
      ["export non-extractable as jwk", (s) => s.subtle.exportKey("jwk", s.nonExtractable)],
      ["export as spki", (s) => s.subtle.exportKey("spki", s.key)],
      ["export as pkcs8", (s) => s.subtle.exportKey("pkcs8", s.key)],
      ["export unknown format", (s) => s.subtle.exportKey("pem", s.key)],
      ["export a non-key", (s) => s.subtle.exportKey("raw", {})],
      ["export missing key", (s) => s.subtle.exportKey("raw")],
      // sign and verify
      ["sign with a verify-only key", (s) => s.subtle.sign("HMAC", s.verifyOnly, data)],
      ["verify with a sign-only key", (s) => s.subtle.verify("HMAC", s.signOnly, new Uint8Array(32), data)],
      ["sign HMAC with an AES-GCM key", (s) => s.subtle.sign("HMAC", s.aesKey, data)],
      ["sign with algorithm ECDSA on an HMAC key", (s) => s.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, s.key, data)],
      ["sign with an unknown algorithm", (s) => s.subtle.sign("FOO", s.key, data)],
      ["sign with algorithm {}", (s) => s.subtle.sign({}, s.key, data)],
      ["sign data a string", (s) => s.subtle.sign("HMAC", s.key, "data")],
      ["sign with a non-key", (s) => s.subtle.sign("HMAC", {}, data)],
      ["sign missing data", (s) => s.subtle.sign("HMAC", s.key)],
      ["verify signature a string", (s) => s.subtle.verify("HMAC", s.key, "mac", data)],
      ["verify missing data", (s) => s.subtle.verify("HMAC", s.key, new Uint8Array(32))],
    ];

    for (const [label, call] of cases) {
      it(label, async () => {
        const result = await assertSameOutcome(label, () => call(ours), () => call(theirs));
        assert.notEqual(result, "ok", `${label}: both accepted it`);
      });
    }

    it("import length not whole bytes (124 for 16 bytes)", async () => {
      const call = imp("raw", raw16, hmac("SHA-256", 124));
      await assertSameOutcome("length 124", () => call(ours), () => call(theirs));
    });

    // Deliberate differences, where ours follows the Web Crypto spec and Node 20 does not: each
    // asserts our outcome and records Node's, so a change on either side shows.
    const deliberate: Array<[string, (side: Side) => unknown, string, string]> = [
      // Node 20 throws a DOMException named "Error" here (it forgets the name).
      ["import as spki", imp("spki", raw16, hmac("SHA-256")), "NotSupportedError", "Error"],
      ["import as pkcs8", imp("pkcs8", raw16, hmac("SHA-256")), "NotSupportedError", "Error"],
      // The spec refuses a zero-length key; Node 20 refuses it from raw but accepts it from JWK.
      ["jwk k empty (zero-length key)", jwk({ k: "" }), "DataError", "ok"],
      // The spec checks length against k; Node 20 ignores length for JWK.
      ["jwk length larger than k", imp("jwk", { kty: "oct", k: k16 }, hmac("SHA-256", 256)), "DataError", "ok"],
    ];
    for (const [label, call, expectedOurs, expectedNode] of deliberate) {
      it(`${label}: ours ${expectedOurs} as the spec says (Node 20: ${expectedNode})`, async () => {
        assert.equal(await outcome(() => call(ours)), expectedOurs);
        assert.equal(await outcome(() => call(theirs)), expectedNode);
      });
    }
  });
});
