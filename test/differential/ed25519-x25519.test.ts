/**
 * Differential tests for Ed25519 and X25519 against Node's own WebCrypto.
 *
 * Ed25519 runs on SoftHSM (CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA): Ed25519 is deterministic, so
 * the token's signatures must be byte for byte Node's for the same key; signatures cross both
 * ways; imports and exports equal Node's; errors have Node's names. NSS softokn's "NSS
 * Certificate DB" and p11-kit 0.24's remote token have neither mechanism: there every test that
 * needs the token must fail with NotSupportedError naming one of them (`itEd`), run against
 * stand-in keys that cannot exist on such a token (as X25519's below).
 *
 * X25519 needs CKM_EC_MONTGOMERY_KEY_PAIR_GEN, which SoftHSM 2.6 lacks: every X25519 operation
 * must fail with NotSupportedError naming it, before any token call, while the argument errors
 * Node would raise first keep Node's names.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { Crypto } from "../../src/index.js";
import { createCryptoKey, keyObjectOf } from "../../src/keys/crypto-key.js";
import { readAttributes } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { itIfSupported, tokenOf, type WhereUnsupported } from "../support/capability.js";
import { assertSameOutcome, bytes, native, outcome, loose, keyShape as shape, assertSameShape, type Loose } from "../support/oracle.js";
import { config } from "../support/tokens.js";

type Bytes = Uint8Array<ArrayBuffer>;

const ED = { name: "Ed25519" };
const X = { name: "X25519" };
const DATA = new TextEncoder().encode("signed on the token, checked by Node");
/** Messages of the sizes that matter: none, one byte, short, and longer than any internal block. */
const MESSAGES: Array<[string, Bytes]> = [
  ["empty", new Uint8Array(0)],
  ["one byte", new Uint8Array([0x61])],
  ["short", DATA],
  ["64 KiB", new Uint8Array(65536).map((_, i) => (i * 31) & 0xff)],
];

/**
 * A key of ours whose token object does not exist (handle 0 is CK_INVALID_HANDLE): what a key of an
 * algorithm the token cannot hold would be. Any token call with it would fail with
 * CKR_OBJECT_HANDLE_INVALID, so a NotSupportedError from it was raised before any token call.
 */
async function standIn(crypto: Crypto, type: KeyType, extractable: boolean, algorithm: KeyAlgorithm, usages: KeyUsage[]): Promise<CryptoKey> {
  return createCryptoKey({ token: await tokenOf(crypto), handle: Buffer.alloc(8), persistent: true }, type, extractable, algorithm, usages);
}

function flipped(buffer: ArrayBuffer | Bytes, index: number): Bytes {
  const copy = new Uint8Array(buffer instanceof ArrayBuffer ? buffer.slice(0) : buffer.slice());
  copy[index < 0 ? copy.length + index : index] ^= 0x01;
  return copy;
}

