/**
 * Differential tests for RSASSA-PKCS1-v1_5 and RSA-PSS: our SubtleCrypto on the SoftHSM token
 * against Node's own WebCrypto, the oracle. Node generates the reference keys (quickly) and the same
 * pkcs8/spki/jwk goes into both implementations; the token generates keys only where generation is
 * what is tested (2048 bits twice, 3072 and 4096 once each, plus small 1024-bit keys for public
 * exponents). Covers key shapes, signatures in both directions (RSASSA and RSA-PSS with saltLength 0
 * are deterministic, so ours must equal Node's byte for byte), import/export round trips, and error
 * names for bad inputs. Where we differ from Node, the test is kept and skipped with a MISMATCH comment (none are left; the one deliberate difference, key sizes the token cannot make, is in test/crypto/capabilities.test.ts).
 *
 * Tokens differ in two places, and the expectation follows what the token itself answers: NSS
 * softokn refuses to generate keys with public exponent 3 (C_GenerateKeyPair: CKR_ARGUMENTS_BAD),
 * asked of the token directly (`tokenRefusesExponent`); and NSS checks RSA key material on import
 * (C_CreateObject) where SoftHSM and Node take it as given (`tokenMayRefuse` error cases).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { destroyObject, generateKeyPairOnToken } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { ckrName, ckrOf } from "../../src/token/token-error.js";
import { tokenOf } from "../support/capability.js";
import { assertSameOutcome, bytes, native, outcome } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type Scheme = "RSASSA-PKCS1-v1_5" | "RSA-PSS";
type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

const SCHEMES: Scheme[] = ["RSASSA-PKCS1-v1_5", "RSA-PSS"];
const HASHES: HashName[] = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const HASH_LENGTH: Record<HashName, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
const F4 = new Uint8Array([1, 0, 1]);

/** Bytes in an ordinary (not shared) ArrayBuffer: what BufferSource accepts. */
type Bytes = Uint8Array<ArrayBuffer>;

/** SubtleCrypto with every parameter loosened, to pass the bad arguments the error tests need. */
type Loose = { [K in keyof SubtleCrypto]: (...args: unknown[]) => Promise<unknown> };
const loose = (subtle: unknown) => subtle as Loose;

const DATA = new TextEncoder().encode("the quick brown fox signs over the lazy token");
/** A larger message (several chunks for a token that hashes in parts). */
const LARGE = new Uint8Array(100_000).map((_, i) => (i * 131 + 7) & 0xff);

/** The observable parts of a CryptoKey, for deep comparison with Node's. */
function shape(key: CryptoKey) {
  return {
    tag: Object.prototype.toString.call(key),
    type: key.type,
    extractable: key.extractable,
    algorithm: key.algorithm,
    usages: key.usages,
    isCryptoKey: key instanceof CryptoKey,
  };
}

function assertSameShape(ours: CryptoKey, theirs: CryptoKey, label: string): void {
  assert.deepStrictEqual(shape(ours), shape(theirs), `${label}: key shapes differ`);
}

/** A result, or the error name, so that a throw on one side shows in the comparison. */
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

/** The parameters sign and verify take for a scheme. */
function signParams(scheme: Scheme, saltLength: number): AlgorithmIdentifier | RsaPssParams {
  return scheme === "RSA-PSS" ? { name: scheme, saltLength } : { name: scheme };
}

/** Node-generated key material: the same bytes go into both implementations. */
interface Material {
  bits: number;
  spki: ArrayBuffer;
  pkcs8: ArrayBuffer;
}

interface SamePair {
  ours: CryptoKeyPair;
  node: CryptoKeyPair;
}

/** What the error tests run against, once with our implementation and once with Node's. */
interface Side {
  subtle: Loose;
  /** The 2048-bit reference key, imported with the case's scheme and SHA-256. */
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The same material imported with the other scheme. */
  otherSchemeKey: CryptoKey;
  /** A P-256 ECDSA private key. */
  ecKey: CryptoKey;
}

interface ErrorCase {
  label: string;
  call: (side: Side) => unknown;
  /** Set when we differ from Node: the test is skipped, and the comment next to it says how. */
  mismatch?: true;
  /**
   * Key material Node imports without checking it (a modulus that is not base64url, or a number;
   * p replaced by q). A token may check it in C_CreateObject and refuse it (NSS softokn does,
   * SoftHSM does not): ours then answers OperationError with the token's return value.
   */
  tokenMayRefuse?: true;
}

