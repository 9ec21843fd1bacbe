/**
 * Differential tests for RSA-OAEP: our SubtleCrypto on the SoftHSM token against Node's own
 * WebCrypto, the oracle. Node generates the 2048-bit reference key and the same pkcs8/spki/jwk goes
 * into both implementations; the token generates keys only where generation is what is tested
 * (2048 bits, and 3072 and 4096 once each). OAEP is randomized, so ciphertexts cannot be compared:
 * each side decrypts what the other encrypted, and the plaintexts are compared.
 *
 * SoftHSM 2.6 does CKM_RSA_PKCS_OAEP with SHA-1 and no label only (an empty label is none); for
 * any other hash or a label it answers CKR_ARGUMENTS_BAD, and we say NotSupportedError where
 * Node succeeds. NSS softokn does every hash and labels. Which cells a token can do is asked of the
 * token itself (`tokenOaep`: C_EncryptInit/C_DecryptInit with the parameters, and whether it
 * checks a label when it decrypts), not of our library and not by the token's name. The cells it
 * cannot do check our NotSupportedError; the "never a wrong answer" tests check on every cell that
 * we agree with Node where the token can, and say NotSupportedError where it cannot.
 */
import assert from "node:assert/strict";
import { Crypto } from "../../src/index.js";
import { rsaOaepProvider } from "../../src/mechanisms/rsa/rsa-oaep.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { decryptOnToken, encryptOnToken } from "../../src/token/operations.js";
import { ckrOf } from "../../src/token/token-error.js";
import { itIfSupported } from "../support/capability.js";
import { assertSameOutcome, bytes, native, outcome, loose, keyShape as shape, assertSameShape, type Loose } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

const HASHES: HashName[] = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const HASH_LENGTH: Record<HashName, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
const F4 = new Uint8Array([1, 0, 1]);
const ALL_USAGES: KeyUsage[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];

/** Bytes in an ordinary (not shared) ArrayBuffer: what BufferSource accepts. */
type Bytes = Uint8Array<ArrayBuffer>;


/** Fixed filler bytes (reproducible "random" data). */
const filler = (length: number, byte = 0x42): Bytes => new Uint8Array(length).fill(byte);
const message = (length: number): Bytes => new Uint8Array(length).map((_, i) => (i * 37 + 11) & 0xff);
const DATA = new TextEncoder().encode("a secret for the token");

/** The labels of the matrix: absent, empty (the same as absent, by OAEP's definition), 16 bytes. */
const LABELS: Array<[string, Bytes | undefined]> = [
  ["absent", undefined],
  ["empty", new Uint8Array(0)],
  ["16 bytes", message(16)],
];
const OTHER_LABEL = filler(16, 0x17);

const oaep = (label?: Bytes) => (label === undefined ? { name: "RSA-OAEP" } : { name: "RSA-OAEP", label });

/** The largest message for a 2048-bit key: k - 2hLen - 2 (RFC 8017 7.1.1). */
const maxLength = (hash: HashName, bits = 2048) => bits / 8 - 2 * HASH_LENGTH[hash] - 2;

/** The PKCS#11 digest and MGF1 of each hash, for asking the token directly. */
const PKCS11_HASH: Record<HashName, [number, number]> = {
  "SHA-1": [pkcs11js.CKM_SHA_1, pkcs11js.CKG_MGF1_SHA1],
  "SHA-256": [pkcs11js.CKM_SHA256, pkcs11js.CKG_MGF1_SHA256],
  "SHA-384": [pkcs11js.CKM_SHA384, pkcs11js.CKG_MGF1_SHA384],
  "SHA-512": [pkcs11js.CKM_SHA512, pkcs11js.CKG_MGF1_SHA512],
};

/**
 * What the token does with CKM_RSA_PKCS_OAEP for a hash and a label, and where it cannot, what our
 * NotSupportedError must say.
 */
interface OaepSupport {
  encrypts: boolean;
  decrypts: boolean;
  whyNotEncrypt: RegExp;
  whyNotDecrypt: RegExp;
}

interface SamePair {
  ours: CryptoKeyPair;
  node: CryptoKeyPair;
}

/** What the error tests run against, once with our implementation and once with Node's. */
interface Side {
  subtle: Loose;
  /** The reference key, imported as RSA-OAEP with SHA-1 (what the token can do). */
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The same material as RSA-PSS, usages [verify]. */
  pssKey: CryptoKey;
  ecKey: CryptoKey;
  aesKey: CryptoKey;
}

interface ErrorCase {
  label: string;
  call: (side: Side) => unknown;
}


