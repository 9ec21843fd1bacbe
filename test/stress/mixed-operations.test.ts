// Stress: 10,000 mixed operations (STRESS_SCALE=10 for 100,000) over several keys and
// algorithms, in batches of a random size (1 to 256 in flight, from a seeded generator: STRESS_SEED
// replays a run), with a forced garbage collection between batches (mocha runs with --expose-gc),
// so that buffers handed to worker threads and keys dropped mid-run are collected under load.
// Every result is checked against Node's own crypto: signatures verified by Node, MACs, digests
// and ECDH secrets compared with Node's, encryptions decrypted by Node and by us. Zero errors are
// allowed; where the token lacks a mechanism of the mix, those operations must each be
// NotSupportedError. Afterwards the token holds exactly the objects it held before (ephemeral
// keys made during the run are gone once collected).
//
// The mix (weights): ECDSA sign P-256/384/521 (20), ECDSA verify of Node's signatures (10),
// HMAC-SHA-256/512 (15), AES-GCM encrypt+decrypt (15), SHA-256/384 digest (15), ECDH P-256/384
// deriveBits (8), RSA-2048 PKCS#1 sign (2: each takes about a millisecond of the token's time),
// Ed25519 sign (5), ephemeral EC P-256 key generate+sign (5), RSA-PSS verify (5).
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { Random, settledObjectCount } from "../support/fuzz.js";
import { native } from "../support/oracle.js";
import { config } from "../support/tokens.js";

const SCALE = Number(process.env.STRESS_SCALE) > 0 ? Number(process.env.STRESS_SCALE) : 1;
const TOTAL = Math.round(10_000 * SCALE);
const SEED = Number.isInteger(Number(process.env.STRESS_SEED)) ? Number(process.env.STRESS_SEED) >>> 0 : 6;

type Op = { name: string; weight: number; needs: Array<[string, "sign" | "verify" | "encrypt" | "digest" | "deriveBits" | "generateKey"]>; run: (random: Random) => Promise<void> };