describe("differential: RSASSA-PKCS1-v1_5 and RSA-PSS against Node's WebCrypto", function () {
  this.timeout(60_000);

  let crypto: Crypto;
  let ours: Loose;
  /** Reference keys generated by Node, by modulus size. */
  const material = new Map<number, Material>();
  const ref = (bits: number) => material.get(bits)!;
  /** Imports of the reference material into both implementations, by scheme/hash/bits. */
  const pairs = new Map<string, SamePair>();
  let ecSpki: ArrayBuffer;
  let ecPkcs8: ArrayBuffer;
  let ed25519Spki: Buffer;
  /** An RSA key whose SPKI and PKCS#8 carry the id-RSASSA-PSS OID rather than rsaEncryption. */
  let pssOidSpki: Buffer;
  let pssOidPkcs8: Buffer;
  /** A 1024-bit key: smaller than Node would generate by default, still importable. */
  let small: Material;

  async function makeMaterial(bits: number): Promise<Material> {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: F4, hash: "SHA-256" };
    const pair = (await native.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
    return { bits, spki: await native.exportKey("spki", pair.publicKey), pkcs8: await native.exportKey("pkcs8", pair.privateKey) };
  }

  /** The reference key of `bits` imported as `scheme` with `hash` into both, extractable. */
  async function samePair(scheme: Scheme, hash: HashName, bits = 2048): Promise<SamePair> {
    const id = `${scheme}/${hash}/${bits}`;
    if (!pairs.has(id)) {
      const algorithm = { name: scheme, hash };
      const { spki, pkcs8 } = ref(bits);
      pairs.set(id, {
        ours: {
          privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]),
          publicKey: await crypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]),
        },
        node: {
          privateKey: await native.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]),
          publicKey: await native.importKey("spki", spki, algorithm, true, ["verify"]),
        },
      });
    }
    return pairs.get(id)!;
  }

  before(async () => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
    const [m2048, m3072, m4096, m1024] = await Promise.all([makeMaterial(2048), makeMaterial(3072), makeMaterial(4096), makeMaterial(1024)]);
    material.set(2048, m2048).set(3072, m3072).set(4096, m4096);
    small = m1024;
    const ec = (await native.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    ecSpki = await native.exportKey("spki", ec.publicKey);
    ecPkcs8 = await native.exportKey("pkcs8", ec.privateKey);
    ed25519Spki = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    const pss = generateKeyPairSync("rsa-pss", { modulusLength: 1024 });
    pssOidSpki = pss.publicKey.export({ type: "spki", format: "der" });
    pssOidPkcs8 = pss.privateKey.export({ type: "pkcs8", format: "der" });
  });

  after(async () => {
    await crypto?.close();
  });

  /**
   * The token's own answer to generating a 1024-bit RSA key pair with `exponent` (C_GenerateKeyPair
   * directly, not through our library): undefined if it generates one, else its return value.
   */
  async function tokenRefusesExponent(exponent: Uint8Array): Promise<string | undefined> {
    const token = await tokenOf(crypto);
    const common = [{ type: pkcs11js.CKA_TOKEN, value: false }];
    try {
      const pair = await generateKeyPairOnToken(
        token,
        { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
        [...common, { type: pkcs11js.CKA_MODULUS_BITS, value: 1024 }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(exponent) }, { type: pkcs11js.CKA_VERIFY, value: true }],
        [...common, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_SIGN, value: true }],
        true,
      );
      destroyObject(token, pair.publicKey);
      destroyObject(token, pair.privateKey);
      return undefined;
    } catch (error) {
      const ckr = ckrOf(error);
      if (ckr === undefined) throw error;
      return ckrName(ckr);
    }
  }

  describe("generateKey on the token: shapes equal Node's, and the keys work with Node's", () => {
    interface GenerateCase {
      scheme: Scheme;
      bits: number;
      hash: HashName;
      extractable: boolean;
      publicExponent?: Uint8Array;
    }
    const cases: GenerateCase[] = [
      { scheme: "RSASSA-PKCS1-v1_5", bits: 2048, hash: "SHA-256", extractable: true },
      { scheme: "RSA-PSS", bits: 2048, hash: "SHA-1", extractable: false },
      { scheme: "RSASSA-PKCS1-v1_5", bits: 3072, hash: "SHA-384", extractable: true },
      { scheme: "RSA-PSS", bits: 4096, hash: "SHA-512", extractable: false },
      { scheme: "RSASSA-PKCS1-v1_5", bits: 1024, hash: "SHA-256", extractable: true, publicExponent: new Uint8Array([3]) },
      { scheme: "RSA-PSS", bits: 1024, hash: "SHA-384", extractable: true, publicExponent: new Uint8Array([0, 1, 0, 1]) },
    ];
    for (const { scheme, bits, hash, extractable, publicExponent = F4 } of cases) {
      const exponent = Buffer.from(publicExponent).toString("hex");
      it(`${scheme} ${bits} bits, ${hash}, publicExponent 0x${exponent}, extractable ${extractable}`, async function () {
        this.timeout(60_000);
        const algorithm = { name: scheme, modulusLength: bits, publicExponent, hash };
        // Where the token itself refuses the exponent (NSS softokn: 3), ours passes its refusal on.
        const refusal = exponent === "010001" ? undefined : await tokenRefusesExponent(publicExponent);
        if (refusal !== undefined) {
          this.test!.title += ` [the token refuses this exponent: ${refusal}]`;
          await assert.rejects(crypto.subtle.generateKey(algorithm, extractable, ["sign", "verify"]), (error: Error) => {
            assert.equal(error.name, "OperationError", String(error));
            assert.ok(error.message.endsWith(`C_GenerateKeyPair returned ${refusal}`), error.message);
            return true;
          });
          assert.equal(await outcome(() => native.generateKey(algorithm, extractable, ["sign", "verify"])), "ok");
          return;
        }
        const [ourPair, nodePair] = (await Promise.all([
          crypto.subtle.generateKey(algorithm, extractable, ["sign", "verify"]),
          native.generateKey(algorithm, extractable, ["sign", "verify"]),
        ])) as [CryptoKeyPair, CryptoKeyPair];
        assert.deepStrictEqual(Object.keys(ourPair).sort(), Object.keys(nodePair).sort());
        assertSameShape(ourPair.privateKey, nodePair.privateKey, "private key");
        assertSameShape(ourPair.publicKey, nodePair.publicKey, "public key");
        assert.equal(ourPair.publicKey.extractable, true, "a public key is always extractable");

        // Ours signs; Node verifies with our public key moved as spki and as jwk.
        const params = signParams(scheme, HASH_LENGTH[hash]);
        const signature = await crypto.subtle.sign(params, ourPair.privateKey, DATA);
        assert.equal(signature.byteLength, bits / 8);
        const importParams = { name: scheme, hash };
        const spki = await crypto.subtle.exportKey("spki", ourPair.publicKey);
        const jwk = await crypto.subtle.exportKey("jwk", ourPair.publicKey);
        for (const nodePublic of [
          await native.importKey("spki", spki, importParams, true, ["verify"]),
          await native.importKey("jwk", jwk, importParams, true, ["verify"]),
        ]) {
          assert.equal(await native.verify(params, nodePublic, signature, DATA), true, "Node verifies ours");
        }
        // Node signs with its own new key; ours verifies with Node's public key.
        const nodeSignature = await native.sign(params, nodePair.privateKey, DATA);
        const nodePublic = await crypto.subtle.importKey("spki", await native.exportKey("spki", nodePair.publicKey), importParams, true, ["verify"]);
        assert.equal(await crypto.subtle.verify(params, nodePublic, nodeSignature, DATA), true, "ours verifies Node's");

        for (const format of ["pkcs8", "jwk"] as const) {
          await assertSameOutcome(`export ${format} of the private key`, () => crypto.subtle.exportKey(format, ourPair.privateKey), () => native.exportKey(format, nodePair.privateKey));
        }
        if (extractable) {
          // The private key leaves the token intact: Node, given it, signs as the token does.
          const pkcs8 = await crypto.subtle.exportKey("pkcs8", ourPair.privateKey);
          const nodePrivate = await native.importKey("pkcs8", pkcs8, importParams, true, ["sign"]);
          assert.deepStrictEqual(bytes(await native.exportKey("pkcs8", nodePrivate)), bytes(pkcs8));
          assert.deepStrictEqual(await crypto.subtle.exportKey("jwk", ourPair.privateKey), await native.exportKey("jwk", nodePrivate));
          const deterministic = signParams(scheme, 0);
          assert.deepStrictEqual(
            bytes(await crypto.subtle.sign(deterministic, ourPair.privateKey, DATA)),
            bytes(await native.sign(deterministic, nodePrivate, DATA)),
            "deterministic signatures equal",
          );
        }
      });
    }
  });

  describe("RSASSA-PKCS1-v1_5 signatures equal Node's byte for byte", () => {
    for (const bits of [2048, 3072, 4096]) {
      // The full hash matrix at 2048 bits; one hash each for the larger moduli.
      const hashes = bits === 2048 ? HASHES : bits === 3072 ? (["SHA-384"] as HashName[]) : (["SHA-512"] as HashName[]);
      for (const hash of hashes) {
        it(`${bits} bits, ${hash}: same signatures on short and 100 kB messages; each verifies the other's`, async () => {
          const { ours: ourPair, node } = await samePair("RSASSA-PKCS1-v1_5", hash, bits);
          const params = { name: "RSASSA-PKCS1-v1_5" };
          for (const [label, data] of [["short", DATA], ["100 kB", LARGE]] as const) {
            const mine = await crypto.subtle.sign(params, ourPair.privateKey, data);
            const theirs = await native.sign(params, node.privateKey, data);
            assert.deepStrictEqual(bytes(mine), bytes(theirs), `${label} message: signatures differ`);
            assert.equal(await native.verify(params, node.publicKey, mine, data), true, `${label}: Node verifies ours`);
            assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, theirs, data), true, `${label}: ours verifies Node's`);
          }
        });
      }
    }

    it("an empty message: signatures equal Node's for every hash; each verifies the other's", async () => {
      const params = { name: "RSASSA-PKCS1-v1_5" };
      const empty = new Uint8Array(0);
      for (const hash of HASHES) {
        const { ours: ourPair, node } = await samePair("RSASSA-PKCS1-v1_5", hash);
        const theirs = await native.sign(params, node.privateKey, empty);
        assert.equal(await settle(() => crypto.subtle.verify(params, ourPair.publicKey, theirs, empty)), true, `${hash}: ours verifies Node's`);
        const mine = await crypto.subtle.sign(params, ourPair.privateKey, empty);
        assert.deepStrictEqual(bytes(mine), bytes(theirs), `${hash}: signatures differ`);
      }
    });

    it("a hash given in the sign parameters is ignored (the key's hash is used), as by Node", async () => {
      const { ours: ourPair, node } = await samePair("RSASSA-PKCS1-v1_5", "SHA-256");
      const params = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" };
      const mine = await crypto.subtle.sign(params, ourPair.privateKey, DATA);
      assert.deepStrictEqual(bytes(mine), bytes(await native.sign(params, node.privateKey, DATA)));
      assert.deepStrictEqual(bytes(mine), bytes(await native.sign("RSASSA-PKCS1-v1_5", node.privateKey, DATA)));
    });
  });

  describe("RSA-PSS signatures cross between ours and Node's", () => {
    for (const hash of HASHES) {
      const salts = [...new Set([0, 32, HASH_LENGTH[hash]])];
      for (const saltLength of salts) {
        it(`2048 bits, ${hash}, saltLength ${saltLength}: ours signs, Node verifies; Node signs, ours verifies${saltLength === 0 ? "; signatures equal" : ""}`, async () => {
          const { ours: ourPair, node } = await samePair("RSA-PSS", hash);
          const params = { name: "RSA-PSS", saltLength };
          for (const data of [DATA, LARGE]) {
            const [mine, mine2] = [await crypto.subtle.sign(params, ourPair.privateKey, data), await crypto.subtle.sign(params, ourPair.privateKey, data)];
            const [theirs, theirs2] = [await native.sign(params, node.privateKey, data), await native.sign(params, node.privateKey, data)];
            assert.equal(await native.verify(params, node.publicKey, mine, data), true, "Node verifies ours");
            assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, theirs, data), true, "ours verifies Node's");
            // Randomized exactly when Node's are: with a salt, two signatures differ; without, they are equal.
            assert.equal(bytes(mine).equals(bytes(mine2)), bytes(theirs).equals(bytes(theirs2)), "determinism");
            if (saltLength === 0) assert.deepStrictEqual(bytes(mine), bytes(theirs), "saltLength 0: signatures equal");
          }
        });
      }

      it(`2048 bits, ${hash}: the largest saltLength (256 - ${HASH_LENGTH[hash]} - 2) works on both; one more fails alike`, async () => {
        const { ours: ourPair, node } = await samePair("RSA-PSS", hash);
        const largest = 256 - HASH_LENGTH[hash] - 2;
        const params = { name: "RSA-PSS", saltLength: largest };
        const mine = await crypto.subtle.sign(params, ourPair.privateKey, DATA);
        assert.equal(await native.verify(params, node.publicKey, mine, DATA), true, "Node verifies ours");
        const theirs = await native.sign(params, node.privateKey, DATA);
        assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, theirs, DATA), true, "ours verifies Node's");
        const tooLarge = { name: "RSA-PSS", saltLength: largest + 1 };
        const result = await assertSameOutcome("sign, saltLength too large", () => crypto.subtle.sign(tooLarge, ourPair.privateKey, DATA), () => native.sign(tooLarge, node.privateKey, DATA));
        assert.equal(result, "OperationError");
      });
    }

    it("an empty message: ours signs, Node verifies, and the reverse, for every hash; saltLength 0 signatures equal", async () => {
      const empty = new Uint8Array(0);
      for (const hash of HASHES) {
        const { ours: ourPair, node } = await samePair("RSA-PSS", hash);
        for (const saltLength of [0, HASH_LENGTH[hash]]) {
          const params = { name: "RSA-PSS", saltLength };
          const theirs = await native.sign(params, node.privateKey, empty);
          assert.equal(await settle(() => crypto.subtle.verify(params, ourPair.publicKey, theirs, empty)), true, `${hash}: ours verifies Node's`);
          const mine = await crypto.subtle.sign(params, ourPair.privateKey, empty);
          assert.equal(await native.verify(params, node.publicKey, mine, empty), true, `${hash}: Node verifies ours`);
          if (saltLength === 0) assert.deepStrictEqual(bytes(mine), bytes(theirs), `${hash}: saltLength 0 signatures equal`);
        }
      }
    });

    it("3072 and 4096 bits: cross-verify, and saltLength 0 signatures equal", async () => {
      for (const [bits, hash] of [[3072, "SHA-256"], [4096, "SHA-512"]] as const) {
        const { ours: ourPair, node } = await samePair("RSA-PSS", hash, bits);
        for (const saltLength of [0, HASH_LENGTH[hash]]) {
          const params = { name: "RSA-PSS", saltLength };
          const mine = await crypto.subtle.sign(params, ourPair.privateKey, DATA);
          const theirs = await native.sign(params, node.privateKey, DATA);
          assert.equal(mine.byteLength, bits / 8);
          assert.equal(await native.verify(params, node.publicKey, mine, DATA), true, `${bits}: Node verifies ours`);
          assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, theirs, DATA), true, `${bits}: ours verifies Node's`);
          if (saltLength === 0) assert.deepStrictEqual(bytes(mine), bytes(theirs), `${bits}: saltLength 0 signatures equal`);
        }
      }
    });
  });

  describe("altered signatures and messages verify false on both", () => {
    for (const scheme of SCHEMES) {
      for (const hash of HASHES) {
        const params = signParams(scheme, HASH_LENGTH[hash]);

        /** Verifies each variant with ours and Node's (the same key in both); both must say false. */
        async function assertAllFalse(variants: Array<[string, AlgorithmIdentifier | RsaPssParams, Bytes, Bytes]>) {
          const { ours: ourPair, node } = await samePair(scheme, hash);
          for (const [label, verifyParams, signature, data] of variants) {
            const [mine, theirs] = await Promise.all([
              settle(() => crypto.subtle.verify(verifyParams, ourPair.publicKey, signature, data)),
              settle(() => native.verify(verifyParams, node.publicKey, signature, data)),
            ]);
            assert.equal(theirs, false, `${label}: Node says ${String(theirs)}`);
            assert.equal(mine, theirs, `${label}: ours ${String(mine)}, Node's ${String(theirs)}`);
          }
        }

        /** Node's signature of DATA, checked to verify true on ours (so that the false answers mean something). */
        async function goodSignature(): Promise<Bytes> {
          const { ours: ourPair, node } = await samePair(scheme, hash);
          const signature = new Uint8Array(await native.sign(params, node.privateKey, DATA));
          assert.equal(await crypto.subtle.verify(params, ourPair.publicKey, signature, DATA), true, "ours verifies the unaltered signature");
          return signature;
        }

        it(`${scheme} ${hash}: signatures of the wrong length`, async () => {
          const signature = await goodSignature();
          await assertAllFalse([
            ["signature truncated by one byte", params, signature.slice(0, -1), DATA],
            ["signature extended by one byte", params, new Uint8Array([...signature, 0]), DATA],
            ["signature halved", params, signature.slice(0, signature.length / 2), DATA],
          ]);
        });

        it(`${scheme} ${hash}: an empty signature`, async () => {
          await goodSignature();
          await assertAllFalse([["empty signature", params, new Uint8Array(0), DATA]]);
        });

        it(`${scheme} ${hash}: altered signatures of the right length, including one not below the modulus`, async () => {
          const signature = await goodSignature();
          await assertAllFalse([
            ["first signature byte flipped", params, flipByte(signature, 0), DATA],
            ["last signature byte flipped", params, flipByte(signature, -1), DATA],
            ["middle signature byte flipped", params, flipByte(signature, signature.length / 2), DATA],
            ["all-zero signature", params, new Uint8Array(signature.length), DATA],
            ["signature 1", params, Uint8Array.of(...new Uint8Array(signature.length - 1), 1), DATA],
            ["all-0xff signature (not below the modulus)", params, filler(signature.length, 0xff), DATA],
          ]);
        });

        it(`${scheme} ${hash}: an altered message, another saltLength, or the key imported for another hash`, async () => {
          const signature = await goodSignature();
          const variants: Array<[string, AlgorithmIdentifier | RsaPssParams, Bytes, Bytes]> = [
            ["message byte flipped", params, signature, flipByte(DATA, 3)],
            ["message extended", params, signature, new Uint8Array([...DATA, 0])],
            ["empty message", params, signature, new Uint8Array(0)],
          ];
          if (scheme === "RSA-PSS") {
            variants.push(
              ["saltLength 0", { name: "RSA-PSS", saltLength: 0 }, signature, DATA],
              ["saltLength one more", { name: "RSA-PSS", saltLength: HASH_LENGTH[hash] + 1 }, signature, DATA],
            );
          }
          await assertAllFalse(variants);
          const otherHash = HASHES[(HASHES.indexOf(hash) + 1) % HASHES.length];
          const { ours: ourPair, node } = await samePair(scheme, otherHash);
          const [mine, theirs] = await Promise.all([
            settle(() => crypto.subtle.verify(params, ourPair.publicKey, signature, DATA)),
            settle(() => native.verify(params, node.publicKey, signature, DATA)),
          ]);
          assert.equal(theirs, false);
          assert.equal(mine, theirs, `key imported for ${otherHash}: ours ${String(mine)}, Node's ${String(theirs)}`);
        });
      }
    }
  });

  describe("import and export round trips: our exports equal Node's", () => {
    /** Imports the same data into both, compares the keys, then every export the key type allows. */
    async function roundTrip(algorithm: RsaHashedImportParams, format: KeyFormat, data: BufferSource | JsonWebKey, usages: KeyUsage[], extractable = true) {
      const ourKey = (await ours.importKey(format, data, algorithm, extractable, usages)) as CryptoKey;
      const nodeKey = (await loose(native).importKey(format, data, algorithm, extractable, usages)) as CryptoKey;
      assertSameShape(ourKey, nodeKey, `${format} import`);
      const formats: KeyFormat[] = nodeKey.type === "public" ? ["spki", "jwk"] : ["pkcs8", "jwk"];
      for (const out of formats) {
        const mine = await crypto.subtle.exportKey(out, ourKey);
        const theirs = await native.exportKey(out, nodeKey);
        if (out === "jwk") assert.deepStrictEqual(mine, theirs, `jwk export after ${format} import`);
        else assert.deepStrictEqual(bytes(mine as ArrayBuffer), bytes(theirs as ArrayBuffer), `${out} export after ${format} import`);
      }
    }

    /** Node's JWKs for the reference key imported as scheme/hash (alg RS256, PS384, ... as Node writes them). */
    async function nodeJwks(scheme: Scheme, hash: HashName, bits = 2048) {
      const { node } = await samePair(scheme, hash, bits);
      return { jwkPublic: await native.exportKey("jwk", node.publicKey), jwkPrivate: await native.exportKey("jwk", node.privateKey) };
    }

    for (const scheme of SCHEMES) {
      for (const hash of HASHES) {
        const algorithm = { name: scheme, hash };
        it(`${scheme} ${hash}: spki`, () => roundTrip(algorithm, "spki", ref(2048).spki, ["verify"]));
        it(`${scheme} ${hash}: pkcs8`, () => roundTrip(algorithm, "pkcs8", ref(2048).pkcs8, ["sign"]));
        it(`${scheme} ${hash}: jwk public (Node's, with alg)`, async () => roundTrip(algorithm, "jwk", (await nodeJwks(scheme, hash)).jwkPublic, ["verify"]));
        it(`${scheme} ${hash}: jwk private (Node's, with alg)`, async () => roundTrip(algorithm, "jwk", (await nodeJwks(scheme, hash)).jwkPrivate, ["sign"]));
      }
      it(`${scheme}: jwk without alg, key_ops and ext`, async () => {
        const { jwkPrivate, jwkPublic } = await nodeJwks(scheme, "SHA-256");
        const strip = ({ alg: _alg, key_ops: _ops, ext: _ext, ...rest }: JsonWebKey) => rest;
        await roundTrip({ name: scheme, hash: "SHA-384" }, "jwk", strip(jwkPublic), ["verify"]);
        await roundTrip({ name: scheme, hash: "SHA-384" }, "jwk", strip(jwkPrivate), ["sign"]);
      });
      it(`${scheme}: spki with no usages`, () => roundTrip({ name: scheme, hash: "SHA-256" }, "spki", ref(2048).spki, []));
    }

    it("3072 bits: spki, pkcs8 and jwk (RSASSA-PKCS1-v1_5, SHA-384)", async () => {
      const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" };
      const { jwkPublic, jwkPrivate } = await nodeJwks("RSASSA-PKCS1-v1_5", "SHA-384", 3072);
      await roundTrip(algorithm, "spki", ref(3072).spki, ["verify"]);
      await roundTrip(algorithm, "pkcs8", ref(3072).pkcs8, ["sign"]);
      await roundTrip(algorithm, "jwk", jwkPublic, ["verify"]);
      await roundTrip(algorithm, "jwk", jwkPrivate, ["sign"]);
    });

    it("4096 bits: spki, pkcs8 and jwk (RSA-PSS, SHA-512)", async () => {
      const algorithm = { name: "RSA-PSS", hash: "SHA-512" };
      const { jwkPublic, jwkPrivate } = await nodeJwks("RSA-PSS", "SHA-512", 4096);
      await roundTrip(algorithm, "spki", ref(4096).spki, ["verify"]);
      await roundTrip(algorithm, "pkcs8", ref(4096).pkcs8, ["sign"]);
      await roundTrip(algorithm, "jwk", jwkPublic, ["verify"]);
      await roundTrip(algorithm, "jwk", jwkPrivate, ["sign"]);
    });

    it("1024 bits: spki, pkcs8, and signatures equal Node's", async () => {
      const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" };
      await roundTrip(algorithm, "spki", small.spki, ["verify"]);
      await roundTrip(algorithm, "pkcs8", small.pkcs8, ["sign"]);
      const mine = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", await crypto.subtle.importKey("pkcs8", small.pkcs8, algorithm, false, ["sign"]), DATA);
      const theirs = await native.sign("RSASSA-PKCS1-v1_5", await native.importKey("pkcs8", small.pkcs8, algorithm, false, ["sign"]), DATA);
      assert.deepStrictEqual(bytes(mine), bytes(theirs));
    });
  });

  describe("non-extractable keys: exportKey rejects as Node does", () => {
    for (const scheme of SCHEMES) {
      it(`${scheme}: a private key imported non-extractable (pkcs8 and jwk)`, async () => {
        const algorithm = { name: scheme, hash: "SHA-256" };
        const jwk = await native.exportKey("jwk", (await samePair(scheme, "SHA-256")).node.privateKey);
        const keys: Array<[string, CryptoKey, CryptoKey]> = [
          ["pkcs8", await crypto.subtle.importKey("pkcs8", ref(2048).pkcs8, algorithm, false, ["sign"]), await native.importKey("pkcs8", ref(2048).pkcs8, algorithm, false, ["sign"])],
          ["jwk", await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]), await native.importKey("jwk", jwk, algorithm, false, ["sign"])],
        ];
        for (const [source, mine, theirs] of keys) {
          assertSameShape(mine, theirs, `${source} import`);
          for (const format of ["pkcs8", "jwk", "spki", "raw"] as const) {
            const result = await assertSameOutcome(`${source} import, export ${format}`, () => crypto.subtle.exportKey(format, mine), () => native.exportKey(format, theirs));
            assert.equal(result, "InvalidAccessError");
          }
          // Still usable: RSASSA signatures equal Node's.
          if (scheme === "RSASSA-PKCS1-v1_5") {
            assert.deepStrictEqual(bytes(await crypto.subtle.sign(scheme, mine, DATA)), bytes(await native.sign(scheme, theirs, DATA)));
          }
        }
      });

      it(`${scheme}: a public key imported with extractable false is reported and treated as Node does`, async () => {
        const algorithm = { name: scheme, hash: "SHA-256" };
        const mine = await crypto.subtle.importKey("spki", ref(2048).spki, algorithm, false, ["verify"]);
        const theirs = await native.importKey("spki", ref(2048).spki, algorithm, false, ["verify"]);
        assertSameShape(mine, theirs, "spki import, extractable false");
        for (const format of ["spki", "jwk"] as const) {
          await assertSameOutcome(`export ${format}`, () => crypto.subtle.exportKey(format, mine), () => native.exportKey(format, theirs));
        }
      });
    }
  });

  describe("error names equal Node's on the same bad inputs", () => {
    function errorCases(scheme: Scheme): ErrorCase[] {
      const otherScheme: Scheme = scheme === "RSA-PSS" ? "RSASSA-PKCS1-v1_5" : "RSA-PSS";
      const prefix = scheme === "RSA-PSS" ? "PS" : "RS";
      const otherPrefix = scheme === "RSA-PSS" ? "RS" : "PS";
      const importParams = { name: scheme, hash: "SHA-256" };
      const params = signParams(scheme, 32);
      /** Generation parameters; 1024 bits, so that a case that does generate stays quick. */
      const gen = (overrides: Record<string, unknown> = {}) => ({ name: scheme, modulusLength: 1024, publicExponent: F4, hash: "SHA-256", ...overrides });
      /** Node's JWK of the reference key (imported as this scheme with SHA-256). */
      const nodeJwk = async (type: "public" | "private") => {
        const { node } = await samePair(scheme, "SHA-256");
        return native.exportKey("jwk", type === "public" ? node.publicKey : node.privateKey);
      };
      const importJwk = async (s: Side, type: "public" | "private", change: Partial<Record<keyof JsonWebKey, unknown>>, usages: KeyUsage[] = [type === "public" ? "verify" : "sign"], extractable = true) =>
        s.subtle.importKey("jwk", { ...(await nodeJwk(type)), ...change }, importParams, extractable, usages);
      const cases: ErrorCase[] = [
        // generateKey
        { label: "generateKey, usages [encrypt]", call: (s) => s.subtle.generateKey(gen(), true, ["encrypt"]) },
        { label: "generateKey, usages [sign, decrypt]", call: (s) => s.subtle.generateKey(gen(), true, ["sign", "decrypt"]) },
        { label: "generateKey, empty usages", call: (s) => s.subtle.generateKey(gen(), true, []) },
        { label: "generateKey, usages [verify] only", call: (s) => s.subtle.generateKey(gen(), true, ["verify"]) },
        { label: "generateKey, unknown usage", call: (s) => s.subtle.generateKey(gen(), true, ["sign", "frobnicate"]) },
        { label: "generateKey, missing hash", call: (s) => s.subtle.generateKey(gen({ hash: undefined }), true, ["sign"]) },
        { label: "generateKey, unknown hash SHA-3", call: (s) => s.subtle.generateKey(gen({ hash: "SHA-3" }), true, ["sign"]) },
        { label: "generateKey, missing modulusLength", call: (s) => s.subtle.generateKey(gen({ modulusLength: undefined }), true, ["sign"]) },
        { label: "generateKey, modulusLength -1", call: (s) => s.subtle.generateKey(gen({ modulusLength: -1 }), true, ["sign"]) },
        { label: "generateKey, modulusLength 2^32", call: (s) => s.subtle.generateKey(gen({ modulusLength: 2 ** 32 }), true, ["sign"]) },
        { label: "generateKey, modulusLength NaN", call: (s) => s.subtle.generateKey(gen({ modulusLength: NaN }), true, ["sign"]) },
        { label: "generateKey, missing publicExponent", call: (s) => s.subtle.generateKey(gen({ publicExponent: undefined }), true, ["sign"]) },
        { label: "generateKey, publicExponent a plain array", call: (s) => s.subtle.generateKey(gen({ publicExponent: [1, 0, 1] }), true, ["sign"]) },
        { label: "generateKey, publicExponent a Uint16Array", call: (s) => s.subtle.generateKey(gen({ publicExponent: new Uint16Array([1, 0, 1]) }), true, ["sign"]) },
        { label: "generateKey, publicExponent an ArrayBuffer", call: (s) => s.subtle.generateKey(gen({ publicExponent: F4.slice().buffer }), true, ["sign"]) },
        { label: "generateKey, publicExponent the number 65537", call: (s) => s.subtle.generateKey(gen({ publicExponent: 65537 }), true, ["sign"]) },
        { label: "generateKey, publicExponent even (65536)", call: (s) => s.subtle.generateKey(gen({ publicExponent: new Uint8Array([1, 0, 0]) }), true, ["sign"]) },
        { label: "generateKey, publicExponent 1", call: (s) => s.subtle.generateKey(gen({ publicExponent: new Uint8Array([1]) }), true, ["sign"]) },
        { label: "generateKey, publicExponent empty", call: (s) => s.subtle.generateKey(gen({ publicExponent: new Uint8Array(0) }), true, ["sign"]) },
        { label: "generateKey, unknown hash and usages [encrypt] (which is checked first)", call: (s) => s.subtle.generateKey(gen({ hash: "SHA-3" }), true, ["encrypt"]) },
        { label: "generateKey, two arguments", call: (s) => s.subtle.generateKey(gen(), true) },
        // importKey: algorithm and usages
        { label: "importKey spki, missing hash", call: (s) => s.subtle.importKey("spki", ref(2048).spki, { name: scheme }, true, ["verify"]) },
        { label: "importKey spki, unknown hash SHA-224", call: (s) => s.subtle.importKey("spki", ref(2048).spki, { name: scheme, hash: "SHA-224" }, true, ["verify"]) },
        { label: "importKey spki, hash in lower case", call: (s) => s.subtle.importKey("spki", ref(2048).spki, { name: scheme, hash: "sha-384" }, true, ["verify"]) },
        { label: "importKey spki, usages [sign]", call: (s) => s.subtle.importKey("spki", ref(2048).spki, importParams, true, ["sign"]) },
        { label: "importKey spki, usages [encrypt]", call: (s) => s.subtle.importKey("spki", ref(2048).spki, importParams, true, ["encrypt"]) },
        { label: "importKey pkcs8, usages [verify]", call: (s) => s.subtle.importKey("pkcs8", ref(2048).pkcs8, importParams, true, ["verify"]) },
        { label: "importKey pkcs8, usages [sign, verify]", call: (s) => s.subtle.importKey("pkcs8", ref(2048).pkcs8, importParams, true, ["sign", "verify"]) },
        { label: "importKey pkcs8, empty usages", call: (s) => s.subtle.importKey("pkcs8", ref(2048).pkcs8, importParams, true, []) },
        {
          label: "importKey raw",
          call: (s) => s.subtle.importKey("raw", bytes(ref(2048).spki), importParams, true, ["verify"]),
        },
        { label: "importKey, four arguments", call: (s) => s.subtle.importKey("spki", ref(2048).spki, importParams, true) },
        // importKey: bad bytes
        { label: "importKey spki, garbage bytes", call: (s) => s.subtle.importKey("spki", filler(294), importParams, true, ["verify"]) },
        { label: "importKey spki, empty", call: (s) => s.subtle.importKey("spki", new Uint8Array(0), importParams, true, ["verify"]) },
        { label: "importKey spki, truncated", call: (s) => s.subtle.importKey("spki", bytes(ref(2048).spki).subarray(0, -1), importParams, true, ["verify"]) },
        { label: "importKey spki, given the pkcs8", call: (s) => s.subtle.importKey("spki", ref(2048).pkcs8, importParams, true, ["verify"]) },
        { label: "importKey spki of an EC key", call: (s) => s.subtle.importKey("spki", ecSpki, importParams, true, ["verify"]) },
        { label: "importKey spki of an Ed25519 key", call: (s) => s.subtle.importKey("spki", ed25519Spki, importParams, true, ["verify"]) },
        { label: "importKey spki with the id-RSASSA-PSS OID", call: (s) => s.subtle.importKey("spki", pssOidSpki, importParams, true, ["verify"]) },
        { label: "importKey pkcs8, garbage bytes", call: (s) => s.subtle.importKey("pkcs8", filler(1218), importParams, true, ["sign"]) },
        { label: "importKey pkcs8, empty", call: (s) => s.subtle.importKey("pkcs8", new Uint8Array(0), importParams, true, ["sign"]) },
        { label: "importKey pkcs8, given the spki", call: (s) => s.subtle.importKey("pkcs8", ref(2048).spki, importParams, true, ["sign"]) },
        { label: "importKey pkcs8 of an EC key", call: (s) => s.subtle.importKey("pkcs8", ecPkcs8, importParams, true, ["sign"]) },
        { label: "importKey pkcs8 with the id-RSASSA-PSS OID", call: (s) => s.subtle.importKey("pkcs8", pssOidPkcs8, importParams, true, ["sign"]) },
        { label: "importKey spki, keyData a string", call: (s) => s.subtle.importKey("spki", "MIIBIjANBgkq", importParams, true, ["verify"]) },
        // importKey: JWK
        { label: `jwk alg ${prefix}256 (this scheme, the key's hash)`, call: (s) => importJwk(s, "public", { alg: `${prefix}256` }) },
        { label: `jwk alg ${prefix}384 for a SHA-256 key`, call: (s) => importJwk(s, "public", { alg: `${prefix}384` }) },
        { label: `jwk alg ${prefix}999`, call: (s) => importJwk(s, "public", { alg: `${prefix}999` }) },
        { label: "jwk alg ES256", call: (s) => importJwk(s, "public", { alg: "ES256" }) },
        { label: `jwk alg ${otherPrefix}384 (the other scheme, another hash)`, call: (s) => importJwk(s, "public", { alg: `${otherPrefix}384` }) },
        {
          label: `jwk alg ${otherPrefix}256 (the other scheme, the key's hash)`,
          call: (s) => importJwk(s, "public", { alg: `${otherPrefix}256` }),
        },
        {
          label: `jwk private alg ${otherPrefix}256 (the other scheme, the key's hash)`,
          call: (s) => importJwk(s, "private", { alg: `${otherPrefix}256` }),
        },
        {
          label: `jwk alg ${prefix.toLowerCase()}256 (lower case)`,
          call: (s) => importJwk(s, "public", { alg: `${prefix.toLowerCase()}256` }),
        },
        {
          label: "jwk alg SHA-256 (a hash name, not a JWA name)",
          call: (s) => importJwk(s, "public", { alg: "SHA-256" }),
        },
        { label: "jwk kty EC", call: (s) => importJwk(s, "public", { kty: "EC" }) },
        { label: "jwk kty missing", call: (s) => importJwk(s, "public", { kty: undefined }) },
        { label: "jwk use enc with usages [verify]", call: (s) => importJwk(s, "public", { use: "enc" }) },
        { label: "jwk use enc with no usages", call: (s) => importJwk(s, "public", { use: "enc" }, []) },
        { label: "jwk use sig", call: (s) => importJwk(s, "public", { use: "sig" }) },
        { label: "jwk key_ops [sign] for usages [verify]", call: (s) => importJwk(s, "public", { key_ops: ["sign"] }) },
        { label: "jwk key_ops with a duplicate", call: (s) => importJwk(s, "public", { key_ops: ["verify", "verify"] }) },
        { label: "jwk ext false imported extractable", call: (s) => importJwk(s, "private", { ext: false }) },
        { label: "jwk ext false imported non-extractable", call: (s) => importJwk(s, "private", { ext: false }, ["sign"], false) },
        {
          label: "jwk private, usages [verify]",
          call: (s) => importJwk(s, "private", {}, ["verify"]),
        },
        { label: "jwk private without key_ops, usages [verify]", call: (s) => importJwk(s, "private", { key_ops: undefined }, ["verify"]) },
        { label: "jwk public without key_ops, usages [sign]", call: (s) => importJwk(s, "public", { key_ops: undefined }, ["sign"]) },
        { label: "jwk public, n missing", call: (s) => importJwk(s, "public", { n: undefined }) },
        { label: "jwk public, e missing", call: (s) => importJwk(s, "public", { e: undefined }) },
        { label: "jwk public, n not base64url", call: (s) => importJwk(s, "public", { n: "!!!" }), tokenMayRefuse: true },
        {
          label: "jwk public, n a number",
          call: (s) => importJwk(s, "public", { n: 12345 }),
          tokenMayRefuse: true,
        },
        { label: "jwk private, d but no primes or CRT values", call: (s) => importJwk(s, "private", { p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined }) },
        { label: "jwk private, qi missing", call: (s) => importJwk(s, "private", { qi: undefined }) },
        { label: "jwk private, p replaced by q", call: async (s) => importJwk(s, "private", { p: (await nodeJwk("private")).q }), tokenMayRefuse: true },
        // sign and verify
        { label: "sign with the public key", call: (s) => s.subtle.sign(params, s.publicKey, DATA) },
        { label: "verify with the private key", call: (s) => s.subtle.verify(params, s.privateKey, new Uint8Array(256), DATA) },
        { label: `sign with the key imported as ${otherScheme}`, call: (s) => s.subtle.sign(params, s.otherSchemeKey, DATA) },
        { label: `sign with ${otherScheme} parameters`, call: (s) => s.subtle.sign(signParams(otherScheme, 32), s.privateKey, DATA) },
        { label: "sign with an ECDSA key", call: (s) => s.subtle.sign(params, s.ecKey, DATA) },
        { label: "sign with ECDSA parameters", call: (s) => s.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, s.privateKey, DATA) },
        { label: "sign, data a string", call: (s) => s.subtle.sign(params, s.privateKey, "hello") },
        { label: "sign, data a plain array", call: (s) => s.subtle.sign(params, s.privateKey, [1, 2, 3]) },
        { label: "sign, two arguments", call: (s) => s.subtle.sign(params, s.privateKey) },
        { label: "verify, signature a string", call: (s) => s.subtle.verify(params, s.publicKey, "signature", DATA) },
        { label: "verify, three arguments", call: (s) => s.subtle.verify(params, s.publicKey, new Uint8Array(256)) },
        // exportKey
        { label: "exportKey raw of a public key", call: (s) => s.subtle.exportKey("raw", s.publicKey) },
        { label: "exportKey raw of a private key", call: (s) => s.subtle.exportKey("raw", s.privateKey) },
        { label: "exportKey spki of a private key", call: (s) => s.subtle.exportKey("spki", s.privateKey) },
        { label: "exportKey pkcs8 of a public key", call: (s) => s.subtle.exportKey("pkcs8", s.publicKey) },
        { label: "exportKey, unknown format", call: (s) => s.subtle.exportKey("pem", s.publicKey) },
        {
          label: "exportKey pkcs8 of a non-extractable key",
          call: async (s) => s.subtle.exportKey("pkcs8", await s.subtle.importKey("pkcs8", ref(2048).pkcs8, importParams, false, ["sign"])),
        },
      ];
      if (scheme === "RSA-PSS") {
        cases.push(
          { label: "sign, missing saltLength", call: (s) => s.subtle.sign({ name: "RSA-PSS" }, s.privateKey, DATA) },
          { label: "sign, saltLength -1", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: -1 }, s.privateKey, DATA) },
          { label: "sign, saltLength 2^32", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: 2 ** 32 }, s.privateKey, DATA) },
          { label: "sign, saltLength NaN", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: NaN }, s.privateKey, DATA) },
          { label: "sign, saltLength the string 32", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: "32" }, s.privateKey, DATA) },
          { label: "sign, saltLength 32.9", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: 32.9 }, s.privateKey, DATA) },
          { label: "sign, saltLength 223 (too large for 2048 bits and SHA-256)", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: 223 }, s.privateKey, DATA) },
          { label: "sign, saltLength 1000", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: 1000 }, s.privateKey, DATA) },
          { label: "verify, missing saltLength", call: (s) => s.subtle.verify({ name: "RSA-PSS" }, s.publicKey, new Uint8Array(256), DATA) },
          { label: "verify, saltLength -1", call: (s) => s.subtle.verify({ name: "RSA-PSS", saltLength: -1 }, s.publicKey, new Uint8Array(256), DATA) },
          { label: "verify, saltLength 223 (too large)", call: (s) => s.subtle.verify({ name: "RSA-PSS", saltLength: 223 }, s.publicKey, new Uint8Array(256), DATA) },
        );
      } else {
        cases.push(
          { label: "sign, extra saltLength parameter (ignored)", call: (s) => s.subtle.sign({ name: scheme, saltLength: 9999 }, s.privateKey, DATA) },
          { label: "sign, algorithm as a bare string", call: (s) => s.subtle.sign(scheme, s.privateKey, DATA) },
        );
      }
      return cases;
    }

    for (const scheme of SCHEMES) {
      describe(scheme, () => {
        let oursSide: Side;
        let nodeSide: Side;
        before(async () => {
          const here = await samePair(scheme, "SHA-256");
          const other = await samePair(scheme === "RSA-PSS" ? "RSASSA-PKCS1-v1_5" : "RSA-PSS", "SHA-256");
          const ecAlgorithm = { name: "ECDSA", namedCurve: "P-256" };
          oursSide = {
            subtle: ours,
            ...here.ours,
            otherSchemeKey: other.ours.privateKey,
            ecKey: await crypto.subtle.importKey("pkcs8", ecPkcs8, ecAlgorithm, false, ["sign"]),
          };
          nodeSide = {
            subtle: loose(native),
            ...here.node,
            otherSchemeKey: other.node.privateKey,
            ecKey: await native.importKey("pkcs8", ecPkcs8, ecAlgorithm, false, ["sign"]),
          };
        });
        for (const { label, call, mismatch, tokenMayRefuse } of errorCases(scheme)) {
          (mismatch ? it.skip : it)(label, async function () {
            if (tokenMayRefuse) {
              const [mine, theirs] = await Promise.all([outcome(() => call(oursSide)), outcome(() => call(nodeSide))]);
              assert.equal(theirs, "ok", "Node takes this key material as given");
              if (mine === "ok") return;
              // The token checked the key material and refused it (NSS softokn).
              await assert.rejects(async () => call(oursSide), (error: Error) => {
                assert.equal(error.name, "OperationError", String(error));
                assert.match(error.message, /key import failed: (C_CreateObject returned |the token returned )?CKR_(ATTRIBUTE_VALUE_INVALID|TEMPLATE_INCOMPLETE|TEMPLATE_INCONSISTENT)\b/);
                return true;
              });
              this.test!.title += " [the token refuses this key material]";
              return;
            }
            await assertSameOutcome(`${scheme}, ${label}`, () => call(oursSide), () => call(nodeSide));
          });
        }
      });
    }
  });
});
