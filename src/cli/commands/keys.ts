import type { Crypto, StoredKeyInfo } from "../../index.js";
import { algorithmJson, algorithmName, curveName, defaultUsages, describeAlgorithm, hashName, splitUsages, usageList, type KeyAlgorithmName } from "../algorithm-names.js";
import { stringOption, type Command, type OptionValues } from "../command.js";
import { EXIT, OperationFailed, UsageError } from "../exit-codes.js";
import { keyIdentifier, readKeyFile } from "../key-files.js";
import { keysNamed, oneKey } from "../key-ids.js";
import { printJson, printTable, writeResult } from "../output.js";

const KEY_ID_HELP = "Keys are named by the storage ids \"keys list\" shows (private-<hex>, public-<hex>, secret-<hex>)\nor by a key pair's CKA_ID in hex, which names both halves.";

function keyJson(key: StoredKeyInfo) {
  return { ...key, algorithm: algorithmJson(key.algorithm) };
}

const list: Command = {
  name: "keys list",
  summary: "list the persistent keys on the token",
  usage: "",
  description: "Private and secret keys are listed only when logged in, so this asks for the PIN.",
  options: {
    label: { type: "string", value: "LABEL", description: "only keys with this label" },
    type: { type: "string", value: "TYPE", description: "only keys of this type: private, public or secret" },
  },
  args: { min: 0, max: 0 },
  connection: "token",
  async run({ values, json, io, connect }) {
    const type = stringOption(values, "type");
    if (type !== undefined && !["private", "public", "secret"].includes(type)) throw new UsageError("--type is private, public or secret");
    const crypto = await connect({ login: true });
    const keys = await crypto.keyStorage.find({ label: stringOption(values, "label"), type: type as KeyType | undefined });
    if (json) printJson(io, keys.map(keyJson));
    else {
      printTable(io, keys, [
        ["ID", (key) => key.id],
        ["TYPE", (key) => key.type],
        ["LABEL", (key) => key.label],
        ["ALGORITHM", (key) => describeAlgorithm(key.algorithm)],
        ["USAGES", (key) => key.usages.join(",") || "-"],
        ["EXTRACTABLE", (key) => (key.extractable ? "yes" : "no")],
      ], `No keys on token "${crypto.tokenLabel}".`);
    }
    return EXIT.ok;
  },
};

/** The algorithm object for generateKey from the command line's parameters. */
function generateParameters(name: KeyAlgorithmName, values: OptionValues): Record<string, unknown> {
  const curve = stringOption(values, "curve");
  const modulus = stringOption(values, "modulus");
  const hash = stringOption(values, "hash");
  const length = stringOption(values, "length");
  const number = (text: string, option: string) => {
    if (!/^\d+$/.test(text)) throw new UsageError(`--${option} takes a number of bits, not "${text.slice(0, 20)}"`);
    return Number(text);
  };
  const refuse = (option: string, given: unknown) => {
    if (given !== undefined) throw new UsageError(`--${option} does not apply to ${name}`);
  };
  switch (name) {
    case "ECDSA":
    case "ECDH":
      refuse("modulus", modulus); refuse("hash", hash); refuse("length", length);
      return { name, namedCurve: curveName(curve ?? "P-256") };
    case "Ed25519":
    case "X25519":
      refuse("curve", curve); refuse("modulus", modulus); refuse("hash", hash); refuse("length", length);
      return { name };
    case "RSASSA-PKCS1-v1_5":
    case "RSA-PSS":
    case "RSA-OAEP":
      refuse("curve", curve); refuse("length", length);
      return { name, modulusLength: number(modulus ?? "2048", "modulus"), publicExponent: new Uint8Array([1, 0, 1]), hash: hashName(hash ?? "SHA-256") };
    case "HMAC":
      refuse("curve", curve); refuse("modulus", modulus);
      return { name, hash: hashName(hash ?? "SHA-256"), ...(length === undefined ? {} : { length: number(length, "length") }) };
    default:
      refuse("curve", curve); refuse("modulus", modulus); refuse("hash", hash);
      return { name, length: number(length ?? "256", "length") };
  }
}