describe("differential: Ed25519 against Node's WebCrypto", () => {
  let crypto: Crypto;
  let ours: Loose;
  /** A Node key pair, the same material imported into ours, and its exports. */
  let node: CryptoKeyPair;
  let mine: CryptoKeyPair;
  let spki: ArrayBuffer;
  let raw: ArrayBuffer;
  let pkcs8: ArrayBuffer;
  let jwkPublic: JsonWebKey;
  let jwkPrivate: JsonWebKey;
  /** A pair generated on the token, non-extractable. */
  let generated: CryptoKeyPair;

  const ED_MECHANISMS = /CKM_EC_EDWARDS_KEY_PAIR_GEN|CKM_EDDSA/;
  const hasEd = () => crypto.supports("Ed25519", "generateKey") && crypto.supports("Ed25519", "sign") && crypto.supports("Ed25519", "verify");
  /** A test that needs Ed25519 on the token: NotSupportedError naming its mechanisms where the token lacks them. */
  const itEd = (title: string, body: () => Promise<unknown>, call?: WhereUnsupported["call"]) =>
    itIfSupported(hasEd, title, body, { mechanism: ED_MECHANISMS, call });

  before(async () => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
    node = (await native.generateKey(ED, true, ["sign", "verify"])) as CryptoKeyPair;
    spki = await native.exportKey("spki", node.publicKey);
    raw = await native.exportKey("raw", node.publicKey);
    pkcs8 = await native.exportKey("pkcs8", node.privateKey);
    jwkPublic = await native.exportKey("jwk", node.publicKey);
    jwkPrivate = await native.exportKey("jwk", node.privateKey);
    if (!hasEd()) {
      // The token cannot hold these keys: stand-ins, with which every operation must be refused.
      mine = { privateKey: await standIn(crypto, "private", false, ED, ["sign"]), publicKey: await standIn(crypto, "public", true, ED, ["verify"]) };
      generated = { privateKey: await standIn(crypto, "private", false, ED, ["sign"]), publicKey: await standIn(crypto, "public", true, ED, ["verify"]) };
      return;
    }
    mine = {
      privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, ED, false, ["sign"]),
      publicKey: await crypto.subtle.importKey("spki", spki, ED, true, ["verify"]),
    };
    generated = (await crypto.subtle.generateKey(ED, false, ["sign", "verify"])) as CryptoKeyPair;
  });

  after(async () => {
    await crypto?.close();
  });

  describe("generateKey on the token: key shapes equal Node's", () => {
    for (const extractable of [true, false]) {
      for (const usages of [["sign", "verify"], ["sign"], ["verify", "sign", "sign"]] as KeyUsage[][]) {
        itEd(`extractable ${extractable}, usages ${JSON.stringify(usages)}`, async () => {
          const ourPair = (await crypto.subtle.generateKey(ED, extractable, usages)) as CryptoKeyPair;
          const nodePair = (await native.generateKey(ED, extractable, usages)) as CryptoKeyPair;
          assertSameShape(ourPair.privateKey, nodePair.privateKey, "private key");
          assertSameShape(ourPair.publicKey, nodePair.publicKey, "public key");
        });
      }
    }

    itEd("the token's keys are CKK_EC_EDWARDS on edwards25519, and non-extractable means sensitive", async () => {
      const ref = keyObjectOf(generated.privateKey)!;
      const [keyType, params, sensitive, extractable] = readAttributes(ref.token, ref.handle, [
        pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE,
      ]);
      const publicRef = keyObjectOf(generated.publicKey)!;
      const [publicKeyType, publicParams] = readAttributes(publicRef.token, publicRef.handle, [pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_EC_PARAMS]);
      assert.equal(keyType.readUInt32LE(0), 0x40);
      assert.equal(publicKeyType.readUInt32LE(0), 0x40);
      // We ask for the OID 1.3.101.112 (RFC 8410). SoftHSM 2.6 keeps it on the public key but
      // writes the private key's as the PKCS#11 3.0 printable string "edwards25519".
      assert.equal(publicParams.toString("hex"), "06032b6570");
      assert.ok(["06032b6570", "130c" + Buffer.from("edwards25519").toString("hex")].includes(params.toString("hex")), params.toString("hex"));
      assert.deepEqual([sensitive[0], extractable[0]], [1, 0]);
      assert.throws(() => readAttributes(ref.token, ref.handle, [pkcs11js.CKA_VALUE]), /CKR_ATTRIBUTE_SENSITIVE/);
    }, () => crypto.subtle.generateKey(ED, false, ["sign", "verify"]));
  });

  describe("signatures", () => {
    for (const [label, message] of MESSAGES) {
      itEd(`${label} message: the token's signature is byte for byte Node's, and each verifies the other's`, async () => {
        const signature = await crypto.subtle.sign(ED, mine.privateKey, message);
        const nodeSignature = await native.sign(ED, node.privateKey, message);
        assert.deepStrictEqual(bytes(signature), bytes(nodeSignature));
        assert.equal(await native.verify(ED, node.publicKey, signature, message), true);
        assert.equal(await crypto.subtle.verify(ED, mine.publicKey, nodeSignature, message), true);
      });

      itEd(`${label} message: a key generated on the token signs, Node verifies with its spki, raw and jwk`, async () => {
        const signature = await crypto.subtle.sign(ED, generated.privateKey, message);
        assert.equal(signature.byteLength, 64);
        for (const format of ["spki", "raw", "jwk"] as const) {
          const exported = await crypto.subtle.exportKey(format, generated.publicKey);
          const publicKey = await loose(native).importKey(format, exported, ED, true, ["verify"]) as CryptoKey;
          assert.equal(await native.verify(ED, publicKey, signature, message), true, `Node verifies after ${format}`);
        }
        assert.equal(await crypto.subtle.verify(ED, generated.publicKey, signature, message), true);
      });
    }

    itEd("an extractable key generated on the token signs as Node does with its exported pkcs8", async () => {
      const pair = (await crypto.subtle.generateKey(ED, true, ["sign", "verify"])) as CryptoKeyPair;
      const nodePrivate = await native.importKey("pkcs8", await crypto.subtle.exportKey("pkcs8", pair.privateKey), ED, false, ["sign"]);
      assert.deepStrictEqual(bytes(await crypto.subtle.sign(ED, pair.privateKey, DATA)), bytes(await native.sign(ED, nodePrivate, DATA)));
    });

    itEd("Node's signatures verify on the token after importing Node's public key as spki, raw and jwk", async () => {
      const signature = await native.sign(ED, node.privateKey, DATA);
      const imports: Array<[KeyFormat, BufferSource | JsonWebKey]> = [["spki", spki], ["raw", raw], ["jwk", jwkPublic]];
      for (const [format, data] of imports) {
        const publicKey = (await ours.importKey(format, data, ED, true, ["verify"])) as CryptoKey;
        assert.equal(await crypto.subtle.verify(ED, publicKey, signature, DATA), true, format);
      }
    });

    itEd("wrong signatures verify false on both: tampered, cut, extended, empty, zero, another message", async () => {
      const signature = new Uint8Array(await native.sign(ED, node.privateKey, DATA));
      const variants: Array<[string, Bytes, Bytes]> = [
        ["first byte flipped", flipped(signature, 0), DATA],
        ["last byte flipped (s)", flipped(signature, -1), DATA],
        ["cut by one byte", signature.slice(0, -1), DATA],
        ["extended by one byte", new Uint8Array([...signature, 0]), DATA],
        ["empty", new Uint8Array(0), DATA],
        ["all zero", new Uint8Array(64), DATA],
        ["all 0xff (s above the group order)", new Uint8Array(64).fill(0xff), DATA],
        ["message changed", signature, flipped(DATA, 2)],
        ["message empty", signature, new Uint8Array(0)],
      ];
      for (const [label, sig, data] of variants) {
        const [a, b] = await Promise.all([
          crypto.subtle.verify(ED, mine.publicKey, sig, data).catch((error: Error) => error.name),
          native.verify(ED, node.publicKey, sig, data).catch((error: Error) => error.name),
        ]);
        assert.equal(b, false, `${label}: Node says ${String(b)}`);
        assert.equal(a, b, `${label}: ours ${String(a)}, Node's ${String(b)}`);
      }
    }, async () => crypto.subtle.verify(ED, mine.publicKey, new Uint8Array(64), DATA));
  });

  describe("import and export round trips: our exports equal Node's", () => {
    async function roundTrip(format: KeyFormat, data: BufferSource | JsonWebKey, usages: KeyUsage[], extractable = true) {
      const ourKey = (await ours.importKey(format, data, ED, extractable, usages)) as CryptoKey;
      const nodeKey = (await loose(native).importKey(format, data, ED, extractable, usages)) as CryptoKey;
      assertSameShape(ourKey, nodeKey, `${format} import`);
      const formats: KeyFormat[] = nodeKey.type === "public" ? ["spki", "raw", "jwk"] : ["pkcs8", "jwk"];
      for (const out of formats) {
        const a = await crypto.subtle.exportKey(out, ourKey);
        const b = await native.exportKey(out, nodeKey);
        if (out === "jwk") assert.deepStrictEqual(a, b, `jwk export after ${format} import`);
        else assert.deepStrictEqual(bytes(a as ArrayBuffer), bytes(b as ArrayBuffer), `${out} export after ${format} import`);
      }
    }

    itEd("spki", () => roundTrip("spki", spki, ["verify"]));
    itEd("spki with no usages", () => roundTrip("spki", spki, []));
    itEd("raw", () => roundTrip("raw", raw, ["verify"]));
    itEd("pkcs8", () => roundTrip("pkcs8", pkcs8, ["sign"]));
    itEd("jwk public", () => roundTrip("jwk", jwkPublic, ["verify"]));
    itEd("jwk private", () => roundTrip("jwk", jwkPrivate, ["sign"]));
    itEd("jwk private with alg EdDSA and use sig", () => roundTrip("jwk", { ...jwkPrivate, alg: "EdDSA", use: "sig" }, ["sign"]));
    itEd("jwk public without key_ops, ext and alg", () => roundTrip("jwk", { kty: "OKP", crv: "Ed25519", x: jwkPublic.x }, ["verify"]));
    itEd("jwk private with x and d in base64 rather than base64url (Node decodes both)", () => {
      const base64 = (member: string) => Buffer.from(member, "base64url").toString("base64");
      return roundTrip("jwk", { ...jwkPrivate, x: base64(jwkPrivate.x!), d: base64(jwkPrivate.d!) }, ["sign"]);
    });
    itEd("a pair generated on the token exports what Node exports after importing that export", async () => {
      const pair = (await crypto.subtle.generateKey(ED, true, ["sign", "verify"])) as CryptoKeyPair;
      const exported = await crypto.subtle.exportKey("pkcs8", pair.privateKey);
      const nodePrivate = await native.importKey("pkcs8", exported, ED, true, ["sign"]);
      assert.deepStrictEqual(bytes(await native.exportKey("pkcs8", nodePrivate)), bytes(exported));
      const jwk = await native.exportKey("jwk", nodePrivate);
      assert.deepStrictEqual(await crypto.subtle.exportKey("jwk", pair.privateKey), jwk);
      assert.equal(Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("base64url"), jwk.x);
    });
    // Refused before any token call: on a token without Ed25519, the stand-in is refused alike.
    it("non-extractable keys refuse every export as Node's do", async () => {
      const nodeKey = await native.importKey("pkcs8", pkcs8, ED, false, ["sign"]);
      for (const format of ["pkcs8", "jwk", "raw", "spki"] as const) {
        const result = await assertSameOutcome(`export ${format}`, () => crypto.subtle.exportKey(format, mine.privateKey), () => native.exportKey(format, nodeKey));
        assert.equal(result, "InvalidAccessError");
      }
    });
  });

  describe("error names equal Node's on the same bad inputs", () => {
    interface Side {
      subtle: Loose;
      privateKey: CryptoKey;
      publicKey: CryptoKey;
      ecdsaPrivate: CryptoKey;
    }
    let oursSide: Side;
    let nodeSide: Side;
    let x25519Spki: Buffer;
    let ecSpki: Buffer;
    let strangerD: string;

    before(async () => {
      const ecdsa = { name: "ECDSA", namedCurve: "P-256" };
      const ecdsaPkcs8 = await native.exportKey("pkcs8", ((await native.generateKey(ecdsa, true, ["sign"])) as CryptoKeyPair).privateKey);
      oursSide = { subtle: ours, privateKey: mine.privateKey, publicKey: mine.publicKey, ecdsaPrivate: await crypto.subtle.importKey("pkcs8", ecdsaPkcs8, ecdsa, false, ["sign"]) };
      nodeSide = { subtle: loose(native), privateKey: node.privateKey, publicKey: node.publicKey, ecdsaPrivate: await native.importKey("pkcs8", ecdsaPkcs8, ecdsa, false, ["sign"]) };
      x25519Spki = generateKeyPairSync("x25519").publicKey.export({ type: "spki", format: "der" });
      ecSpki = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" });
      strangerD = (generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }) as JsonWebKey).d!;
    });

    /** `token`: the call passes every argument check, so where the token lacks Ed25519 ours answers NotSupportedError. */
    const cases: Array<{ label: string; call: (s: Side) => unknown; mismatch?: true; token?: true }> = [
      { label: "generateKey, usages [encrypt]", call: (s) => s.subtle.generateKey(ED, true, ["encrypt"]) },
      { label: "generateKey, usages [verify] (no private usage)", call: (s) => s.subtle.generateKey(ED, true, ["verify"]) },
      { label: "generateKey, usages []", call: (s) => s.subtle.generateKey(ED, true, []) },
      { label: "generateKey, name in lower case", call: (s) => s.subtle.generateKey({ name: "ed25519" }, true, ["sign", "verify"]), token: true },
      { label: "importKey spki, usages [sign]", call: (s) => s.subtle.importKey("spki", spki, ED, true, ["sign"]) },
      { label: "importKey raw, usages [sign]", call: (s) => s.subtle.importKey("raw", raw, ED, true, ["sign"]) },
      { label: "importKey pkcs8, usages [verify]", call: (s) => s.subtle.importKey("pkcs8", pkcs8, ED, true, ["verify"]) },
      { label: "importKey pkcs8, usages []", call: (s) => s.subtle.importKey("pkcs8", pkcs8, ED, true, []) },
      { label: "importKey raw of 31 bytes", call: (s) => s.subtle.importKey("raw", new Uint8Array(raw).slice(1), ED, true, ["verify"]) },
      { label: "importKey raw of 33 bytes", call: (s) => s.subtle.importKey("raw", new Uint8Array([...new Uint8Array(raw), 0]), ED, true, ["verify"]) },
      { label: "importKey spki of an X25519 key", call: (s) => s.subtle.importKey("spki", x25519Spki, ED, true, ["verify"]) },
      { label: "importKey spki of a P-256 key", call: (s) => s.subtle.importKey("spki", ecSpki, ED, true, ["verify"]) },
      { label: "importKey spki cut short", call: (s) => s.subtle.importKey("spki", new Uint8Array(spki).slice(0, -1), ED, true, ["verify"]) },
      { label: "importKey pkcs8 garbage", call: (s) => s.subtle.importKey("pkcs8", new Uint8Array(48).fill(0x30), ED, true, ["sign"]) },
      { label: "importKey jwk, crv X25519", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, crv: "X25519" }, ED, true, ["sign"]) },
      { label: "importKey jwk, kty EC", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, kty: "EC" }, ED, true, ["sign"]) },
      { label: "importKey jwk, kty missing", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, kty: undefined }, ED, true, ["sign"]) },
      { label: "importKey jwk, use enc", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, use: "enc" }, ED, true, ["sign"]) },
      { label: "importKey jwk, use enc and usages [verify] on a private key (use first)", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, use: "enc" }, ED, true, ["verify"]) },
      { label: "importKey jwk, usages [verify] on a private key", call: (s) => s.subtle.importKey("jwk", jwkPrivate, ED, true, ["verify"]) },
      { label: "importKey jwk, alg ES256", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, alg: "ES256" }, ED, true, ["sign"]) },
      { label: "importKey jwk, alg Ed25519", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, alg: "Ed25519" }, ED, true, ["sign"]), token: true },
      { label: "importKey jwk, ext false and extractable true", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, ext: false }, ED, true, ["sign"]) },
      { label: "importKey jwk, key_ops without sign", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, key_ops: ["verify"] }, ED, true, ["sign"]) },
      { label: "importKey jwk private without x", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, x: undefined }, ED, true, ["sign"]) },
      { label: "importKey jwk public without x", call: (s) => s.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519" }, ED, true, ["verify"]) },
      { label: "importKey jwk private whose d is another key's", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, d: strangerD }, ED, true, ["sign"]) },
      { label: "importKey jwk private, d of 31 bytes", call: (s) => s.subtle.importKey("jwk", { ...jwkPrivate, d: Buffer.alloc(31, 1).toString("base64url") }, ED, true, ["sign"]) },
      { label: "importKey jwk public, x of 31 bytes", call: (s) => s.subtle.importKey("jwk", { ...jwkPublic, x: Buffer.alloc(31, 1).toString("base64url") }, ED, true, ["verify"]) },
      { label: "sign with the public key", call: (s) => s.subtle.sign(ED, s.publicKey, DATA) },
      { label: "verify with the private key", call: (s) => s.subtle.verify(ED, s.privateKey, new Uint8Array(64), DATA) },
      { label: "sign with ECDSA parameters", call: (s) => s.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, s.privateKey, DATA) },
      { label: "sign an ECDSA key with Ed25519 parameters", call: (s) => s.subtle.sign(ED, s.ecdsaPrivate, DATA) },
      { label: "sign, data a string", call: (s) => s.subtle.sign(ED, s.privateKey, "data") },
      { label: "sign, name in lower case", call: (s) => s.subtle.sign({ name: "ed25519" }, s.privateKey, DATA), token: true },
      { label: "exportKey raw of a private key", call: (s) => s.subtle.exportKey("raw", s.privateKey) },
      { label: "exportKey spki of a private key", call: (s) => s.subtle.exportKey("spki", s.privateKey) },
      { label: "exportKey pkcs8 of a public key", call: (s) => s.subtle.exportKey("pkcs8", s.publicKey) },
      { label: "deriveBits with an Ed25519 key", call: (s) => s.subtle.deriveBits({ name: "X25519", public: s.publicKey }, s.privateKey, 256) },
    ];
    for (const { label, call, mismatch, token } of cases) {
      const body = async () => {
        await assertSameOutcome(label, () => call(oursSide), () => call(nodeSide));
      };
      if (mismatch) it.skip(label, body);
      else if (token) itEd(label, body, () => call(oursSide));
      else it(label, body);
    }
  });
});