describe("stress: mixed operations under forced garbage collection", () => {
  let crypto: Crypto;
  before(() => {
    crypto = new Crypto(config());
  });
  after(() => crypto.close());

  it(`${TOTAL.toLocaleString("en")} mixed operations, random concurrency (seed ${SEED}), every result checked`, async function () {
    this.timeout(Math.max(120_000, 60_000 * SCALE));
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("run mocha with --expose-gc");
    const subtle = crypto.subtle;
    const objectsBefore = await settledObjectCount(crypto);

    // Keys: several per family, made on the token, with Node's counterparts for checking.
    const curves = ["P-256", "P-384", "P-521"] as const;
    const ecdsa = await Promise.all(curves.map(async (namedCurve) => {
      const pair = (await subtle.generateKey({ name: "ECDSA", namedCurve } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      const nodePublic = await native.importKey("spki", await subtle.exportKey("spki", pair.publicKey), { name: "ECDSA", namedCurve }, true, ["verify"]);
      const nodePair = (await native.generateKey({ name: "ECDSA", namedCurve }, true, ["sign", "verify"])) as CryptoKeyPair;
      const ourVerifier = await subtle.importKey("spki", await native.exportKey("spki", nodePair.publicKey), { name: "ECDSA", namedCurve } as EcKeyImportParams, false, ["verify"]);
      return { namedCurve, pair, nodePublic, nodePair, ourVerifier, hash: { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" }[namedCurve] };
    }));
    const hmac = await Promise.all(["SHA-256", "SHA-512"].map(async (hash) => {
      const bytes = randomBytes(hash === "SHA-256" ? 32 : 64);
      return { hash, bytes, key: await subtle.importKey("raw", bytes, { name: "HMAC", hash } as HmacImportParams, false, ["sign", "verify"]) };
    }));
    const aes = await Promise.all([16, 32].map(async (length) => {
      const bytes = randomBytes(length);
      return {
        key: await subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]),
        nodeKey: await native.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]),
      };
    }));
    const ecdh = await Promise.all(["P-256", "P-384"].map(async (namedCurve) => {
      const ours = (await subtle.generateKey({ name: "ECDH", namedCurve } as EcKeyGenParams, false, ["deriveBits"])) as CryptoKeyPair;
      const theirs = (await native.generateKey({ name: "ECDH", namedCurve }, true, ["deriveBits"])) as CryptoKeyPair;
      const theirPublicOnToken = await subtle.importKey("raw", await native.exportKey("raw", theirs.publicKey), { name: "ECDH", namedCurve } as EcKeyImportParams, true, []);
      const ourPublicInNode = await native.importKey("raw", await subtle.exportKey("raw", ours.publicKey), { name: "ECDH", namedCurve }, true, []);
      const expected = Buffer.from(await native.deriveBits({ name: "ECDH", public: ourPublicInNode }, theirs.privateKey, namedCurve === "P-256" ? 256 : 384));
      return { namedCurve, ours, theirPublicOnToken, expected };
    }));
    const rsaAlgorithm = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
    const rsa = (await subtle.generateKey(rsaAlgorithm, false, ["sign", "verify"])) as CryptoKeyPair;
    const rsaNodePublic = await native.importKey("spki", await subtle.exportKey("spki", rsa.publicKey), rsaAlgorithm, true, ["verify"]);
    const pss = { name: "RSA-PSS", hash: "SHA-256" };
    const pssNode = (await native.generateKey({ ...pss, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])) as CryptoKeyPair;
    const pssOurs = await subtle.importKey("spki", await native.exportKey("spki", pssNode.publicKey), pss, false, ["verify"]);
    const ed = crypto.supports("Ed25519", "generateKey") ? ((await subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair) : undefined;
    const edNodePublic = ed ? await native.importKey("spki", await subtle.exportKey("spki", ed.publicKey), { name: "Ed25519" }, true, ["verify"]) : undefined;

    const ops: Op[] = [
      { name: "ECDSA sign", weight: 20, needs: [["ECDSA", "sign"]], run: async (r) => {
        const k = r.pick(ecdsa);
        const data = r.bytes(r.int(2048));
        const signature = await subtle.sign({ name: "ECDSA", hash: k.hash }, k.pair.privateKey, data);
        assert.ok(await native.verify({ name: "ECDSA", hash: k.hash }, k.nodePublic, signature, data), `ECDSA ${k.namedCurve} signature`);
      } },
      { name: "ECDSA verify", weight: 10, needs: [["ECDSA", "verify"]], run: async (r) => {
        const k = r.pick(ecdsa);
        const data = r.bytes(1 + r.int(512));
        const signature = new Uint8Array(await native.sign({ name: "ECDSA", hash: k.hash }, k.nodePair.privateKey, data));
        const tamper = r.chance(0.2);
        if (tamper) signature[r.int(signature.length)] ^= 1;
        assert.equal(await subtle.verify({ name: "ECDSA", hash: k.hash }, k.ourVerifier, signature, data), !tamper, `ECDSA ${k.namedCurve} verify`);
      } },
      { name: "HMAC sign", weight: 15, needs: [["HMAC", "sign"]], run: async (r) => {
        const k = r.pick(hmac);
        const data = r.bytes(r.int(4096));
        const mac = Buffer.from(await subtle.sign("HMAC", k.key, data));
        assert.deepEqual(mac, createHmac(k.hash.replace("-", "").toLowerCase(), k.bytes).update(data).digest(), "HMAC");
      } },
      { name: "AES-GCM round trip", weight: 15, needs: [["AES-GCM", "encrypt"]], run: async (r) => {
        const k = r.pick(aes);
        const data = r.bytes(r.int(r.chance(0.05) ? 200_000 : 4096));
        const params = { name: "AES-GCM", iv: r.bytes(12), additionalData: r.chance(0.3) ? r.bytes(20) : undefined };
        if (params.additionalData === undefined) delete params.additionalData;
        const ciphertext = await subtle.encrypt(params, k.key, data);
        assert.deepEqual(Buffer.from(await native.decrypt(params, k.nodeKey, ciphertext)), data, "AES-GCM by Node");
        assert.deepEqual(Buffer.from(await subtle.decrypt(params, k.key, ciphertext)), data, "AES-GCM round trip");
      } },
      { name: "digest", weight: 15, needs: [["SHA-256", "digest"], ["SHA-384", "digest"]], run: async (r) => {
        const hash = r.pick(["SHA-256", "SHA-384"]);
        const data = r.bytes(r.int(r.chance(0.05) ? 1 << 20 : 8192));
        assert.deepEqual(Buffer.from(await subtle.digest(hash, data)), createHash(hash.replace("-", "").toLowerCase()).update(data).digest(), hash);
      } },
      { name: "ECDH deriveBits", weight: 8, needs: [["ECDH", "deriveBits"]], run: async (r) => {
        const k = r.pick(ecdh);
        const bits = await subtle.deriveBits({ name: "ECDH", public: k.theirPublicOnToken } as EcdhKeyDeriveParams, k.ours.privateKey, k.namedCurve === "P-256" ? 256 : 384);
        assert.deepEqual(Buffer.from(bits), k.expected, `ECDH ${k.namedCurve}`);
      } },
      { name: "RSA sign", weight: 2, needs: [["RSASSA-PKCS1-v1_5", "sign"]], run: async (r) => {
        const data = r.bytes(r.int(1024));
        const signature = await subtle.sign("RSASSA-PKCS1-v1_5", rsa.privateKey, data);
        assert.ok(await native.verify("RSASSA-PKCS1-v1_5", rsaNodePublic, signature, data), "RSA signature");
      } },
      { name: "RSA-PSS verify", weight: 5, needs: [["RSA-PSS", "verify"]], run: async (r) => {
        const data = r.bytes(r.int(1024));
        const signature = await native.sign({ name: "RSA-PSS", saltLength: 32 }, pssNode.privateKey, data);
        assert.ok(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pssOurs, signature, data), "RSA-PSS verify");
      } },
      { name: "Ed25519 sign", weight: 5, needs: [["Ed25519", "sign"]], run: async (r) => {
        const data = r.bytes(r.int(1024));
        if (!ed) {
          // Where the token lacks Ed25519, the outer check wants this NotSupportedError.
          await subtle.generateKey({ name: "Ed25519" }, false, ["sign"]);
          return;
        }
        const signature = await subtle.sign("Ed25519", ed.privateKey, data);
        assert.ok(await native.verify("Ed25519", edNodePublic!, signature, data), "Ed25519 signature");
      } },
      { name: "ephemeral EC key", weight: 5, needs: [["ECDSA", "generateKey"]], run: async (r) => {
        // A key made and dropped mid-run: its token objects go when it is collected.
        const pair = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
        const data = r.bytes(64);
        const signature = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
        assert.ok(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, data), "ephemeral key");
      } },
    ];
    // Operations the token cannot do stay in the mix and must be NotSupportedError.
    const supported = (op: Op) => op.needs.every(([algorithm, operation]) => crypto.supports(algorithm, operation));
    const lacking = ops.filter((op) => !supported(op)).map((op) => op.name);
    if (lacking.length > 0) this.test!.title += ` [NotSupportedError, not on this token: ${lacking.join(", ")}]`;
    const totalWeight = ops.reduce((sum, op) => sum + op.weight, 0);
    const pick = (r: Random) => {
      let n = r.int(totalWeight);
      for (const op of ops) if ((n -= op.weight) < 0) return op;
      return ops[0];
    };

    const random = new Random(SEED);
    const counts = new Map<string, number>();
    const failures: string[] = [];
    let done = 0;
    let batches = 0;
    let widest = 0;
    const started = Date.now();
    while (done < TOTAL) {
      const size = Math.min(TOTAL - done, 1 + random.int(256));
      widest = Math.max(widest, size);
      // Each operation gets its own generator, seeded from the run's: the draws do not depend on
      // the order in which concurrent operations happen to finish.
      const batch = Array.from({ length: size }, () => {
        const op = pick(random);
        const own = new Random(random.int(2 ** 32));
        counts.set(op.name, (counts.get(op.name) ?? 0) + 1);
        const run = supported(op)
          ? op.run(own)
          : assert.rejects(op.run(own), { name: "NotSupportedError" }, `${op.name} where the token lacks it`);
        return run.catch((error: Error) => {
          failures.push(`${op.name}: ${error.name}: ${error.message}`);
        });
      });
      await Promise.all(batch);
      done += size;
      batches++;
      gc();
    }
    const seconds = (Date.now() - started) / 1000;
    const objectsAfter = await settledObjectCount(crypto);
    const mix = [...counts].map(([name, n]) => `${name} ${n}`).join(", ");
    this.test!.title += ` [${done} in ${seconds.toFixed(1)} s, ${batches} batches of up to ${widest}: ${mix}]`;
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${done} operations failed`);
    assert.equal(done, TOTAL);
    // The run's long-lived keys are still referenced here; only the ephemeral ones must be gone.
    const longLived = [ecdsa, hmac, aes, ecdh, rsa, pssOurs, ed];
    assert.ok(longLived.length > 0);
    assert.equal(objectsAfter - objectsBefore, expectedLongLivedObjects(ed !== undefined), "objects left on the token besides the run's own keys");
  });
});

/**
 * Token objects the run's long-lived keys hold: 3 ECDSA pairs (2 each) and their 3 verifiers, 2
 * HMAC, 2 AES, 2 ECDH pairs (2 each) and 2 imported ECDH publics, 1 RSA pair (2), 1 RSA-PSS
 * public, and the Ed25519 pair (2) where the token makes them.
 */
function expectedLongLivedObjects(hasEd25519: boolean): number {
  return 3 * 2 + 3 + 2 + 2 + 2 * 2 + 2 + 2 + 1 + (hasEd25519 ? 2 : 0);
}