function storageFields(values: OptionValues, id?: string): { token: true; label?: string; id?: string } {
  const label = stringOption(values, "label");
  const given = stringOption(values, "id") ?? id;
  if (given !== undefined && !/^([0-9a-fA-F]{2})+$/.test(given)) throw new UsageError("--id takes the CKA_ID in hex (an even number of hex digits)");
  return { token: true, ...(label === undefined ? {} : { label }), ...(given === undefined ? {} : { id: given.toLowerCase() }) };
}

/** Ids of the keys just made, and the CKA_ID they share. */
async function describeNew(crypto: Crypto, keys: CryptoKey[]): Promise<{ ids: string[]; keyId: string }> {
  const ids: string[] = [];
  for (const key of keys) {
    const id = await crypto.keyStorage.indexOf(key);
    if (id) ids.push(id);
  }
  return { ids, keyId: ids[0]?.replace(/^[a-z]+-/, "").replace(/~\d+$/, "") ?? "" };
}

function printNew(io: Parameters<Command["run"]>[0]["io"], json: boolean, result: { ids: string[]; keyId: string }, verb: string): void {
  if (json) printJson(io, result);
  else io.stdout.write(`${verb} ${result.ids.join(" and ")} (CKA_ID ${result.keyId})\n`);
}

const generate: Command = {
  name: "keys generate",
  summary: "generate a persistent key or key pair on the token",
  usage: "<algorithm>",
  description: [
    "Algorithms: ECDSA, ECDH, Ed25519, X25519, RSASSA-PKCS1-v1_5 (or RSA), RSA-PSS, RSA-OAEP,",
    "AES-GCM, AES-CBC, AES-CTR, AES-KW, HMAC. Defaults: --curve P-256, --modulus 2048, --hash SHA-256,",
    "--length 256 (AES); usages: everything the algorithm is for (not wrap with decrypt, see the README).",
    "The private or secret key is not extractable unless --extractable is given.",
  ].join("\n"),
  options: {
    curve: { type: "string", value: "NAME", description: "EC curve: P-256, P-384, P-521" },
    modulus: { type: "string", value: "BITS", description: "RSA modulus length" },
    hash: { type: "string", value: "HASH", description: "hash bound to RSA and HMAC keys: SHA-1, SHA-256, SHA-384, SHA-512" },
    length: { type: "string", value: "BITS", description: "AES or HMAC key length" },
    label: { type: "string", value: "LABEL", description: "CKA_LABEL of the new key(s)" },
    id: { type: "string", value: "HEX", description: "CKA_ID of the new key(s) (default: 20 random bytes)" },
    usages: { type: "string", value: "LIST", description: "comma-separated usages, e.g. sign,verify" },
    extractable: { type: "boolean", description: "let the private or secret key be exported" },
  },
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    const name = algorithmName(args[0]);
    const algorithm: Record<string, unknown> = { ...generateParameters(name, values), ...storageFields(values) };
    const usagesText = stringOption(values, "usages");
    const usages = usagesText === undefined ? defaultUsages(name) : usageList(usagesText);
    const crypto = await connect({ login: true });
    const generated = await crypto.subtle.generateKey(algorithm as unknown as AlgorithmIdentifier, values.extractable === true, usages);
    const keys = "privateKey" in generated ? [generated.privateKey, generated.publicKey] : [generated as CryptoKey];
    printNew(io, json, await describeNew(crypto, keys), "Generated");
    return EXIT.ok;
  },
};

/** The Web Crypto algorithm for an imported asymmetric key, from its kind and --algorithm/--hash. */
function importAlgorithm(type: "rsa" | "ec" | "ed25519" | "x25519", curve: string | undefined, values: OptionValues): Record<string, unknown> {
  const given = stringOption(values, "algorithm");
  const name = given === undefined ? undefined : algorithmName(given);
  const hash = stringOption(values, "hash");
  const family: Record<typeof type, KeyAlgorithmName[]> = {
    rsa: ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"],
    ec: ["ECDSA", "ECDH"],
    ed25519: ["Ed25519"],
    x25519: ["X25519"],
  };
  const chosen = name ?? family[type][0];
  if (!family[type].includes(chosen)) throw new UsageError(`the file holds ${type === "ec" ? "an EC" : `an ${type.toUpperCase()}`} key: --algorithm is one of ${family[type].join(", ")}`);
  if (type === "rsa") return { name: chosen, hash: hashName(hash ?? "SHA-256") };
  if (hash !== undefined) throw new UsageError(`--hash does not apply to ${chosen}`);
  return type === "ec" ? { name: chosen, namedCurve: curve } : { name: chosen };
}