describe("X25519 on a token without Montgomery keys (SoftHSM 2.6, NSS softokn, the remote token)", () => {
  let crypto: Crypto;
  let ours: Loose;
  let node: CryptoKeyPair;
  let peer: CryptoKeyPair;
  let exports: { spki: ArrayBuffer; raw: ArrayBuffer; pkcs8: ArrayBuffer; jwk: JsonWebKey };
  /**
   * What an X25519 key of ours would be, standing in for one since this token cannot hold any: a
   * CryptoKey whose token object does not exist (handle 0 is CK_INVALID_HANDLE), so any token
   * call with it would fail with CKR_OBJECT_HANDLE_INVALID, not NotSupportedError.
   */
  let standIn: CryptoKey;

  const notSupportedNaming = (error: DOMException) => {
    assert.equal(error.name, "NotSupportedError");
    assert.match(error.message, /CKM_EC_MONTGOMERY_KEY_PAIR_GEN/);
    return true;
  };

  before(async () => {
    crypto = new Crypto(config());
    ours = loose(crypto.subtle);
    node = (await native.generateKey(X, true, ["deriveBits", "deriveKey"])) as CryptoKeyPair;
    peer = (await native.generateKey(X, true, ["deriveBits"])) as CryptoKeyPair;
    exports = {
      spki: await native.exportKey("spki", node.publicKey),
      raw: await native.exportKey("raw", node.publicKey),
      pkcs8: await native.exportKey("pkcs8", node.privateKey),
      jwk: await native.exportKey("jwk", node.privateKey),
    };
    const probe = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["encrypt"])) as CryptoKey;
    const token = keyObjectOf(probe)!.token;
    standIn = createCryptoKey({ token, handle: Buffer.alloc(8), persistent: true }, "private", false, { name: "X25519" }, ["deriveKey", "deriveBits"]);
  });

  after(async () => {
    await crypto?.close();
  });

  it("the token lists no CKM_EC_MONTGOMERY_KEY_PAIR_GEN (0x1056): capabilities leave X25519 out, and list Ed25519 and ECDH by their own mechanisms", () => {
    const token = keyObjectOf(standIn)!.token;
    assert.equal(token.hasMechanism(0x1056), false);
    assert.equal(crypto.algorithms.X25519, undefined);
    assert.equal(crypto.supports("X25519", "deriveBits"), false);
    // SoftHSM 2.6 has Edwards keys and ECDH; NSS's "NSS Certificate DB" ECDH only; p11-kit 0.24's
    // remote token neither (it drops CKM_EDDSA and CKM_ECDH1_DERIVE).
    const hasEdwards = token.hasMechanism(0x1055) && token.hasMechanism(0x1057);
    assert.deepEqual(crypto.algorithms.Ed25519, hasEdwards ? ["generateKey", "importKey", "exportKey", "sign", "verify"] : undefined);
    const hasDerive = token.hasMechanism(pkcs11js.CKM_ECDH1_DERIVE);
    assert.deepEqual(crypto.algorithms.ECDH, ["generateKey", "importKey", "exportKey", ...(hasDerive ? ["deriveBits", "deriveKey"] : [])]);
  });

  it("generateKey: NotSupportedError naming the mechanism (Node: a key pair)", async () => {
    await assert.rejects(crypto.subtle.generateKey(X, false, ["deriveBits"]), notSupportedNaming);
    assert.equal(await outcome(() => native.generateKey(X, false, ["deriveBits"])), "ok");
  });

  for (const format of ["spki", "raw", "pkcs8", "jwk"] as const) {
    it(`importKey ${format} of Node's key: NotSupportedError naming the mechanism (Node: a key)`, async () => {
      const usages: KeyUsage[] = format === "spki" || format === "raw" ? [] : ["deriveBits"];
      await assert.rejects(ours.importKey(format, exports[format], X, false, usages) as Promise<unknown>, notSupportedNaming);
      assert.equal(await outcome(() => loose(native).importKey(format, exports[format], X, false, usages)), "ok");
    });
  }

  it("deriveBits and deriveKey: NotSupportedError naming the mechanism, before any token call (Node: bits, a key)", async () => {
    const params = { name: "X25519", public: peer.publicKey };
    await assert.rejects(crypto.subtle.deriveBits(params, standIn, 256), notSupportedNaming);
    await assert.rejects(crypto.subtle.deriveKey(params, standIn, { name: "AES-GCM", length: 256 } as AesDerivedKeyParams, false, ["encrypt"]), notSupportedNaming);
    await assert.rejects(crypto.subtle.deriveKey(params, standIn, { name: "HMAC", hash: "SHA-256", length: 128 } as HmacImportParams, false, ["sign"]), notSupportedNaming);
    assert.equal(await outcome(() => native.deriveBits({ name: "X25519", public: peer.publicKey }, node.privateKey, 256)), "ok");
    assert.equal(await outcome(() => native.deriveKey(params, node.privateKey, { name: "AES-GCM", length: 256 }, false, ["encrypt"])), "ok");
  });

  describe("argument errors come first, with Node's names", () => {
    const cases: Array<{ label: string; ours: () => unknown; node: () => unknown }> = [];
    const add = (label: string, call: (subtle: Loose, privateKey: () => CryptoKey) => unknown) =>
      cases.push({ label, ours: () => call(ours, () => standIn), node: () => call(loose(native), () => node.privateKey) });
    add("generateKey, usages [sign]", (s) => s.generateKey(X, true, ["sign"]));
    add("generateKey, usages []", (s) => s.generateKey(X, true, []));
    add("importKey spki, usages [deriveBits]", (s) => s.importKey("spki", exports.spki, X, true, ["deriveBits"]));
    add("importKey pkcs8, usages []", (s) => s.importKey("pkcs8", exports.pkcs8, X, true, []));
    add("importKey raw of 31 bytes", (s) => s.importKey("raw", new Uint8Array(exports.raw).slice(1), X, true, []));
    add("importKey spki of an Ed25519 key", (s) => s.importKey("spki", generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }), X, true, []));
    add("importKey jwk, use sig", (s) => s.importKey("jwk", { ...exports.jwk, use: "sig" }, X, true, ["deriveBits"]));
    add("importKey jwk, crv Ed25519", (s) => s.importKey("jwk", { ...exports.jwk, crv: "Ed25519" }, X, true, ["deriveBits"]));
    add("deriveBits, length one byte too long", (s, key) => s.deriveBits({ name: "X25519", public: peer.publicKey }, key(), 264));
    add("deriveBits, a private key as public", (s, key) => s.deriveBits({ name: "X25519", public: peer.privateKey }, key(), 256));
    add("deriveBits, missing public", (s, key) => s.deriveBits({ name: "X25519" }, key(), 256));
    add("deriveKey AES-GCM length 100", (s, key) => s.deriveKey({ name: "X25519", public: peer.publicKey }, key(), { name: "AES-GCM", length: 100 }, false, ["encrypt"]));
    for (const { label, ours: mine, node: theirs } of cases) {
      it(label, async () => {
        const result = await assertSameOutcome(label, mine, theirs);
        assert.notEqual(result, "ok");
      });
    }

    it("an ECDH public key as public: InvalidAccessError on both", async () => {
      const ecdhPair = (await native.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
      const ourEcdhPublic = await crypto.subtle.importKey("spki", await native.exportKey("spki", ecdhPair.publicKey), { name: "ECDH", namedCurve: "P-256" } as EcKeyImportParams, true, []);
      const result = await assertSameOutcome(
        "deriveBits",
        () => crypto.subtle.deriveBits({ name: "X25519", public: ourEcdhPublic } as EcdhKeyDeriveParams, standIn, 256),
        () => native.deriveBits({ name: "X25519", public: ecdhPair.publicKey }, node.privateKey, 256),
      );
      assert.equal(result, "InvalidAccessError");
    });
  });
});