describe("differential: RSA-OAEP against Node's WebCrypto", function () {
  this.timeout(60_000);

  let crypto: Crypto;
  let ours: Loose;
  let spki: ArrayBuffer;
  let pkcs8: ArrayBuffer;
  const pairs = new Map<HashName, SamePair>();

  /** The reference key imported with `hash` into both, extractable, usages encrypt/decrypt. */
  async function samePair(hash: HashName): Promise<SamePair> {
    if (!pairs.has(hash)) {
      const algorithm = { name: "RSA-OAEP", hash };
      pairs.set(hash, {
        ours: {
          privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["decrypt"]),
          publicKey: await crypto.subtle.importKey("spki", spki, algorithm, true, ["encrypt"]),
        },
        node: {
          privateKey: await native.importKey("pkcs8", pkcs8, algorithm, true, ["decrypt"]),
          publicKey: await native.importKey("spki", spki, algorithm, true, ["encrypt"]),
        },
      });
    }
    return pairs.get(hash)!;
  }

  /**
   * Asks the token itself (C_EncryptInit and C_DecryptInit with the parameters, not through our
   * library) whether it does CKM_RSA_PKCS_OAEP with `hash` and `label`; and, for a label, whether
   * decrypting checks it: a token that decrypts a ciphertext made with another label ignores
   * labels (SoftHSM 2.6 does), and we refuse labels there. Once per hash and label.
   */
  const support = new Map<string, Promise<OaepSupport>>();
  function tokenOaep(hash: HashName, label: Bytes | undefined): Promise<OaepSupport> {
    const labelled = label !== undefined && label.length > 0;
    const key = `${hash} ${labelled ? Buffer.from(label).toString("hex") : ""}`;
    if (!support.has(key)) support.set(key, askToken(hash, labelled ? label : undefined));
    return support.get(key)!;
  }

  async function askToken(hash: HashName, label: Bytes | undefined): Promise<OaepSupport> {
    if (!crypto.mechanisms.includes("CKM_RSA_PKCS_OAEP")) {
      return { encrypts: false, decrypts: false, whyNotEncrypt: /it lacks CKM_RSA_PKCS_OAEP/, whyNotDecrypt: /it lacks CKM_RSA_PKCS_OAEP/ };
    }
    const { ours: pair, node } = await samePair(hash);
    const [hashAlg, mgf] = PKCS11_HASH[hash];
    const mechanism = {
      mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
      parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg, mgf, source: 1, ...(label ? { sourceData: Buffer.from(label) } : {}) },
    };
    // The token's answer to the parameters: C_EncryptInit/C_DecryptInit refusing them. (Through
    // the asynchronous calls, as our library makes them: SoftHSM leaves errors on OpenSSL's
    // per-thread queue, which must not be the main thread's, where Node's WebCrypto reads it.)
    const refused = (error: unknown) =>
      /^C_(Encrypt|Decrypt)Init$/.test((error as { method?: string }).method ?? "") &&
      [pkcs11js.CKR_ARGUMENTS_BAD, pkcs11js.CKR_MECHANISM_PARAM_INVALID].includes(ckrOf(error)!);
    const publicRef = keyObjectOf(pair.publicKey)!;
    const privateRef = keyObjectOf(pair.privateKey)!;
    const encrypts = await encryptOnToken(publicRef.token, mechanism, publicRef.handle, Buffer.of(1), 256).then(
      () => true,
      (error) => (refused(error) ? false : Promise.reject(error)),
    );
    // Node's ciphertext with the empty label: a token that checks a label it is given fails on it.
    const probe = Buffer.from(await native.encrypt(oaep(), node.publicKey, Buffer.of(1)));
    const decryption = await decryptOnToken(privateRef.token, mechanism, privateRef.handle, probe, 256).then(
      () => (label ? "ignores the label" : "decrypts"),
      (error) => {
        if (refused(error)) return "refused";
        if (label && (error as { method?: string }).method === "C_Decrypt") return "decrypts";
        throw error;
      },
    );
    const refusedParameters = /it refuses these RSA-OAEP parameters \(CKR_(ARGUMENTS_BAD|MECHANISM_PARAM_INVALID)\)/;
    return {
      encrypts,
      decrypts: decryption === "decrypts",
      whyNotEncrypt: refusedParameters,
      whyNotDecrypt: decryption === "refused" ? refusedParameters : /it ignores OAEP labels/,
    };
  }

  /** A cell of the matrix the token may not do: where it cannot, NotSupportedError saying why. */
  function itWhereSupported(direction: "encrypts" | "decrypts", hash: HashName, label: Bytes | undefined, title: string, body: () => Promise<void>, call?: () => unknown): void {
    itIfSupported(async () => (await tokenOaep(hash, label))[direction], title, body, {
      call,
      mechanism: async () => {
        const why = await tokenOaep(hash, label);
        return direction === "encrypts" ? why.whyNotEncrypt : why.whyNotDecrypt;
      },
    });
  }

  before(async () => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
    const pair = (await native.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: F4, hash: "SHA-256" }, true, ALL_USAGES)) as CryptoKeyPair;
    spki = await native.exportKey("spki", pair.publicKey);
    pkcs8 = await native.exportKey("pkcs8", pair.privateKey);
  });

  after(async () => {
    await crypto?.close();
  });

  describe("generateKey on the token: shapes equal Node's, and the keys work with Node's", () => {
    const cases: Array<{ bits: number; extractable: boolean; usages: KeyUsage[] }> = [
      { bits: 2048, extractable: true, usages: ["encrypt", "decrypt"] },
      { bits: 2048, extractable: false, usages: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] },
      { bits: 3072, extractable: true, usages: ALL_USAGES },
      { bits: 4096, extractable: false, usages: ["encrypt", "decrypt"] },
    ];
    for (const { bits, extractable, usages } of cases) {
      it(`${bits} bits, SHA-1, extractable ${extractable}, usages [${usages.join(", ")}]`, async function () {
        this.timeout(180_000);
        const algorithm = { name: "RSA-OAEP", modulusLength: bits, publicExponent: F4, hash: "SHA-1" };
        const [ourPair, nodePair] = (await Promise.all([
          crypto.subtle.generateKey(algorithm, extractable, usages),
          native.generateKey(algorithm, extractable, usages),
        ])) as [CryptoKeyPair, CryptoKeyPair];
        assertSameShape(ourPair.privateKey, nodePair.privateKey, "private key");
        assertSameShape(ourPair.publicKey, nodePair.publicKey, "public key");

        // Node encrypts with our public key (moved as spki and as jwk); ours decrypts.
        const importParams = { name: "RSA-OAEP", hash: "SHA-1" };
        const publicForNode = [
          await native.importKey("spki", await crypto.subtle.exportKey("spki", ourPair.publicKey), importParams, true, ["encrypt"]),
          await native.importKey("jwk", await crypto.subtle.exportKey("jwk", ourPair.publicKey), importParams, true, ["encrypt"]),
        ];
        for (const nodePublic of publicForNode) {
          const ciphertext = await native.encrypt(oaep(), nodePublic, DATA);
          assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(oaep(), ourPair.privateKey, ciphertext)), bytes(DATA), "ours decrypts Node's");
        }
        // Ours encrypts with Node's new public key; Node decrypts.
        const nodePublicInOurs = await crypto.subtle.importKey("spki", await native.exportKey("spki", nodePair.publicKey), importParams, true, ["encrypt"]);
        const ciphertext = await crypto.subtle.encrypt(oaep(), nodePublicInOurs, DATA);
        assert.equal(ciphertext.byteLength, bits / 8);
        assert.deepStrictEqual(bytes(await native.decrypt(oaep(), nodePair.privateKey, ciphertext)), bytes(DATA), "Node decrypts ours");

        for (const format of ["pkcs8", "jwk"] as const) {
          await assertSameOutcome(`export ${format} of the private key`, () => crypto.subtle.exportKey(format, ourPair.privateKey), () => native.exportKey(format, nodePair.privateKey));
        }
        if (extractable) {
          // The private key leaves the token intact: Node, given it, decrypts what ours encrypts.
          const exported = await crypto.subtle.exportKey("pkcs8", ourPair.privateKey);
          const nodePrivate = await native.importKey("pkcs8", exported, importParams, true, ["decrypt"]);
          assert.deepStrictEqual(bytes(await native.exportKey("pkcs8", nodePrivate)), bytes(exported));
          assert.deepStrictEqual(await crypto.subtle.exportKey("jwk", ourPair.privateKey), { ...(await native.exportKey("jwk", nodePrivate)), key_ops: ourPair.privateKey.usages });
          const mine = await crypto.subtle.encrypt(oaep(), ourPair.publicKey, DATA);
          assert.deepStrictEqual(bytes(await native.decrypt(oaep(), nodePrivate, mine)), bytes(DATA), "Node decrypts with our exported key");
        }
      });
    }

    it("2048 bits, SHA-256, SHA-384 and SHA-512: shapes and jwk exports (alg RSA-OAEP-256, ...) as Node's", async function () {
      this.timeout(120_000);
      for (const hash of HASHES.slice(1)) {
        const algorithm = { name: "RSA-OAEP", modulusLength: 2048, publicExponent: F4, hash };
        const [ourPair, nodePair] = (await Promise.all([
          crypto.subtle.generateKey(algorithm, true, ALL_USAGES),
          native.generateKey(algorithm, true, ALL_USAGES),
        ])) as [CryptoKeyPair, CryptoKeyPair];
        for (const type of ["privateKey", "publicKey"] as const) {
          assertSameShape(ourPair[type], nodePair[type], `${hash} ${type}`);
          const { n: _n, e: _e, d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...mine } = await crypto.subtle.exportKey("jwk", ourPair[type]);
          const { n: _n2, e: _e2, d: _d2, p: _p2, q: _q2, dp: _dp2, dq: _dq2, qi: _qi2, ...theirs } = await native.exportKey("jwk", nodePair[type]);
          assert.deepStrictEqual(mine, theirs, `${hash} ${type}: jwk members other than the key material`);
        }
      }
    });
  });

  describe("the matrix (2048 bits): each side decrypts what the other encrypted", () => {
    for (const hash of HASHES) {
      for (const [kind, label] of LABELS) {
        const max = maxLength(hash);
        // Where the token cannot: NotSupportedError. Inputs: the 2048-bit reference key imported as
        // RSA-OAEP with `hash`, RsaOaepParams `label`. SoftHSM 2.6.1 answers CKR_ARGUMENTS_BAD to
        // CKM_RSA_PKCS_OAEP with hashAlg other than CKM_SHA_1 or with pSourceData (every cell but
        // SHA-1 with label absent or empty); NSS softokn does every cell.
        itWhereSupported("encrypts", hash, label, `${hash}, label ${kind}: ours encrypts 1 and ${max} bytes, Node decrypts`, async () => {
          const { ours: ourPair, node } = await samePair(hash);
          for (const length of [1, max]) {
            const plaintext = message(length);
            const ciphertext = await crypto.subtle.encrypt(oaep(label), ourPair.publicKey, plaintext);
            assert.equal(ciphertext.byteLength, 256);
            assert.deepStrictEqual(bytes(await native.decrypt(oaep(label), node.privateKey, ciphertext)), bytes(plaintext), `${length} bytes`);
          }
          // Randomized, as Node's: the same message twice gives two ciphertexts.
          const [a, b] = [await crypto.subtle.encrypt(oaep(label), ourPair.publicKey, DATA), await crypto.subtle.encrypt(oaep(label), ourPair.publicKey, DATA)];
          assert.notDeepStrictEqual(bytes(a), bytes(b));
        });

        itWhereSupported("decrypts", hash, label, `${hash}, label ${kind}: Node encrypts 0, 1 and ${max} bytes, ours decrypts`, async () => {
          const { ours: ourPair, node } = await samePair(hash);
          for (const length of [0, 1, max]) {
            const plaintext = message(length);
            const ciphertext = await native.encrypt(oaep(label), node.publicKey, plaintext);
            assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(oaep(label), ourPair.privateKey, ciphertext)), bytes(plaintext), `${length} bytes`);
          }
        });

        // An empty message goes to C_Encrypt as a zero-length view of a live buffer (not NULL).
        itWhereSupported("encrypts", hash, label, `${hash}, label ${kind}: ours encrypts an empty message, Node decrypts`, async () => {
          const { ours: ourPair, node } = await samePair(hash);
          const ciphertext = await crypto.subtle.encrypt(oaep(label), ourPair.publicKey, new Uint8Array(0));
          assert.deepStrictEqual(bytes(await native.decrypt(oaep(label), node.privateKey, ciphertext)), Buffer.alloc(0));
        });

        it(`${hash}, label ${kind}: ${max + 1} bytes (one over the maximum) fail as Node's`, async () => {
          const { ours: ourPair, node } = await samePair(hash);
          const tooLong = message(max + 1);
          const result = await assertSameOutcome("encrypt", () => crypto.subtle.encrypt(oaep(label), ourPair.publicKey, tooLong), () => native.encrypt(oaep(label), node.publicKey, tooLong));
          assert.equal(result, "OperationError");
        });
      }
    }

    it("SHA-1 with the largest message (214 bytes) at 3072 and 4096 bits is not limited to 2048 bits' maximum", async function () {
      this.timeout(120_000);
      // Node-made keys of both sizes, imported into both.
      for (const bits of [3072, 4096]) {
        const algorithm = { name: "RSA-OAEP", modulusLength: bits, publicExponent: F4, hash: "SHA-1" };
        const nodePair = (await native.generateKey(algorithm, true, ["encrypt", "decrypt"])) as CryptoKeyPair;
        const params = { name: "RSA-OAEP", hash: "SHA-1" };
        const ourPublic = await crypto.subtle.importKey("spki", await native.exportKey("spki", nodePair.publicKey), params, true, ["encrypt"]);
        const ourPrivate = await crypto.subtle.importKey("pkcs8", await native.exportKey("pkcs8", nodePair.privateKey), params, true, ["decrypt"]);
        const max = maxLength("SHA-1", bits);
        const plaintext = message(max);
        assert.deepStrictEqual(bytes(await native.decrypt(oaep(), nodePair.privateKey, await crypto.subtle.encrypt(oaep(), ourPublic, plaintext))), bytes(plaintext));
        assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(oaep(), ourPrivate, await native.encrypt(oaep(), nodePair.publicKey, plaintext))), bytes(plaintext));
        const tooLong = message(max + 1);
        await assertSameOutcome(`${bits} bits, ${max + 1} bytes`, () => crypto.subtle.encrypt(oaep(), ourPublic, tooLong), () => native.encrypt(oaep(), nodePair.publicKey, tooLong));
      }
    });

    it("a hash in the encrypt parameters is ignored (the key's hash is used), as by Node", async () => {
      const { ours: ourPair, node } = await samePair("SHA-1");
      const params = { name: "RSA-OAEP", hash: "SHA-512" };
      const ciphertext = await crypto.subtle.encrypt(params, ourPair.publicKey, DATA);
      assert.deepStrictEqual(bytes(await native.decrypt(oaep(), node.privateKey, ciphertext)), bytes(DATA));
      assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(params, ourPair.privateKey, await native.encrypt(params, node.publicKey, DATA))), bytes(DATA));
    });

    it("the empty label and no label are the same label, on both", async () => {
      const { ours: ourPair, node } = await samePair("SHA-1");
      const fromNode = await native.encrypt(oaep(new Uint8Array(0)), node.publicKey, DATA);
      assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(oaep(), ourPair.privateKey, fromNode)), bytes(DATA));
      const fromOurs = await crypto.subtle.encrypt(oaep(), ourPair.publicKey, DATA);
      assert.deepStrictEqual(bytes(await native.decrypt(oaep(new Uint8Array(0)), node.privateKey, fromOurs)), bytes(DATA));
    });
  });

  describe("a wrong label: decryption fails as Node's", () => {
    const cases: Array<[string, Bytes | undefined, Bytes | undefined]> = [
      ["encrypted with a 16-byte label, decrypted with none", message(16), undefined],
      ["encrypted with none, decrypted with a 16-byte label", undefined, OTHER_LABEL],
      ["encrypted with one 16-byte label, decrypted with another", message(16), OTHER_LABEL],
      ["encrypted with the empty label, decrypted with a 1-byte label", new Uint8Array(0), filler(1)],
    ];
    for (const hash of HASHES) {
      for (const [label, encryptLabel, decryptLabel] of cases) {
        // Where the token cannot (SoftHSM: all but SHA-1 decrypting with no label): NotSupportedError;
        // Node says OperationError. Inputs: Node's ciphertext of DATA under the reference key with
        // `hash` and encryptLabel; ours decrypts with decryptLabel. SoftHSM 2.6.1 refuses hashes
        // other than SHA-1, and accepts a label in C_DecryptInit but ignores it, so we refuse labels on it.
        const decryption = async () => {
          const { ours: ourPair, node } = await samePair(hash);
          const ciphertext = await native.encrypt(oaep(encryptLabel), node.publicKey, DATA);
          const ours = () => crypto.subtle.decrypt(oaep(decryptLabel), ourPair.privateKey, ciphertext);
          const theirs = () => native.decrypt(oaep(decryptLabel), node.privateKey, ciphertext);
          assert.equal(await outcome(theirs), "OperationError");
          return { ours, theirs };
        };
        itWhereSupported("decrypts", hash, decryptLabel, `${hash}: ${label}`, async () => {
          const { ours, theirs } = await decryption();
          assert.equal(await assertSameOutcome("decrypt", ours, theirs), "OperationError");
        }, async () => (await decryption()).ours());
      }
    }
  });

  describe("never a wrong answer: where the token cannot, NotSupportedError; otherwise Node's outcome", () => {
    /**
     * Ours must agree with Node where the token can (`tokenCan`, asked of the token), and say
     * NotSupportedError where it cannot; a success must give Node's plaintext.
     */
    async function agreeOrNotSupported(what: string, tokenCan: boolean, mine: () => Promise<ArrayBuffer>, theirs: () => Promise<ArrayBuffer>) {
      const [a, b] = await Promise.all([outcome(mine), outcome(theirs)]);
      if (tokenCan) assert.equal(a, b, `${what}: ours ${a}, Node's ${b} (the token can)`);
      else assert.equal(a, "NotSupportedError", `${what}: ours ${a}, Node's ${b} (the token cannot)`);
      return a;
    }

    for (const hash of HASHES) {
      it(`${hash}: every label, both directions, and every wrong label`, async () => {
        const { ours: ourPair, node } = await samePair(hash);
        for (const [kind, label] of LABELS) {
          const plaintext = message(5);
          const ciphertext = await native.encrypt(oaep(label), node.publicKey, plaintext);
          const decrypted = await agreeOrNotSupported(`label ${kind}, decrypt`, (await tokenOaep(hash, label)).decrypts, () => crypto.subtle.decrypt(oaep(label), ourPair.privateKey, ciphertext), async () => new ArrayBuffer(0));
          if (decrypted === "ok") assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(oaep(label), ourPair.privateKey, ciphertext)), bytes(plaintext));
          const encrypted = await agreeOrNotSupported(`label ${kind}, encrypt`, (await tokenOaep(hash, label)).encrypts, () => crypto.subtle.encrypt(oaep(label), ourPair.publicKey, plaintext), () => native.encrypt(oaep(label), node.publicKey, plaintext));
          if (encrypted === "ok") {
            const mine = await crypto.subtle.encrypt(oaep(label), ourPair.publicKey, plaintext);
            assert.deepStrictEqual(bytes(await native.decrypt(oaep(label), node.privateKey, mine)), bytes(plaintext));
          }
          // The token is never trusted to have checked a label it was given: a wrong one never decrypts.
          for (const wrong of [OTHER_LABEL, filler(1), undefined]) {
            if (wrong === label || (wrong === undefined && (label === undefined || label.length === 0))) continue;
            const result = await agreeOrNotSupported(`label ${kind}, decrypted with a wrong label`, (await tokenOaep(hash, wrong)).decrypts, () => crypto.subtle.decrypt(oaep(wrong), ourPair.privateKey, ciphertext), () => native.decrypt(oaep(wrong), node.privateKey, ciphertext));
            assert.notEqual(result, "ok");
          }
        }
      });
    }

    it("the label check is remembered per token and hash, and still refuses after the first time", async () => {
      const { ours: ourPair, node } = await samePair("SHA-1");
      const ciphertext = await native.encrypt(oaep(), node.publicKey, DATA);
      for (let i = 0; i < 3; i++) {
        const result = await agreeOrNotSupported(`attempt ${i}`, (await tokenOaep("SHA-1", OTHER_LABEL)).decrypts, () => crypto.subtle.decrypt(oaep(OTHER_LABEL), ourPair.privateKey, ciphertext), () => native.decrypt(oaep(OTHER_LABEL), node.privateKey, ciphertext));
        assert.notEqual(result, "ok");
      }
    });
  });

  describe("import and export round trips: our exports equal Node's", () => {
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

    /** Node's JWKs of the reference key imported with `hash` (alg RSA-OAEP, RSA-OAEP-256, ... as Node writes them). */
    async function nodeJwks(hash: HashName) {
      const { node } = await samePair(hash);
      return { jwkPublic: await native.exportKey("jwk", node.publicKey), jwkPrivate: await native.exportKey("jwk", node.privateKey) };
    }

    for (const hash of HASHES) {
      const algorithm = { name: "RSA-OAEP", hash };
      it(`${hash}: spki, usages [encrypt, wrapKey]`, () => roundTrip(algorithm, "spki", spki, ["encrypt", "wrapKey"]));
      it(`${hash}: pkcs8, usages [decrypt, unwrapKey]`, () => roundTrip(algorithm, "pkcs8", pkcs8, ["decrypt", "unwrapKey"]));
      it(`${hash}: jwk public (Node's, with alg)`, async () => roundTrip(algorithm, "jwk", (await nodeJwks(hash)).jwkPublic, ["encrypt"]));
      it(`${hash}: jwk private (Node's, with alg)`, async () => roundTrip(algorithm, "jwk", (await nodeJwks(hash)).jwkPrivate, ["decrypt"]));
    }
    it("jwk without alg, key_ops and ext", async () => {
      const { jwkPrivate, jwkPublic } = await nodeJwks("SHA-256");
      const strip = ({ alg: _alg, key_ops: _ops, ext: _ext, ...rest }: JsonWebKey) => rest;
      await roundTrip({ name: "RSA-OAEP", hash: "SHA-384" }, "jwk", strip(jwkPublic), ["encrypt"]);
      await roundTrip({ name: "RSA-OAEP", hash: "SHA-384" }, "jwk", strip(jwkPrivate), ["decrypt"]);
    });
    it("spki with no usages", () => roundTrip({ name: "RSA-OAEP", hash: "SHA-256" }, "spki", spki, []));
    it("a private key imported non-extractable: every export refused as by Node, and it still decrypts", async () => {
      const algorithm = { name: "RSA-OAEP", hash: "SHA-1" };
      const mine = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["decrypt"]);
      const theirs = await native.importKey("pkcs8", pkcs8, algorithm, false, ["decrypt"]);
      assertSameShape(mine, theirs, "pkcs8 import, extractable false");
      for (const format of ["pkcs8", "jwk", "spki", "raw"] as const) {
        const result = await assertSameOutcome(`export ${format}`, () => crypto.subtle.exportKey(format, mine), () => native.exportKey(format, theirs));
        assert.equal(result, "InvalidAccessError");
      }
      const ciphertext = await native.encrypt(oaep(), (await samePair("SHA-1")).node.publicKey, DATA);
      assert.deepStrictEqual(bytes(await crypto.subtle.decrypt(oaep(), mine, ciphertext)), bytes(DATA));
    });
  });

  describe("wrapMechanism: CKM_RSA_PKCS_OAEP for C_WrapKey/C_UnwrapKey", () => {
    it("takes the hash from the key (not the algorithm) and the label from the algorithm", async () => {
      const { ours: ourPair } = await samePair("SHA-384");
      const mechanism = rsaOaepProvider.wrapMechanism!({ name: "RSA-OAEP", label: message(16), hash: { name: "SHA-1" } }, ourPair.publicKey);
      assert.equal(mechanism.mechanism, pkcs11js.CKM_RSA_PKCS_OAEP);
      assert.deepStrictEqual(mechanism.parameter, {
        type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, source: 1, sourceData: Buffer.from(message(16)),
      });
      const unlabelled = rsaOaepProvider.wrapMechanism!({ name: "RSA-OAEP", label: new Uint8Array(0) }, ourPair.privateKey);
      assert.deepStrictEqual(unlabelled.parameter, { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, source: 1 });
    });
  });

  describe("error names equal Node's on the same bad inputs", () => {
    const importParams = { name: "RSA-OAEP", hash: "SHA-1" };
    /** Generation parameters; 1024 bits, so that a case that does generate stays quick. */
    const gen = (overrides: Record<string, unknown> = {}) => ({ name: "RSA-OAEP", modulusLength: 1024, publicExponent: F4, hash: "SHA-1", ...overrides });
    const nodeJwk = async (type: "public" | "private") => {
      const { node } = await samePair("SHA-1");
      return native.exportKey("jwk", type === "public" ? node.publicKey : node.privateKey);
    };
    const importJwk = async (s: Side, type: "public" | "private", change: Partial<Record<keyof JsonWebKey, unknown>>, usages: KeyUsage[] = [type === "public" ? "encrypt" : "decrypt"], extractable = true) =>
      s.subtle.importKey("jwk", { ...(await nodeJwk(type)), ...change }, importParams, extractable, usages);
    /** Node's ciphertext of DATA under the reference key with `hash`, no label. */
    const nodeCiphertext = async (hash: HashName) => new Uint8Array(await native.encrypt(oaep(), (await samePair(hash)).node.publicKey, DATA));
    const flipped = async () => {
      const ciphertext = await nodeCiphertext("SHA-1");
      ciphertext[100] ^= 1;
      return ciphertext;
    };

    const cases: ErrorCase[] = [
      // generateKey
      { label: "generateKey, usages [sign]", call: (s) => s.subtle.generateKey(gen(), true, ["sign"]) },
      { label: "generateKey, usages [encrypt, sign]", call: (s) => s.subtle.generateKey(gen(), true, ["encrypt", "sign"]) },
      { label: "generateKey, empty usages", call: (s) => s.subtle.generateKey(gen(), true, []) },
      { label: "generateKey, usages [encrypt] only (nothing for the private key)", call: (s) => s.subtle.generateKey(gen(), true, ["encrypt"]) },
      { label: "generateKey, usages [wrapKey] only", call: (s) => s.subtle.generateKey(gen(), true, ["wrapKey"]) },
      { label: "generateKey, usages [unwrapKey] only", call: (s) => s.subtle.generateKey(gen(), true, ["unwrapKey"]) },
      { label: "generateKey, missing hash", call: (s) => s.subtle.generateKey(gen({ hash: undefined }), true, ["decrypt"]) },
      { label: "generateKey, unknown hash SHA-3", call: (s) => s.subtle.generateKey(gen({ hash: "SHA-3" }), true, ["decrypt"]) },
      { label: "generateKey, missing modulusLength", call: (s) => s.subtle.generateKey(gen({ modulusLength: undefined }), true, ["decrypt"]) },
      { label: "generateKey, publicExponent a plain array", call: (s) => s.subtle.generateKey(gen({ publicExponent: [1, 0, 1] }), true, ["decrypt"]) },
      { label: "generateKey, name in lower case", call: (s) => s.subtle.generateKey(gen({ name: "rsa-oaep" }), true, ["sign"]) },
      // importKey: algorithm and usages
      { label: "importKey spki, missing hash", call: (s) => s.subtle.importKey("spki", spki, { name: "RSA-OAEP" }, true, ["encrypt"]) },
      { label: "importKey pkcs8, missing hash", call: (s) => s.subtle.importKey("pkcs8", pkcs8, { name: "RSA-OAEP" }, true, ["decrypt"]) },
      { label: "importKey spki, unknown hash SHA-224", call: (s) => s.subtle.importKey("spki", spki, { name: "RSA-OAEP", hash: "SHA-224" }, true, ["encrypt"]) },
      { label: "importKey spki, usages [decrypt]", call: (s) => s.subtle.importKey("spki", spki, importParams, true, ["decrypt"]) },
      { label: "importKey spki, usages [verify]", call: (s) => s.subtle.importKey("spki", spki, importParams, true, ["verify"]) },
      { label: "importKey spki, usages [encrypt, unwrapKey]", call: (s) => s.subtle.importKey("spki", spki, importParams, true, ["encrypt", "unwrapKey"]) },
      { label: "importKey pkcs8, usages [encrypt]", call: (s) => s.subtle.importKey("pkcs8", pkcs8, importParams, true, ["encrypt"]) },
      { label: "importKey pkcs8, usages [sign]", call: (s) => s.subtle.importKey("pkcs8", pkcs8, importParams, true, ["sign"]) },
      { label: "importKey pkcs8, empty usages", call: (s) => s.subtle.importKey("pkcs8", pkcs8, importParams, true, []) },
      { label: "importKey raw", call: (s) => s.subtle.importKey("raw", bytes(spki), importParams, true, ["encrypt"]) },
      { label: "importKey spki, garbage bytes", call: (s) => s.subtle.importKey("spki", filler(294), importParams, true, ["encrypt"]) },
      { label: "importKey pkcs8, given the spki", call: (s) => s.subtle.importKey("pkcs8", spki, importParams, true, ["decrypt"]) },
      // importKey: JWK
      { label: "jwk alg RSA-OAEP for a SHA-1 key", call: (s) => importJwk(s, "public", { alg: "RSA-OAEP" }) },
      { label: "jwk alg rsa-oaep (lower case)", call: (s) => importJwk(s, "public", { alg: "rsa-oaep" }) },
      { label: "jwk alg RSA-OAEP-256 for a SHA-1 key", call: (s) => importJwk(s, "public", { alg: "RSA-OAEP-256" }) },
      { label: "jwk private alg RSA-OAEP-512 for a SHA-1 key", call: (s) => importJwk(s, "private", { alg: "RSA-OAEP-512" }) },
      { label: "jwk alg RS1", call: (s) => importJwk(s, "public", { alg: "RS1" }) },
      { label: "jwk alg SHA-1 (a hash name)", call: (s) => importJwk(s, "public", { alg: "SHA-1" }) },
      { label: "jwk alg PS256", call: (s) => importJwk(s, "public", { alg: "PS256" }) },
      { label: "jwk alg RSA1_5", call: (s) => importJwk(s, "public", { alg: "RSA1_5" }) },
      { label: "jwk alg A128KW", call: (s) => importJwk(s, "public", { alg: "A128KW" }) },
      { label: "jwk kty EC", call: (s) => importJwk(s, "public", { kty: "EC" }) },
      { label: "jwk use sig with usages [encrypt]", call: (s) => importJwk(s, "public", { use: "sig" }) },
      { label: "jwk use sig with no usages", call: (s) => importJwk(s, "public", { use: "sig" }, []) },
      { label: "jwk use enc", call: (s) => importJwk(s, "public", { use: "enc" }) },
      { label: "jwk key_ops [decrypt] for usages [encrypt]", call: (s) => importJwk(s, "public", { key_ops: ["decrypt"] }) },
      { label: "jwk key_ops [encrypt, wrapKey] for usages [encrypt]", call: (s) => importJwk(s, "public", { key_ops: ["encrypt", "wrapKey"] }) },
      { label: "jwk ext false imported extractable", call: (s) => importJwk(s, "private", { ext: false }) },
      { label: "jwk private, usages [encrypt]", call: (s) => importJwk(s, "private", {}, ["encrypt"]) },
      { label: "jwk public, usages [decrypt]", call: (s) => importJwk(s, "public", { key_ops: undefined }, ["decrypt"]) },
      { label: "jwk private, empty usages", call: (s) => importJwk(s, "private", { key_ops: undefined }, []) },
      // encrypt and decrypt: parameters
      { label: "encrypt, label a string", call: (s) => s.subtle.encrypt({ name: "RSA-OAEP", label: "label" }, s.publicKey, DATA) },
      { label: "encrypt, label null", call: (s) => s.subtle.encrypt({ name: "RSA-OAEP", label: null }, s.publicKey, DATA) },
      { label: "encrypt, label a number", call: (s) => s.subtle.encrypt({ name: "RSA-OAEP", label: 7 }, s.publicKey, DATA) },
      { label: "encrypt, label a plain array", call: (s) => s.subtle.encrypt({ name: "RSA-OAEP", label: [1, 2, 3] }, s.publicKey, DATA) },
      { label: "decrypt, label a string", call: async (s) => s.subtle.decrypt({ name: "RSA-OAEP", label: "label" }, s.privateKey, await nodeCiphertext("SHA-1")) },
      { label: "encrypt, algorithm as a bare string", call: (s) => s.subtle.encrypt("RSA-OAEP", s.publicKey, DATA) },
      { label: "encrypt, unknown name RSA-OAEP-256", call: (s) => s.subtle.encrypt({ name: "RSA-OAEP-256" }, s.publicKey, DATA) },
      { label: "encrypt, data a string", call: (s) => s.subtle.encrypt(oaep(), s.publicKey, "hello") },
      { label: "encrypt, two arguments", call: (s) => s.subtle.encrypt(oaep(), s.publicKey) },
      // encrypt and decrypt: keys
      { label: "decrypt with the public key", call: async (s) => s.subtle.decrypt(oaep(), s.publicKey, await nodeCiphertext("SHA-1")) },
      { label: "encrypt with the private key", call: (s) => s.subtle.encrypt(oaep(), s.privateKey, DATA) },
      { label: "encrypt with an RSA-PSS key", call: (s) => s.subtle.encrypt(oaep(), s.pssKey, DATA) },
      { label: "encrypt with an ECDSA key", call: (s) => s.subtle.encrypt(oaep(), s.ecKey, DATA) },
      { label: "encrypt with an AES-GCM key", call: (s) => s.subtle.encrypt(oaep(), s.aesKey, DATA) },
      { label: "encrypt with AES-GCM parameters and the RSA-OAEP key", call: (s) => s.subtle.encrypt({ name: "AES-GCM", iv: filler(12) }, s.publicKey, DATA) },
      { label: "sign with the RSA-OAEP private key", call: (s) => s.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, s.privateKey, DATA) },
      // decrypt: bad ciphertexts
      { label: "decrypt, empty ciphertext", call: (s) => s.subtle.decrypt(oaep(), s.privateKey, new Uint8Array(0)) },
      { label: "decrypt, ciphertext of 255 bytes", call: async (s) => s.subtle.decrypt(oaep(), s.privateKey, (await nodeCiphertext("SHA-1")).subarray(1)) },
      { label: "decrypt, ciphertext of 257 bytes", call: async (s) => s.subtle.decrypt(oaep(), s.privateKey, new Uint8Array([0, ...(await nodeCiphertext("SHA-1"))])) },
      { label: "decrypt, 256 zero bytes", call: (s) => s.subtle.decrypt(oaep(), s.privateKey, new Uint8Array(256)) },
      { label: "decrypt, 256 0xff bytes (not below the modulus)", call: (s) => s.subtle.decrypt(oaep(), s.privateKey, filler(256, 0xff)) },
      { label: "decrypt, a ciphertext with one bit flipped", call: async (s) => s.subtle.decrypt(oaep(), s.privateKey, await flipped()) },
      { label: "decrypt, a ciphertext made with SHA-256 by a SHA-1 key", call: async (s) => s.subtle.decrypt(oaep(), s.privateKey, await nodeCiphertext("SHA-256")) },
      { label: "encrypt, 215 bytes (one over SHA-1's maximum)", call: (s) => s.subtle.encrypt(oaep(), s.publicKey, filler(215)) },
      { label: "encrypt, 256 bytes", call: (s) => s.subtle.encrypt(oaep(), s.publicKey, filler(256)) },
      // exportKey
      { label: "exportKey raw of a public key", call: (s) => s.subtle.exportKey("raw", s.publicKey) },
      { label: "exportKey spki of a private key", call: (s) => s.subtle.exportKey("spki", s.privateKey) },
      { label: "exportKey pkcs8 of a public key", call: (s) => s.subtle.exportKey("pkcs8", s.publicKey) },
      { label: "exportKey pkcs8 of a non-extractable key", call: async (s) => s.subtle.exportKey("pkcs8", await s.subtle.importKey("pkcs8", pkcs8, importParams, false, ["decrypt"])) },
      { label: "exportKey jwk of a non-extractable key", call: async (s) => s.subtle.exportKey("jwk", await s.subtle.importKey("pkcs8", pkcs8, importParams, false, ["unwrapKey"])) },
    ];

    let oursSide: Side;
    let nodeSide: Side;
    before(async () => {
      const { ours: ourPair, node } = await samePair("SHA-1");
      const ec = (await native.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const ecPkcs8 = await native.exportKey("pkcs8", ec.privateKey);
      const ecAlgorithm = { name: "ECDSA", namedCurve: "P-256" };
      const pss = { name: "RSA-PSS", hash: "SHA-1" };
      const aes = filler(16, 0x33);
      oursSide = {
        subtle: ours,
        ...ourPair,
        pssKey: await crypto.subtle.importKey("spki", spki, pss, true, ["verify"]),
        ecKey: await crypto.subtle.importKey("pkcs8", ecPkcs8, ecAlgorithm, false, ["sign"]),
        aesKey: await crypto.subtle.importKey("raw", aes, "AES-GCM", false, ["encrypt"]),
      };
      nodeSide = {
        subtle: loose(native),
        ...node,
        pssKey: await native.importKey("spki", spki, pss, true, ["verify"]),
        ecKey: await native.importKey("pkcs8", ecPkcs8, ecAlgorithm, false, ["sign"]),
        aesKey: await native.importKey("raw", aes, "AES-GCM", false, ["encrypt"]),
      };
    });

    for (const { label, call } of cases) {
      it(label, async () => {
        await assertSameOutcome(label, () => call(oursSide), () => call(nodeSide));
      });
    }
  });
});
