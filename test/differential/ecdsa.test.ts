/**
 * Differential tests for ECDSA (P-256, P-384, P-521 with SHA-1/256/384/512): our SubtleCrypto on
 * the SoftHSM token against Node's own WebCrypto, the oracle. Covers generateKey shapes, signatures
 * crossing between the two in both directions (keys moved as spki, raw and jwk), import/export
 * round trips in every format, non-extractable keys, and the error names for bad inputs. Expected
 * values always come from Node on the same inputs; where we differ, the test is kept and skipped
 * with a MISMATCH comment (none are left).
 */
import assert from "node:assert/strict";
import { createPublicKey, ECDH, generateKeyPairSync } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { assertSameOutcome, bytes, native, outcome, assertSameShape, keyShape as shape, loose, type Loose } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type CurveName = "P-256" | "P-384" | "P-521";
type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

const CURVES: CurveName[] = ["P-256", "P-384", "P-521"];
const HASHES: HashName[] = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
/** OpenSSL's curve names, for node:crypto's ECDH.convertKey. */
const OPENSSL_CURVE: Record<CurveName, string> = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" };
/** The JWK alg that goes with each curve. */
const JWK_ALG: Record<CurveName, string> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };

/** Bytes in an ordinary (not shared) ArrayBuffer: what BufferSource accepts. */
type Bytes = Uint8Array<ArrayBuffer>;


const DATA = new TextEncoder().encode("the quick brown fox signs over the lazy token");


