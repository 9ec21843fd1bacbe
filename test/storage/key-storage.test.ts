// crypto.keyStorage on the token under test: session keys made persistent, found again by id and
// label, usable, and never more exposed than the key they came from; ids and errors as documented
// in src/storage/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Crypto } from "../../src/index.js";
import { keyObjectOf } from "../../src/keys/crypto-key.js";
import { findObjects, readAttributes } from "../../src/token/operations.js";
import { pkcs11js } from "../../src/token/pkcs11.js";
import { config, tokenKind } from "../support/tokens.js";

const flag = (value: Buffer) => value.length > 0 && value[0] !== 0;
const data = Buffer.from("a document to sign");

function flags(key: CryptoKey, types: number[]): boolean[] {
  const ref = keyObjectOf(key)!;
  return readAttributes(ref.token, ref.handle, types).map(flag);
}

async function persistentObjectCount(crypto: Crypto): Promise<number> {
  const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
  const token = keyObjectOf(key)!.token;
  return (await findObjects(token, [{ type: pkcs11js.CKA_TOKEN, value: true }])).length;
}

describe("keyStorage", () => {
  let crypto: Crypto;
  const stored: string[] = [];
  before(() => {
    crypto = new Crypto(config());
  });
  after(async () => {
    for (const id of stored) await crypto.keyStorage.removeItem(id);
    await crypto.close();
  });

  it("setItem makes a session key pair persistent under one CKA_ID; getItem gives keys that sign and verify as Node's do", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const privateId = await crypto.keyStorage.setItem(pair.privateKey);
    const publicId = await crypto.keyStorage.setItem(pair.publicKey);
    stored.push(privateId, publicId);
    assert.match(privateId, /^private-[0-9a-f]{40}$/);
    assert.equal(publicId, privateId.replace("private-", "public-"));
    const ids = await crypto.keyStorage.keys();
    assert.ok(ids.includes(privateId) && ids.includes(publicId));

    const privateKey = (await crypto.keyStorage.getItem(privateId))!;
    assert.deepEqual(
      { type: privateKey.type, extractable: privateKey.extractable, algorithm: privateKey.algorithm, usages: privateKey.usages },
      { type: "private", extractable: false, algorithm: { name: "ECDSA", namedCurve: "P-256" }, usages: ["sign"] },
    );
    assert.ok(privateKey instanceof globalThis.CryptoKey);
    const publicKey = (await crypto.keyStorage.getItem(publicId))!;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data);
    const nodePublic = await webcrypto.subtle.importKey("spki", await crypto.subtle.exportKey("spki", publicKey), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    assert.equal(await webcrypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, nodePublic, signature, data), true);
    const nodeSignature = await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]) as CryptoKeyPair).privateKey, data);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, nodeSignature, data), false);

    // The stored copy is a token object that kept the key's protection.
    const { CKA_TOKEN, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE } = pkcs11js;
    assert.deepEqual(flags(privateKey, [CKA_TOKEN, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE]), [true, true, false, true]);
    // The CryptoKey given to setItem is still the session key.
    assert.deepEqual(flags(pair.privateKey, [CKA_TOKEN]), [false]);
    assert.equal(await crypto.keyStorage.indexOf(pair.privateKey), null);
    assert.equal(await crypto.keyStorage.indexOf(privateKey), privateId);
    assert.equal(await crypto.keyStorage.hasItem(publicKey), true);
    assert.equal(await crypto.keyStorage.hasItem(pair.publicKey), false);
  });

  it("a stored key is found and used by a new process", async function () {
    this.timeout(60_000);
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" } as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const id = await crypto.keyStorage.setItem(pair.privateKey, { label: "across processes" });
    stored.push(id);
    const script = `
      const library = await import(${JSON.stringify(pathToFileURL(join(__dirname, "..", "..", "src", "index.ts")).href)});
      const { Crypto } = library.default ?? library;
      const crypto = new Crypto(JSON.parse(process.env.STORAGE_TEST_CONFIG));
      const key = await crypto.keyStorage.getItem(process.env.STORAGE_TEST_ID);
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-384" }, key, Buffer.from(process.env.STORAGE_TEST_DATA));
      process.stdout.write(JSON.stringify({ algorithm: key.algorithm, signature: Buffer.from(signature).toString("base64") }));
      await crypto.close();`;
    const output = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, STORAGE_TEST_CONFIG: JSON.stringify(config()), STORAGE_TEST_ID: id, STORAGE_TEST_DATA: data.toString() },
      encoding: "utf8",
    });
    const result = JSON.parse(output);
    assert.deepEqual(result.algorithm, { name: "ECDSA", namedCurve: "P-384" });
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-384" }, pair.publicKey, Buffer.from(result.signature, "base64"), data), true);
  });

  it("getItem takes the algorithm, usages and extractability a caller knows, and only narrows", async function () {
    this.timeout(60_000);
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams,
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const id = await crypto.keyStorage.setItem(pair.privateKey);
    stored.push(id);
    const inferred = (await crypto.keyStorage.getItem(id))!;
    assert.deepEqual(inferred.algorithm, { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: { name: "SHA-256" } });
    // NSS softokn makes private keys it copies to the token sensitive: less exposed, never more.
    const keepsExtractable = tokenKind() !== "nss";
    assert.equal(inferred.extractable, keepsExtractable);
    const narrowed = (await crypto.keyStorage.getItem(id, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" } as RsaHashedImportParams, false, ["sign"]))!;
    assert.equal(narrowed.extractable, false);
    assert.deepEqual((narrowed.algorithm as RsaHashedKeyAlgorithm).hash, { name: "SHA-384" });
    await assert.rejects(crypto.subtle.exportKey("pkcs8", narrowed), { name: "InvalidAccessError" });
    const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", narrowed, data);
    const nodePublic = await webcrypto.subtle.importKey("spki", await crypto.subtle.exportKey("spki", pair.publicKey), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, true, ["verify"]);
    assert.equal(await webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", nodePublic, signature, data), true);
    // Exported from storage, the extractable key equals what was generated.
    if (keepsExtractable) assert.deepEqual(Buffer.from(await crypto.subtle.exportKey("pkcs8", inferred)), Buffer.from(await crypto.subtle.exportKey("pkcs8", pair.privateKey)));

    await assert.rejects(crypto.keyStorage.getItem(id, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as RsaHashedImportParams, ["decrypt"]), { name: "SyntaxError" });
    await assert.rejects(crypto.keyStorage.getItem(id, { name: "RSA-OAEP", hash: "SHA-256" } as RsaHashedImportParams, ["decrypt"]), { name: "InvalidAccessError" });
    await assert.rejects(crypto.keyStorage.getItem(id, { name: "ECDSA", namedCurve: "P-256" } as EcKeyImportParams), { name: "DataError" });
    await assert.rejects(crypto.keyStorage.getItem(id, { name: "NO-SUCH-ALGORITHM" }), { name: "NotSupportedError" });
  });

  it("a non-extractable stored key stays non-extractable whatever getItem is asked", async () => {
    const key = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 } as AesKeyGenParams, false, ["encrypt", "decrypt"])) as CryptoKey;
    const id = await crypto.keyStorage.setItem(key);
    stored.push(id);
    assert.match(id, /^secret-/);
    await assert.rejects(crypto.keyStorage.getItem(id, null, true), { name: "InvalidAccessError" });
    const found = (await crypto.keyStorage.getItem(id))!;
    assert.deepEqual({ algorithm: found.algorithm, usages: found.usages, extractable: found.extractable }, { algorithm: { name: "AES-GCM", length: 256 }, usages: ["encrypt", "decrypt"], extractable: false });
    const { CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_DERIVE } = pkcs11js;
    assert.deepEqual(flags(found, [CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_DERIVE]), [true, false, true, true, false, false, false, false]);
    if (crypto.supports("AES-GCM", "encrypt")) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, data);
      assert.deepEqual(Buffer.from(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, found, sealed)), data);
    }
  });

  it("setItem of a stored key gives its id back; a stored copy has exactly the key's usage attributes", async () => {
    const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" } as HmacKeyGenParams, false, ["sign", "verify"])) as CryptoKey;
    const id = await crypto.keyStorage.setItem(key);
    stored.push(id);
    const signOnly = (await crypto.keyStorage.getItem(id, { name: "HMAC", hash: "SHA-256" } as HmacImportParams, ["sign"]))!;
    // signOnly is persistent already: setItem gives its id back and changes nothing.
    assert.equal(await crypto.keyStorage.setItem(signOnly), id);
    const hmac = (await crypto.keyStorage.getItem(id))!;
    assert.deepEqual(hmac.algorithm, { name: "HMAC", hash: { name: "SHA-256" }, length: 512 });
    const { CKA_SIGN, CKA_VERIFY, CKA_ENCRYPT } = pkcs11js;
    assert.deepEqual(flags(hmac, [CKA_SIGN, CKA_VERIFY, CKA_ENCRYPT]), [true, true, false]);
  });

  it("refuses to store a key that could both wrap and decrypt (or encrypt and unwrap), writing nothing", async () => {
    const before = await persistentObjectCount(crypto);
    const wrapDecrypt = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 } as AesKeyGenParams, false, ["decrypt", "wrapKey"])) as CryptoKey;
    await assert.rejects(crypto.keyStorage.setItem(wrapDecrypt), (error: Error) => error.name === "InvalidAccessError" && /wrapKey.*decrypt/.test(error.message));
    const encryptUnwrap = (await crypto.subtle.generateKey({ name: "AES-CBC", length: 128 } as AesKeyGenParams, false, ["encrypt", "unwrapKey"])) as CryptoKey;
    await assert.rejects(crypto.keyStorage.setItem(encryptUnwrap), { name: "InvalidAccessError" });
    // The same rule for keys made persistent from the start ({ token: true }).
    await assert.rejects(
      crypto.subtle.generateKey({ name: "AES-GCM", length: 128, token: true } as AesKeyGenParams, false, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]),
      { name: "InvalidAccessError" },
    );
    await assert.rejects(
      crypto.subtle.importKey("raw", new Uint8Array(16), { name: "AES-CBC", token: true } as Algorithm, false, ["encrypt", "unwrapKey"]),
      { name: "InvalidAccessError" },
    );
    assert.equal(await persistentObjectCount(crypto), before);
  });

  it("labels: set on storing, searchable, changeable", async () => {
    const key = (await crypto.subtle.generateKey({ name: "AES-KW", length: 256 } as AesKeyGenParams, false, ["wrapKey", "unwrapKey"])) as CryptoKey;
    const label = `wrapping key ${Date.now()}`;
    const id = await crypto.keyStorage.setItem(key, { label });
    stored.push(id);
    const found = await crypto.keyStorage.find({ label });
    assert.deepEqual(found.map((entry) => [entry.id, entry.type, entry.algorithm?.name, entry.usages]), [[id, "secret", "AES-KW", ["wrapKey", "unwrapKey"]]]);
    await crypto.keyStorage.setLabel(id, `${label} renamed`);
    assert.deepEqual(await crypto.keyStorage.find({ label }), []);
    assert.equal((await crypto.keyStorage.find({ label: `${label} renamed` }))[0].id, id);
  });

  it("RFC 7512 URIs: find() gives each key its URI, and getItem, setLabel and removeItem take one", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const label = `uri key ${Date.now()}`;
    const privateId = await crypto.keyStorage.setItem(pair.privateKey, { label });
    const publicId = await crypto.keyStorage.setItem(pair.publicKey, { label });
    stored.push(privateId, publicId);
    const [privateEntry] = await crypto.keyStorage.find({ label, type: "private" });
    // Our CKA_IDs are random bytes: most need %XX escapes, which must come back as the same bytes.
    const hex = privateId.slice("private-".length);
    const escapedId = Buffer.from(hex, "hex").reduce((text, byte) => text + (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, "0")}`), "");
    assert.equal(privateEntry.uri, `pkcs11:token=${encodeURIComponent(crypto.tokenLabel)};object=${encodeURIComponent(label).replace(/%20/g, "%20")};id=${escapedId};type=private`);
    assert.equal(await crypto.keyStorage.indexOf((await crypto.keyStorage.getItem(privateEntry.uri))!), privateId);
    // The label alone names two keys (the pair); with type= one.
    const byLabel = `pkcs11:object=${encodeURIComponent(label)}`;
    await assert.rejects(crypto.keyStorage.getItem(byLabel), { name: "DataError", message: /matches 2 stored keys/ });
    assert.equal(await crypto.keyStorage.indexOf((await crypto.keyStorage.getItem(`${byLabel};type=public`))!), publicId);
    assert.equal(await crypto.keyStorage.getItem("pkcs11:object=no%20such%20key;type=private"), null);
    await assert.rejects(crypto.keyStorage.getItem("pkcs11:token=another%20token;object=x"), { name: "TypeError", message: /another token/ });
    await assert.rejects(crypto.keyStorage.getItem("pkcs11:object=x;type=cert"), { name: "TypeError", message: /certStorage/ });
    await crypto.keyStorage.setLabel(`${byLabel};type=public`, `${label} (public)`);
    assert.equal((await crypto.keyStorage.find({ label: `${label} (public)` }))[0].id, publicId);
    assert.equal(await crypto.keyStorage.removeItem(`pkcs11:object=${encodeURIComponent(`${label} (public)`)};type=public`), true);
    assert.equal(await crypto.keyStorage.getItem(publicId), null);
  });

  it("removeItem destroys the object once; a second remove and unknown ids find nothing", async () => {
    const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-384" } as HmacKeyGenParams, false, ["sign"])) as CryptoKey;
    const id = await crypto.keyStorage.setItem(key);
    const before = await persistentObjectCount(crypto);
    assert.equal(await crypto.keyStorage.removeItem(id), true);
    assert.equal(await persistentObjectCount(crypto), before - 1);
    assert.equal(await crypto.keyStorage.removeItem(id), false);
    assert.equal(await crypto.keyStorage.getItem(id), null);
    assert.equal(await crypto.keyStorage.getItem("secret-00112233"), null);
    assert.equal((await crypto.keyStorage.keys()).includes(id), false);
  });

  it("bad ids and keys are TypeErrors; held-in-memory KDF keys cannot be stored", async () => {
    await assert.rejects(crypto.keyStorage.getItem("not an id"), { name: "TypeError", message: /not a storage id/ });
    await assert.rejects(crypto.keyStorage.getItem(42 as unknown as string), { name: "TypeError" });
    await assert.rejects(crypto.keyStorage.getItem("x509-00ff"), { name: "TypeError", message: /certStorage/ });
    await assert.rejects(crypto.keyStorage.removeItem("private-zz"), { name: "TypeError" });
    const nodeKey = await webcrypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    await assert.rejects(crypto.keyStorage.setItem(nodeKey), { name: "TypeError" });
    const password = await crypto.subtle.importKey("raw", Buffer.from("password"), "PBKDF2", false, ["deriveBits"]);
    await assert.rejects(crypto.keyStorage.setItem(password), { name: "NotSupportedError" });
  });
});