/** A secret JWK's algorithm: --algorithm, or its "alg" member (HS256, A256GCM, A128KW, ...). */
function secretAlgorithm(jwk: JsonWebKey, values: OptionValues): Record<string, unknown> {
  const given = stringOption(values, "algorithm");
  const hash = stringOption(values, "hash");
  const alg = jwk.alg ?? "";
  let name: KeyAlgorithmName | undefined = given === undefined ? undefined : algorithmName(given);
  let algHash: string | undefined;
  if (!name) {
    const hmac = /^HS(1|256|384|512)$/.exec(alg);
    const aes = /^A(?:128|192|256)(GCM|CBC|CTR|KW)$/.exec(alg);
    if (hmac) [name, algHash] = ["HMAC", `SHA-${hmac[1]}`];
    else if (aes) name = `AES-${aes[1]}` as KeyAlgorithmName;
    else throw new UsageError('a secret JWK needs --algorithm (AES-GCM, AES-CBC, AES-CTR, AES-KW or HMAC) when it has no "alg"');
  }
  if (name === "HMAC") return { name, hash: hashName(hash ?? algHash ?? "SHA-256") };
  if (!name.startsWith("AES-")) throw new UsageError("a secret JWK is imported as AES-GCM, AES-CBC, AES-CTR, AES-KW or HMAC");
  return { name };
}

const importKey: Command = {
  name: "keys import",
  summary: "import a key (PEM PKCS#8 or SPKI, DER, or JWK) as a persistent token key",
  usage: "<file>",
  description: [
    "A private key is stored with its public key (same CKA_ID), so it can be used for csr, sign",
    "and verify. The CKA_ID defaults to the SHA-1 of the public key (RFC 5280's key identifier,",
    "which a certificate imported before its key also gets). RSA keys default to",
    "RSASSA-PKCS1-v1_5 with SHA-256 and EC keys to ECDSA; a secret JWK takes its algorithm from",
    "\"alg\" or --algorithm. Encrypted PEM files are refused: decrypt them first.",
  ].join("\n"),
  options: {
    algorithm: { type: "string", value: "NAME", description: "RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP; ECDSA, ECDH; AES-*, HMAC" },
    hash: { type: "string", value: "HASH", description: "hash bound to RSA and HMAC keys (default SHA-256)" },
    label: { type: "string", value: "LABEL", description: "CKA_LABEL of the stored key(s)" },
    id: { type: "string", value: "HEX", description: "CKA_ID of the stored key(s)" },
    usages: { type: "string", value: "LIST", description: "comma-separated usages (default: all the algorithm's)" },
    extractable: { type: "boolean", description: "let the private or secret key be exported again" },
  },
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    const file = readKeyFile(args[0]);
    const usagesText = stringOption(values, "usages");
    const extractable = values.extractable === true;
    if (file.kind === "secret") {
      const algorithm: Record<string, unknown> = { ...secretAlgorithm(file.jwk, values), ...storageFields(values) };
      const usages = usagesText === undefined ? defaultUsages(algorithm.name as KeyAlgorithmName) : usageList(usagesText);
      const crypto = await connect({ login: true });
      const key = await crypto.subtle.importKey("jwk", file.jwk, algorithm as unknown as AlgorithmIdentifier, extractable, usages);
      printNew(io, json, await describeNew(crypto, [key]), "Imported");
      return EXIT.ok;
    }
    const algorithm: Record<string, unknown> = { ...importAlgorithm(file.type, file.curve, values), ...storageFields(values, keyIdentifier(file.spki)) };
    const { privateUsages, publicUsages } = splitUsages(usagesText === undefined ? defaultUsages(algorithm.name as KeyAlgorithmName) : usageList(usagesText));
    const crypto = await connect({ login: true });
    // A key already stored under this CKA_ID is not stored twice; a private key whose public half
    // is already there (imported earlier on its own) is stored next to it.
    const existing = (await crypto.keyStorage.find()).filter((key) => key.keyId === algorithm.id);
    const clash = existing.find((key) => key.type === (file.pkcs8 ? "private" : "public"));
    if (clash) throw new OperationFailed(`token "${crypto.tokenLabel}" already has ${clash.id}${stringOption(values, "id") === undefined ? " (the same key)" : ""}; nothing was imported`);
    const publicStored = existing.find((key) => key.type === "public");
    const made: CryptoKey[] = [];
    try {
      if (file.pkcs8) made.push(await crypto.subtle.importKey("pkcs8", new Uint8Array(file.pkcs8), algorithm as unknown as AlgorithmIdentifier, extractable, privateUsages));
      if (!publicStored) made.push(await crypto.subtle.importKey("spki", new Uint8Array(file.spki), algorithm as unknown as AlgorithmIdentifier, true, publicUsages));
    } catch (error) {
      // Nothing half-written: a private key whose public half could not be stored is removed again.
      for (const key of made) {
        const id = await crypto.keyStorage.indexOf(key);
        if (id) await crypto.keyStorage.removeItem(id);
      }
      throw error;
    }
    printNew(io, json, await describeNew(crypto, made), "Imported");
    return EXIT.ok;
  },
};