/** A verify result or the error name, so that a throw on one side shows in the comparison. */
async function settle(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

function flipByte(buffer: ArrayBuffer | Bytes, index: number): Bytes {
  const copy = new Uint8Array(buffer instanceof ArrayBuffer ? buffer.slice(0) : buffer.slice());
  const at = index < 0 ? copy.length + index : index;
  copy[at] ^= 0x01;
  return copy;
}

/** Fixed filler bytes (reproducible "garbage"). */
const filler = (length: number, byte = 0x42): Bytes => new Uint8Array(length).fill(byte);

/** Per curve: one Node-generated key pair, its exports, and the same material imported into ours. */
interface CurveFixture {
  curve: CurveName;
  node: CryptoKeyPair;
  ours: CryptoKeyPair;
  spki: ArrayBuffer;
  raw: ArrayBuffer;
  pkcs8: ArrayBuffer;
  jwkPublic: JsonWebKey;
  jwkPrivate: JsonWebKey;
  /** A pair generated on our token, extractable. */
  generated: CryptoKeyPair;
}

/** What the error tests run against, once with our implementation and once with Node's. */
interface Side {
  subtle: Loose;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  hmacKey: CryptoKey;
  /** Key material (the same bytes on both sides): this curve's, and another curve's. */
  fx: CurveFixture;
  other: CurveFixture;
}

interface ErrorCase {
  label: string;
  call: (side: Side) => unknown;
  /** Set when we differ from Node: the test is skipped, and the comment next to it says how. */
  mismatch?: true;
}

describe("differential: ECDSA against Node's WebCrypto", () => {
  let crypto: Crypto;
  let ours: Loose;
  const fixtures = new Map<CurveName, CurveFixture>();
  const fixture = (curve: CurveName) => fixtures.get(curve)!;
  let ourHmac: CryptoKey;
  let nodeHmac: CryptoKey;
  /** SPKI of keys that are not EC: an Ed25519 key and an RSA key. */
  let ed25519Spki: Buffer;
  let rsaSpki: Buffer;

  before(async () => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
    for (const curve of CURVES) {
      const algorithm = { name: "ECDSA", namedCurve: curve };
      const node = (await native.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
      const pkcs8 = await native.exportKey("pkcs8", node.privateKey);
      const spki = await native.exportKey("spki", node.publicKey);
      const ourPair = {
        privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]),
        publicKey: await crypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]),
      };
      fixtures.set(curve, {
        curve,
        node,
        ours: ourPair,
        spki,
        pkcs8,
        raw: await native.exportKey("raw", node.publicKey),
        jwkPublic: await native.exportKey("jwk", node.publicKey),
        jwkPrivate: await native.exportKey("jwk", node.privateKey),
        generated: (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair,
      });
    }
    const hmacRaw = filler(32, 0x17);
    const hmac = { name: "HMAC", hash: "SHA-256" };
    ourHmac = await crypto.subtle.importKey("raw", hmacRaw, hmac, false, ["sign", "verify"]);
    nodeHmac = await native.importKey("raw", hmacRaw, hmac, false, ["sign", "verify"]);
    ed25519Spki = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    rsaSpki = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "der" });
  });

  after(async () => {
    await crypto?.close();
  });

  describe("generateKey on the token: key shapes equal Node's", () => {
    const usageVariants: KeyUsage[][] = [["sign", "verify"], ["verify", "sign"], ["sign"], ["sign", "sign", "verify"]];
    for (const curve of CURVES) {
      for (const extractable of [true, false]) {
        for (const usages of usageVariants) {
          it(`${curve}, extractable ${extractable}, usages ${JSON.stringify(usages)}`, async () => {
            const algorithm = { name: "ECDSA", namedCurve: curve };
            const ourPair = (await crypto.subtle.generateKey(algorithm, extractable, usages)) as CryptoKeyPair;
            const nodePair = (await native.generateKey(algorithm, extractable, usages)) as CryptoKeyPair;
            assert.deepStrictEqual(Object.keys(ourPair).sort(), Object.keys(nodePair).sort());
            assertSameShape(ourPair.privateKey, nodePair.privateKey, "private key");
            assertSameShape(ourPair.publicKey, nodePair.publicKey, "public key");
            assert.equal(ourPair.publicKey.extractable, true, "a public key is always extractable");
            assert.equal(ourPair.privateKey.extractable, extractable);
            // The pair is a real pair: the private key signs, and Node verifies with the public key.
            const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ourPair.privateKey, DATA);
            const publicKey = await native.importKey("spki", await crypto.subtle.exportKey("spki", ourPair.publicKey), algorithm, true, ["verify"]);
            assert.equal(await native.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, signature, DATA), true);
            await assertSameOutcome(
              "export pkcs8 of the new private key",
              () => crypto.subtle.exportKey("pkcs8", ourPair.privateKey),
              () => native.exportKey("pkcs8", nodePair.privateKey),
            );
          });
        }
      }
    }
  });

  describe("signatures cross between ours and Node's", () => {
    for (const curve of CURVES) {
      for (const hash of HASHES) {
        const algorithm = { name: "ECDSA", namedCurve: curve };
        const params = { name: "ECDSA", hash };

        it(`${curve} ${hash}: ours signs (key made on the token), Node verifies with the public key exported as spki, raw and jwk`, async () => {
          const { generated, node } = fixture(curve);
          const signature = await crypto.subtle.sign(params, generated.privateKey, DATA);
          const nodeSignature = await native.sign(params, node.privateKey, DATA);
          assert.equal(signature.byteLength, nodeSignature.byteLength, "signature length");
          for (const format of ["spki", "raw"] as const) {
            const exported = await crypto.subtle.exportKey(format, generated.publicKey);
            const publicKey = await native.importKey(format, exported, algorithm, true, ["verify"]);
            assert.equal(await native.verify(params, publicKey, signature, DATA), true, `Node verifies after ${format}`);
          }
          const jwk = await crypto.subtle.exportKey("jwk", generated.publicKey);
          const publicKey = await native.importKey("jwk", jwk, algorithm, true, ["verify"]);
          assert.equal(await native.verify(params, publicKey, signature, DATA), true, "Node verifies after jwk");
          assert.equal(await crypto.subtle.verify(params, generated.publicKey, signature, DATA), true, "ours verifies its own");
        });

        it(`${curve} ${hash}: Node signs, ours verifies after importing Node's public key as spki, raw and jwk`, async () => {
          const { node, spki, raw, jwkPublic } = fixture(curve);
          const signature = await native.sign(params, node.privateKey, DATA);
          const imports: Array<[string, () => Promise<CryptoKey>]> = [
            ["spki", () => crypto.subtle.importKey("spki", spki, algorithm, true, ["verify"])],
            ["raw", () => crypto.subtle.importKey("raw", raw, algorithm, true, ["verify"])],
            ["jwk", () => crypto.subtle.importKey("jwk", jwkPublic, algorithm, true, ["verify"])],
          ];
          for (const [format, importIt] of imports) {
            const publicKey = await importIt();
            assert.equal(await crypto.subtle.verify(params, publicKey, signature, DATA), true, `ours verifies after ${format}`);
          }
        });

        it(`${curve} ${hash}: a key imported from Node's pkcs8 and jwk signs on the token, Node verifies`, async () => {
          const { node, pkcs8, jwkPrivate } = fixture(curve);
          const fromPkcs8 = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
          const fromJwk = await crypto.subtle.importKey("jwk", jwkPrivate, algorithm, false, ["sign"]);
          for (const [format, key] of [["pkcs8", fromPkcs8], ["jwk", fromJwk]] as const) {
            const signature = await crypto.subtle.sign(params, key, DATA);
            assert.equal(await native.verify(params, node.publicKey, signature, DATA), true, `Node verifies after ${format}`);
          }
        });

        /** Verifies each variant with ours and Node's (the same key in both); both must say false. */
        async function assertAllFalse(variants: Array<[string, EcdsaParams, Bytes, Bytes]>) {
          const { node, ours: ourPair } = fixture(curve);
          for (const [label, verifyParams, signature, data] of variants) {
            const [mine, theirs] = await Promise.all([
              settle(() => crypto.subtle.verify(verifyParams, ourPair.publicKey, signature, data)),
              settle(() => native.verify(verifyParams, node.publicKey, signature, data)),
            ]);
            assert.equal(theirs, false, `${label}: Node says ${String(theirs)}`);
            assert.equal(mine, theirs, `${label}: ours ${String(mine)}, Node's ${String(theirs)}`);
          }
        }

        /** Node's signature of DATA, checked to verify true on both (so that the false answers mean something). */
        async function goodSignature(): Promise<Bytes> {
          const { node, ours: ourPair } = fixture(curve);
          const signature = new Uint8Array(await native.sign(params, node.privateKey, DATA));
          assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, signature, DATA), true, "ours verifies the untampered signature");
          return signature;
        }

        it(`${curve} ${hash}: signatures of the wrong length verify false on both`, async () => {
          const signature = await goodSignature();
          await assertAllFalse([
            ["signature truncated by one byte", params, signature.slice(0, -1), DATA],
            ["signature extended by one byte", params, new Uint8Array([...signature, 0]), DATA],
            ["signature halved (r only)", params, signature.slice(0, signature.length / 2), DATA],
            ["signature doubled", params, new Uint8Array([...signature, ...signature]), DATA],
          ]);
        });

        it(`${curve} ${hash}: an empty signature verifies false on both`, async () => {
          await goodSignature();
          await assertAllFalse([["empty signature", params, new Uint8Array(0), DATA]]);
        });

        it(`${curve} ${hash}: tampered signatures of the right length verify false on both`, async () => {
          const signature = await goodSignature();
          const half = signature.length / 2;
          await assertAllFalse([
            ["first signature byte flipped", params, flipByte(signature, 0), DATA],
            ["last signature byte flipped", params, flipByte(signature, -1), DATA],
            ["middle signature byte flipped", params, flipByte(signature, half), DATA],
            ["all-zero signature", params, new Uint8Array(signature.length), DATA],
            ["all-0xff signature (r, s above the order)", params, filler(signature.length, 0xff), DATA],
            ["r and s swapped", params, new Uint8Array([...signature.slice(half), ...signature.slice(0, half)]), DATA],
          ]);
        });

        it(`${curve} ${hash}: a tampered message, or another hash, verifies false on both`, async () => {
          const signature = await goodSignature();
          const otherHash = HASHES[(HASHES.indexOf(hash) + 1) % HASHES.length];
          await assertAllFalse([
            ["message byte flipped", params, signature, flipByte(DATA, 3)],
            ["message extended", params, signature, new Uint8Array([...DATA, 0])],
            ["empty message", params, signature, new Uint8Array(0)],
            [`verified with ${otherHash}`, { name: "ECDSA", hash: otherHash }, signature, DATA],
          ]);
        });
      }
    }

    it("data and signatures as ArrayBuffer, DataView and Buffer are read the same as Uint8Array", async () => {
      const { node, ours: ourPair } = fixture("P-256");
      const params = { name: "ECDSA", hash: "SHA-256" };
      const signature = await native.sign(params, node.privateKey, DATA);
      const views: Array<[string, BufferSource, BufferSource]> = [
        ["ArrayBuffer", signature, DATA.slice().buffer],
        ["DataView", new DataView(signature), new DataView(DATA.slice().buffer)],
        ["Buffer", Buffer.from(signature), Buffer.from(DATA)],
        ["offset view", new Uint8Array([9, ...new Uint8Array(signature), 9]).subarray(1, -1), new Uint8Array([7, ...DATA]).subarray(1)],
      ];
      for (const [label, sig, data] of views) {
        assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, sig, data), true, `ours, ${label}`);
        assert.equal(await native.verify(params, node.publicKey, sig, data), true, `Node, ${label}`);
        const ourSignature = await crypto.subtle.sign(params, ourPair.privateKey, data);
        assert.equal(await native.verify(params, node.publicKey, ourSignature, DATA), true, `ours signs a ${label}`);
      }
    });
  });

  describe("import and export round trips: our exports equal Node's", () => {
    /** Imports the same data into both, compares the keys, then every export the key type allows. */
    async function roundTrip(curve: CurveName, format: KeyFormat, data: BufferSource | JsonWebKey, usages: KeyUsage[], extractable = true) {
      const algorithm = { name: "ECDSA", namedCurve: curve };
      const ourKey = await ours.importKey(format, data, algorithm, extractable, usages) as CryptoKey;
      const nodeKey = await loose(native).importKey(format, data, algorithm, extractable, usages) as CryptoKey;
      assertSameShape(ourKey, nodeKey, `${format} import`);
      const formats: KeyFormat[] = nodeKey.type === "public" ? ["spki", "raw", "jwk"] : ["pkcs8", "jwk"];
      for (const out of formats) {
        const mine = await crypto.subtle.exportKey(out, ourKey);
        const theirs = await native.exportKey(out, nodeKey);
        if (out === "jwk") assert.deepStrictEqual(mine, theirs, `jwk export after ${format} import`);
        else assert.deepStrictEqual(bytes(mine as ArrayBuffer), bytes(theirs as ArrayBuffer), `${out} export after ${format} import`);
      }
    }

    for (const curve of CURVES) {
      it(`${curve}: spki`, () => roundTrip(curve, "spki", fixture(curve).spki, ["verify"]));
      it(`${curve}: spki with no usages`, () => roundTrip(curve, "spki", fixture(curve).spki, []));
      it(`${curve}: raw (uncompressed point)`, () => roundTrip(curve, "raw", fixture(curve).raw, ["verify"]));
      it(`${curve}: raw compressed point`, () => {
        const compressed = new Uint8Array(ECDH.convertKey(bytes(fixture(curve).raw), OPENSSL_CURVE[curve], undefined, undefined, "compressed") as Buffer);
        return roundTrip(curve, "raw", compressed, ["verify"]);
      });
      it(`${curve}: raw compressed point of the other parity`, () => {
        // The same x with the other y: still a point on the curve.
        const compressed = new Uint8Array(ECDH.convertKey(bytes(fixture(curve).raw), OPENSSL_CURVE[curve], undefined, undefined, "compressed") as Buffer);
        compressed[0] ^= 0x01;
        return roundTrip(curve, "raw", compressed, ["verify"]);
      });
      it(`${curve}: pkcs8`, () => roundTrip(curve, "pkcs8", fixture(curve).pkcs8, ["sign"]));
      it(`${curve}: jwk public`, () => roundTrip(curve, "jwk", fixture(curve).jwkPublic, ["verify"]));
      it(`${curve}: jwk private`, () => roundTrip(curve, "jwk", fixture(curve).jwkPrivate, ["sign"]));
      it(`${curve}: jwk public without key_ops and ext, with alg and use`, () => {
        const { key_ops: _ops, ext: _ext, ...bare } = fixture(curve).jwkPublic;
        return roundTrip(curve, "jwk", { ...bare, alg: JWK_ALG[curve], use: "sig" }, ["verify"]);
      });
      it(`${curve}: jwk private with a zero byte prepended to x and d (the same numbers)`, () => {
        const jwk = fixture(curve).jwkPrivate;
        const padded = (member: string) => Buffer.concat([Buffer.of(0), Buffer.from(member, "base64url")]).toString("base64url");
        return roundTrip(curve, "jwk", { ...jwk, x: padded(jwk.x!), d: padded(jwk.d!) }, ["sign"]);
      });
      it(`${curve}: jwk private with ext false imported non-extractable, then exports refused alike`, async () => {
        const algorithm = { name: "ECDSA", namedCurve: curve };
        const jwk = { ...fixture(curve).jwkPrivate, ext: false };
        const ourKey = await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]);
        const nodeKey = await native.importKey("jwk", jwk, algorithm, false, ["sign"]);
        assertSameShape(ourKey, nodeKey, "jwk import");
        for (const format of ["jwk", "pkcs8"] as const) {
          const result = await assertSameOutcome(`export ${format}`, () => crypto.subtle.exportKey(format, ourKey), () => native.exportKey(format, nodeKey));
          assert.equal(result, "InvalidAccessError");
        }
      });
      it(`${curve}: a key generated on the token exports what Node exports after importing that export`, async () => {
        const { generated } = fixture(curve);
        const algorithm = { name: "ECDSA", namedCurve: curve };
        const pkcs8 = await crypto.subtle.exportKey("pkcs8", generated.privateKey);
        const nodePrivate = await native.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]);
        assert.deepStrictEqual(bytes(await native.exportKey("pkcs8", nodePrivate)), bytes(pkcs8));
        assert.deepStrictEqual(await native.exportKey("jwk", nodePrivate), await crypto.subtle.exportKey("jwk", generated.privateKey));
        // Node derives the public key from the private one; it must be the token's public key.
        const jwk = await native.exportKey("jwk", nodePrivate);
        const publicFromPrivate = createPublicKey({ key: jwk as never, format: "jwk" }).export({ type: "spki", format: "der" });
        assert.deepStrictEqual(bytes(await crypto.subtle.exportKey("spki", generated.publicKey)), publicFromPrivate);
      });
    }
  });

  describe("non-extractable keys: exportKey rejects as Node does", () => {
    for (const curve of CURVES) {
      it(`${curve}: generated and imported non-extractable private keys`, async () => {
        const algorithm = { name: "ECDSA", namedCurve: curve };
        const { pkcs8 } = fixture(curve);
        const ourGenerated = ((await crypto.subtle.generateKey(algorithm, false, ["sign", "verify"])) as CryptoKeyPair).privateKey;
        const nodeGenerated = ((await native.generateKey(algorithm, false, ["sign", "verify"])) as CryptoKeyPair).privateKey;
        const ourImported = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
        const nodeImported = await native.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
        for (const [label, mine, theirs] of [["generated", ourGenerated, nodeGenerated], ["imported", ourImported, nodeImported]] as const) {
          for (const format of ["pkcs8", "jwk", "raw", "spki"] as const) {
            const result = await assertSameOutcome(
              `${label} key, export ${format}`,
              () => crypto.subtle.exportKey(format, mine),
              () => native.exportKey(format, theirs),
            );
            assert.equal(result, "InvalidAccessError", `${label} key, export ${format}`);
          }
        }
      });
      it(`${curve}: a public key imported with extractable false is reported and treated as Node does`, async () => {
        const algorithm = { name: "ECDSA", namedCurve: curve };
        const ourKey = await crypto.subtle.importKey("spki", fixture(curve).spki, algorithm, false, ["verify"]);
        const nodeKey = await native.importKey("spki", fixture(curve).spki, algorithm, false, ["verify"]);
        assertSameShape(ourKey, nodeKey, "spki import, extractable false");
        for (const format of ["spki", "raw", "jwk"] as const) {
          await assertSameOutcome(`export ${format}`, () => crypto.subtle.exportKey(format, ourKey), () => native.exportKey(format, nodeKey));
        }
      });
    }
  });

  describe("error names equal Node's on the same bad inputs", () => {
    /** The bad inputs; each runs once with our implementation and once with Node's. */
    function errorCases(curve: CurveName): ErrorCase[] {
      const otherCurve = CURVES[(CURVES.indexOf(curve) + 1) % CURVES.length];
      const algorithm = { name: "ECDSA", namedCurve: curve };
      const params = { name: "ECDSA", hash: "SHA-256" };
      const size = { "P-256": 32, "P-384": 48, "P-521": 66 }[curve];
      const pointSize = 1 + 2 * size;
      return [
        // generateKey
        { label: "generateKey, unknown curve P-192", call: (s) => s.subtle.generateKey({ name: "ECDSA", namedCurve: "P-192" }, true, ["sign", "verify"]) },
        { label: "generateKey, curve name in lower case", call: (s) => s.subtle.generateKey({ name: "ECDSA", namedCurve: curve.toLowerCase() }, true, ["sign"]) },
        { label: "generateKey, missing namedCurve", call: (s) => s.subtle.generateKey({ name: "ECDSA" }, true, ["sign", "verify"]) },
        { label: "generateKey, algorithm as the bare string ECDSA", call: (s) => s.subtle.generateKey("ECDSA", true, ["sign", "verify"]) },
        { label: "generateKey, unknown algorithm name", call: (s) => s.subtle.generateKey({ name: "ECDSA-X", namedCurve: curve }, true, ["sign"]) },
        { label: "generateKey, algorithm name in lower case", call: (s) => s.subtle.generateKey({ name: "ecdsa", namedCurve: curve }, true, ["sign"]) },
        { label: "generateKey, usages [encrypt]", call: (s) => s.subtle.generateKey(algorithm, true, ["encrypt"]) },
        { label: "generateKey, usages [sign, decrypt]", call: (s) => s.subtle.generateKey(algorithm, true, ["sign", "decrypt"]) },
        { label: "generateKey, empty usages", call: (s) => s.subtle.generateKey(algorithm, true, []) },
        { label: "generateKey, usages [verify] only", call: (s) => s.subtle.generateKey(algorithm, true, ["verify"]) },
        { label: "generateKey, unknown usage", call: (s) => s.subtle.generateKey(algorithm, true, ["sign", "frobnicate"]) },
        { label: "generateKey, usages as a string", call: (s) => s.subtle.generateKey(algorithm, true, "sign") },
        {
          label: "generateKey, unknown curve and usages [encrypt] (which is checked first)",
          call: (s) => s.subtle.generateKey({ name: "ECDSA", namedCurve: "P-192" }, true, ["encrypt"]),
        },
        { label: "generateKey, two arguments", call: (s) => s.subtle.generateKey(algorithm, true) },
        // importKey: usages
        { label: "importKey spki, usages [sign]", call: (s) => s.subtle.importKey("spki", s.fx.spki, algorithm, true, ["sign"]) },
        { label: "importKey spki, usages [encrypt]", call: (s) => s.subtle.importKey("spki", s.fx.spki, algorithm, true, ["encrypt"]) },
        { label: "importKey raw, usages [sign]", call: (s) => s.subtle.importKey("raw", s.fx.raw, algorithm, true, ["sign"]) },
        { label: "importKey pkcs8, usages [verify]", call: (s) => s.subtle.importKey("pkcs8", s.fx.pkcs8, algorithm, true, ["verify"]) },
        { label: "importKey pkcs8, usages [sign, verify]", call: (s) => s.subtle.importKey("pkcs8", s.fx.pkcs8, algorithm, true, ["sign", "verify"]) },
        { label: "importKey pkcs8, empty usages", call: (s) => s.subtle.importKey("pkcs8", s.fx.pkcs8, algorithm, true, []) },
        { label: "importKey jwk private, empty usages", call: (s) => s.subtle.importKey("jwk", s.fx.jwkPrivate, algorithm, true, []) },
        {
          label: "importKey jwk private, usages [verify]",
          call: (s) => s.subtle.importKey("jwk", s.fx.jwkPrivate, algorithm, true, ["verify"]),
        },
        {
          label: "importKey jwk public, usages [sign]",
          call: (s) => s.subtle.importKey("jwk", s.fx.jwkPublic, algorithm, true, ["sign"]),
        },
        // importKey: algorithm
        { label: "importKey, unknown curve", call: (s) => s.subtle.importKey("spki", s.fx.spki, { name: "ECDSA", namedCurve: "P-192" }, true, ["verify"]) },
        { label: "importKey, missing namedCurve", call: (s) => s.subtle.importKey("spki", s.fx.spki, { name: "ECDSA" }, true, ["verify"]) },
        { label: "importKey, namedCurve of another curve than the spki's", call: (s) => s.subtle.importKey("spki", s.other.spki, algorithm, true, ["verify"]) },
        { label: "importKey, pkcs8 of another curve", call: (s) => s.subtle.importKey("pkcs8", s.other.pkcs8, algorithm, true, ["sign"]) },
        { label: "importKey, raw point of another curve", call: (s) => s.subtle.importKey("raw", s.other.raw, algorithm, true, ["verify"]) },
        // importKey: bad bytes
        { label: "importKey spki, garbage bytes", call: (s) => s.subtle.importKey("spki", filler(91), algorithm, true, ["verify"]) },
        { label: "importKey spki, empty", call: (s) => s.subtle.importKey("spki", new Uint8Array(0), algorithm, true, ["verify"]) },
        { label: "importKey spki, truncated", call: (s) => s.subtle.importKey("spki", bytes(s.fx.spki).subarray(0, -1), algorithm, true, ["verify"]) },
        { label: "importKey spki, one byte appended", call: (s) => s.subtle.importKey("spki", Buffer.concat([bytes(s.fx.spki), Buffer.of(0)]), algorithm, true, ["verify"]) },
        { label: "importKey spki, given the pkcs8", call: (s) => s.subtle.importKey("spki", s.fx.pkcs8, algorithm, true, ["verify"]) },
        { label: "importKey spki of an Ed25519 key", call: (s) => s.subtle.importKey("spki", ed25519Spki, algorithm, true, ["verify"]) },
        { label: "importKey spki of an RSA key", call: (s) => s.subtle.importKey("spki", rsaSpki, algorithm, true, ["verify"]) },
        { label: "importKey pkcs8, garbage bytes", call: (s) => s.subtle.importKey("pkcs8", filler(138), algorithm, true, ["sign"]) },
        { label: "importKey pkcs8, empty", call: (s) => s.subtle.importKey("pkcs8", new Uint8Array(0), algorithm, true, ["sign"]) },
        { label: "importKey pkcs8, given the spki", call: (s) => s.subtle.importKey("pkcs8", s.fx.spki, algorithm, true, ["sign"]) },
        { label: "importKey raw, garbage point (not on the curve)", call: (s) => s.subtle.importKey("raw", Uint8Array.of(4, ...filler(pointSize - 1)), algorithm, true, ["verify"]) },
        { label: "importKey raw, point truncated", call: (s) => s.subtle.importKey("raw", bytes(s.fx.raw).subarray(0, -1), algorithm, true, ["verify"]) },
        { label: "importKey raw, bad prefix byte 05", call: (s) => s.subtle.importKey("raw", Uint8Array.of(5, ...bytes(s.fx.raw).subarray(1)), algorithm, true, ["verify"]) },
        { label: "importKey raw, compressed point not on the curve", call: (s) => s.subtle.importKey("raw", Uint8Array.of(2, ...filler((pointSize - 1) / 2, 0xff)), algorithm, true, ["verify"]) },
        { label: "importKey raw, point at infinity (00)", call: (s) => s.subtle.importKey("raw", Uint8Array.of(0), algorithm, true, ["verify"]) },
        {
          label: "importKey raw, empty",
          call: (s) => s.subtle.importKey("raw", new Uint8Array(0), algorithm, true, ["verify"]),
        },
        { label: "importKey raw, keyData a string", call: (s) => s.subtle.importKey("raw", "04abcd", algorithm, true, ["verify"]) },
        { label: "importKey raw, keyData a plain array", call: (s) => s.subtle.importKey("raw", [...bytes(s.fx.raw)], algorithm, true, ["verify"]) },
        { label: "importKey, unknown format", call: (s) => s.subtle.importKey("der", s.fx.spki, algorithm, true, ["verify"]) },
        { label: "importKey, four arguments", call: (s) => s.subtle.importKey("spki", s.fx.spki, algorithm, true) },
        // importKey: JWK members
        { label: "jwk, kty RSA", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, kty: "RSA" }, algorithm, true, ["verify"]) },
        { label: "jwk, kty missing", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, kty: undefined }, algorithm, true, ["verify"]) },
        { label: "jwk, kty in lower case", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, kty: "ec" }, algorithm, true, ["verify"]) },
        { label: "jwk, crv of another curve", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, crv: otherCurve }, algorithm, true, ["verify"]) },
        { label: "jwk, crv missing", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, crv: undefined }, algorithm, true, ["verify"]) },
        { label: "jwk, another curve's key with its crv", call: (s) => s.subtle.importKey("jwk", s.other.jwkPublic, algorithm, true, ["verify"]) },
        { label: "jwk, alg of another curve", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, alg: JWK_ALG[otherCurve] }, algorithm, true, ["verify"]) },
        { label: "jwk, alg ES256K", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, alg: "ES256K" }, algorithm, true, ["verify"]) },
        { label: "jwk, alg of the curve", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, alg: JWK_ALG[curve] }, algorithm, true, ["verify"]) },
        { label: "jwk, use enc with usages [verify]", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, use: "enc" }, algorithm, true, ["verify"]) },
        { label: "jwk, use enc with no usages", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, use: "enc" }, algorithm, true, []) },
        { label: "jwk, use sig", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, use: "sig" }, algorithm, true, ["verify"]) },
        { label: "jwk, key_ops [sign] for usages [verify]", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, key_ops: ["sign"] }, algorithm, true, ["verify"]) },
        { label: "jwk, key_ops [] for usages [verify]", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, key_ops: [] }, algorithm, true, ["verify"]) },
        { label: "jwk, key_ops [verify, sign] for usages [verify]", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, key_ops: ["verify", "sign"] }, algorithm, true, ["verify"]) },
        { label: "jwk, key_ops with a duplicate", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, key_ops: ["verify", "verify"] }, algorithm, true, ["verify"]) },
        {
          label: "jwk, key_ops with a duplicated unknown operation",
          call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, key_ops: ["verify", "foo", "foo"] }, algorithm, true, ["verify"]),
        },
        {
          label: "jwk, key_ops a string",
          call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, key_ops: "verify" }, algorithm, true, ["verify"]),
        },
        { label: "jwk, ext false imported extractable", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, ext: false }, algorithm, true, ["sign"]) },
        { label: "jwk, ext false imported non-extractable", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, ext: false }, algorithm, false, ["sign"]) },
        { label: "jwk, ext true imported non-extractable", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, ext: true }, algorithm, false, ["sign"]) },
        {
          label: "jwk, ext 0 imported extractable",
          call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPrivate, ext: 0 }, algorithm, true, ["sign"]),
        },
        { label: "jwk public, x missing", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, x: undefined }, algorithm, true, ["verify"]) },
        { label: "jwk public, y missing", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, y: undefined }, algorithm, true, ["verify"]) },
        { label: "jwk public, x of another key (not on the curve)", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, x: s.fx.jwkPublic.y }, algorithm, true, ["verify"]) },
        { label: "jwk public, x with a bit flipped (not on the curve)", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, x: Buffer.from(flipByte(Buffer.from(s.fx.jwkPublic.x!, "base64url"), -1)).toString("base64url") }, algorithm, true, ["verify"]) },
        { label: "jwk, keyData a Uint8Array", call: (s) => s.subtle.importKey("jwk", bytes(s.fx.spki), algorithm, true, ["verify"]) },
        { label: "jwk, keyData null", call: (s) => s.subtle.importKey("jwk", null, algorithm, true, ["verify"]) },
        {
          label: "jwk, keyData a string",
          call: (s) => s.subtle.importKey("jwk", JSON.stringify(s.fx.jwkPublic), algorithm, true, ["verify"]),
        },
        { label: "jwk, crv of another curve and usages [encrypt] (which is checked first)", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, crv: otherCurve }, algorithm, true, ["encrypt"]) },
        {
          label: "jwk, use enc and usages [sign] (which is checked first)",
          call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, use: "enc" }, algorithm, true, ["sign"]),
        },
        { label: "jwk, alg of another curve and kty RSA (which is checked first)", call: (s) => s.subtle.importKey("jwk", { ...s.fx.jwkPublic, kty: "RSA", alg: JWK_ALG[otherCurve] }, algorithm, true, ["verify"]) },
        // sign and verify
        { label: "sign with the public key", call: (s) => s.subtle.sign(params, s.publicKey, DATA) },
        { label: "verify with the private key", call: (s) => s.subtle.verify(params, s.privateKey, new Uint8Array(2 * size), DATA) },
        { label: "sign with an HMAC key and ECDSA parameters", call: (s) => s.subtle.sign(params, s.hmacKey, DATA) },
        { label: "sign with an ECDSA key and HMAC parameters", call: (s) => s.subtle.sign("HMAC", s.privateKey, DATA) },
        { label: "sign with an ECDSA key and RSASSA-PKCS1-v1_5 parameters", call: (s) => s.subtle.sign("RSASSA-PKCS1-v1_5", s.privateKey, DATA) },
        { label: "sign with an ECDSA key and RSA-PSS parameters", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, s.privateKey, DATA) },
        { label: "sign, missing hash", call: (s) => s.subtle.sign({ name: "ECDSA" }, s.privateKey, DATA) },
        { label: "sign, algorithm as the bare string ECDSA", call: (s) => s.subtle.sign("ECDSA", s.privateKey, DATA) },
        { label: "sign, unknown hash SHA-3", call: (s) => s.subtle.sign({ name: "ECDSA", hash: "SHA-3" }, s.privateKey, DATA) },
        { label: "sign, unknown hash SHA-224", call: (s) => s.subtle.sign({ name: "ECDSA", hash: "SHA-224" }, s.privateKey, DATA) },
        { label: "sign, hash that is not a digest (ECDSA)", call: (s) => s.subtle.sign({ name: "ECDSA", hash: "ECDSA" }, s.privateKey, DATA) },
        { label: "sign, hash {} without a name", call: (s) => s.subtle.sign({ name: "ECDSA", hash: {} }, s.privateKey, DATA) },
        { label: "sign, hash in lower case", call: (s) => s.subtle.sign({ name: "ECDSA", hash: "sha-256" }, s.privateKey, DATA) },
        { label: "sign, hash as an object", call: (s) => s.subtle.sign({ name: "ECDSA", hash: { name: "SHA-384" } }, s.privateKey, DATA) },
        { label: "sign, algorithm without a name", call: (s) => s.subtle.sign({ hash: "SHA-256" }, s.privateKey, DATA) },
        {
          label: "sign, algorithm null",
          call: (s) => s.subtle.sign(null, s.privateKey, DATA),
        },
        {
          label: "sign, algorithm undefined",
          call: (s) => s.subtle.sign(undefined, s.privateKey, DATA),
        },
        {
          label: "sign, algorithm a number",
          call: (s) => s.subtle.sign(1, s.privateKey, DATA),
        },
        { label: "sign, data a string", call: (s) => s.subtle.sign(params, s.privateKey, "hello") },
        { label: "sign, data a plain array", call: (s) => s.subtle.sign(params, s.privateKey, [1, 2, 3]) },
        { label: "sign, data undefined", call: (s) => s.subtle.sign(params, s.privateKey, undefined) },
        { label: "sign, data a SharedArrayBuffer", call: (s) => s.subtle.sign(params, s.privateKey, new SharedArrayBuffer(8)) },
        {
          label: "sign, data a view on a SharedArrayBuffer",
          call: (s) => s.subtle.sign(params, s.privateKey, new Uint8Array(new SharedArrayBuffer(8))),
        },
        { label: "sign, key a plain object", call: (s) => s.subtle.sign(params, { type: "private", algorithm }, DATA) },
        { label: "sign, key null", call: (s) => s.subtle.sign(params, null, DATA) },
        { label: "sign, two arguments", call: (s) => s.subtle.sign(params, s.privateKey) },
        { label: "verify, signature a string", call: (s) => s.subtle.verify(params, s.publicKey, "signature", DATA) },
        { label: "verify, data a string", call: (s) => s.subtle.verify(params, s.publicKey, new Uint8Array(2 * size), "data") },
        { label: "verify, three arguments", call: (s) => s.subtle.verify(params, s.publicKey, new Uint8Array(2 * size)) },
        { label: "verify, missing hash", call: (s) => s.subtle.verify({ name: "ECDSA" }, s.publicKey, new Uint8Array(2 * size), DATA) },
        {
          label: "verify with a public key that has no usages",
          call: async (s) => s.subtle.verify(params, await s.subtle.importKey("spki", s.fx.spki, algorithm, true, []), new Uint8Array(2 * size), DATA),
        },
        // exportKey
        { label: "exportKey raw of a private key", call: (s) => s.subtle.exportKey("raw", s.privateKey) },
        { label: "exportKey spki of a private key", call: (s) => s.subtle.exportKey("spki", s.privateKey) },
        { label: "exportKey pkcs8 of a public key", call: (s) => s.subtle.exportKey("pkcs8", s.publicKey) },
        { label: "exportKey, unknown format", call: (s) => s.subtle.exportKey("der", s.publicKey) },
        { label: "exportKey, key a plain object", call: (s) => s.subtle.exportKey("spki", { type: "public", extractable: true, algorithm }) },
        { label: "exportKey, one argument", call: (s) => s.subtle.exportKey("spki") },
        {
          label: "exportKey raw of a non-extractable private key",
          call: async (s) => s.subtle.exportKey("raw", await s.subtle.importKey("pkcs8", s.fx.pkcs8, algorithm, false, ["sign"])),
        },
      ];
    }

    for (const curve of CURVES) {
      describe(curve, () => {
        let oursSide: Side;
        let nodeSide: Side;
        before(() => {
          const fx = fixture(curve);
          const other = fixture(CURVES[(CURVES.indexOf(curve) + 1) % CURVES.length]);
          oursSide = { subtle: ours, privateKey: fx.ours.privateKey, publicKey: fx.ours.publicKey, hmacKey: ourHmac, fx, other };
          nodeSide = { subtle: loose(native), privateKey: fx.node.privateKey, publicKey: fx.node.publicKey, hmacKey: nodeHmac, fx, other };
        });
        for (const { label, call, mismatch } of errorCases(curve)) {
          (mismatch ? it.skip : it)(label, async () => {
            await assertSameOutcome(`${curve}, ${label}`, () => call(oursSide), () => call(nodeSide));
          });
        }

        it("jwk private whose d belongs to another key than x and y: same outcome, and the same key if accepted", async () => {
          const algorithm = { name: "ECDSA", namedCurve: curve };
          const stranger = (await native.generateKey(algorithm, true, ["sign"])) as CryptoKeyPair;
          const { d } = await native.exportKey("jwk", stranger.privateKey);
          const jwk = { ...fixture(curve).jwkPrivate, d };
          const result = await assertSameOutcome(
            "import",
            () => crypto.subtle.importKey("jwk", jwk, algorithm, true, ["sign"]),
            () => native.importKey("jwk", jwk, algorithm, true, ["sign"]),
          );
          if (result === "ok") {
            const mine = await crypto.subtle.exportKey("jwk", await crypto.subtle.importKey("jwk", jwk, algorithm, true, ["sign"]));
            const theirs = await native.exportKey("jwk", await native.importKey("jwk", jwk, algorithm, true, ["sign"]));
            assert.deepStrictEqual(mine, theirs);
          }
        });
      });
    }
  });

  it("outcome() and assertSameOutcome() see a real difference (the comparisons above can fail)", async () => {
    const { ours: ourPair, node } = fixture("P-256");
    assert.equal(await outcome(() => crypto.subtle.exportKey("pkcs8", ourPair.publicKey)), "InvalidAccessError");
    await assert.rejects(
      assertSameOutcome("deliberately different", () => crypto.subtle.exportKey("spki", ourPair.publicKey), () => native.exportKey("pkcs8", node.publicKey)),
      /ours ok, Node's InvalidAccessError/,
    );
  });
});