const remove: Command = {
  name: "keys delete",
  summary: "delete persistent keys from the token",
  usage: "<id>...",
  description: `${KEY_ID_HELP}\nEvery id must name at least one key; nothing is deleted otherwise (exit 1).`,
  options: {},
  args: { min: 1, max: 100 },
  connection: "token",
  async run({ args, json, io, connect }) {
    const crypto = await connect({ login: true });
    const targets: StoredKeyInfo[] = [];
    for (const argument of args) {
      const found = await keysNamed(crypto, argument, ["private", "public", "secret"]);
      if (found.length === 0) throw new OperationFailed(`no key ${argument} on token "${crypto.tokenLabel}" (see "keys list"); nothing was deleted`);
      for (const key of found) if (!targets.some((target) => target.id === key.id)) targets.push(key);
    }
    // Reverse order, so that of two keys told apart only by a ~<n> suffix the later goes first and the earlier keeps its id.
    targets.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const deleted: string[] = [];
    for (const key of targets) if (await crypto.keyStorage.removeItem(key.id)) deleted.push(key.id);
    if (json) printJson(io, { deleted });
    else io.stdout.write(`Deleted ${deleted.join(", ")}\n`);
    return EXIT.ok;
  },
};

const exportKey: Command = {
  name: "keys export",
  summary: "write a stored public key as PEM (SPKI), DER or JWK",
  usage: "<id>",
  description: "Only public keys: private and secret keys stay on the token. A key pair's CKA_ID names its public half.",
  options: {
    der: { type: "boolean", description: "write DER (SPKI) instead of PEM" },
    jwk: { type: "boolean", description: "write a JWK instead of PEM" },
    out: { type: "string", value: "FILE", description: "write to FILE instead of stdout" },
  },
  args: { min: 1, max: 1 },
  connection: "token",
  async run({ args, values, json, io, connect }) {
    if (values.der === true && values.jwk === true) throw new UsageError("give --der or --jwk, not both");
    const crypto = await connect({ login: false });
    const info = await oneKey(crypto, args[0], ["public"]);
    const key = await crypto.keyStorage.getItem(info.id);
    let data: string | Uint8Array;
    if (values.jwk === true) data = `${JSON.stringify(await crypto.subtle.exportKey("jwk", key!))}\n`;
    else {
      const spki = Buffer.from(await crypto.subtle.exportKey("spki", key!));
      data = values.der === true ? spki : `-----BEGIN PUBLIC KEY-----\n${spki.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
    }
    const out = stringOption(values, "out");
    if (json) {
      if (out !== undefined) writeResult(io, data, out);
      const body = out !== undefined ? { out } : values.jwk === true ? { jwk: JSON.parse(data as string) } : values.der === true ? { der: Buffer.from(data).toString("base64") } : { pem: data };
      printJson(io, { id: info.id, ...body });
    } else {
      writeResult(io, data, out);
    }
    return EXIT.ok;
  },
};

export const keyCommands: readonly Command[] = [list, generate, importKey, exportKey, remove];
