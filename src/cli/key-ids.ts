import { parsePkcs11Uri, type Crypto, type StoredKeyInfo } from "../index.js";
import { OperationFailed, UsageError } from "./exit-codes.js";

const STORAGE_ID = /^(private|public|secret)-[0-9a-f]*(~\d+)?$/;
const HEX = /^([0-9a-fA-F]{2})+$/;

/**
 * The stored keys an argument names: a storage id from `keys list` (private-<hex>, public-<hex>,
 * secret-<hex>) names one key; a bare CKA_ID in hex names every key with that id of the types
 * wanted (a key pair's two halves share one, as pkcs11-tool and browsers link them); an RFC 7512
 * URI (pkcs11:object=...;type=...) the keys it matches.
 */
export async function keysNamed(crypto: Crypto, argument: string, types: readonly KeyType[]): Promise<StoredKeyInfo[]> {
  const stored = await crypto.keyStorage.find();
  if (argument.toLowerCase().startsWith("pkcs11:")) return keysOfUri(crypto, stored, argument, types);
  if (STORAGE_ID.test(argument)) {
    const type = argument.slice(0, argument.indexOf("-")) as KeyType;
    if (!types.includes(type)) throw new UsageError(`${argument} is a ${type} key; this needs a ${types.join(" or ")} key`);
    return stored.filter((key) => key.id === argument);
  }
  if (!HEX.test(argument)) {
    throw new UsageError(`"${argument.slice(0, 80)}" is not a key id: give a storage id (private-<hex>, public-<hex>, secret-<hex>) or a key pair's CKA_ID in hex, as "keys list" shows them`);
  }
  const keyId = argument.toLowerCase();
  return stored.filter((key) => key.keyId === keyId && types.includes(key.type));
}

const TYPE_OF_URI: Record<string, KeyType> = { private: "private", public: "public", "secret-key": "secret" };

/** The keys an RFC 7512 URI names (object = label, id = CKA_ID, type), as p11tool and OpenSSL write them. */
function keysOfUri(crypto: Crypto, stored: StoredKeyInfo[], argument: string, types: readonly KeyType[]): StoredKeyInfo[] {
  let uri;
  try {
    uri = parsePkcs11Uri(argument);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (uri.token !== undefined && uri.token !== crypto.tokenLabel) throw new UsageError(`the URI names token "${uri.token}", not "${crypto.tokenLabel}"`);
  const type = uri.type === undefined ? undefined : TYPE_OF_URI[uri.type];
  if (uri.type !== undefined && type === undefined) throw new UsageError(`the URI's type "${uri.type}" is not a key type (private, public, secret-key)`);
  return stored.filter(
    (key) =>
      types.includes(key.type) &&
      (type === undefined || key.type === type) &&
      (uri.object === undefined || key.label === uri.object) &&
      (uri.id === undefined || key.keyId === uri.id.toString("hex")),
  );
}

/** The one key of the given types an argument names (a pair's CKA_ID picks the half of the first type listed). */
export async function oneKey(crypto: Crypto, argument: string, types: readonly KeyType[]): Promise<StoredKeyInfo> {
  const found = await keysNamed(crypto, argument, types);
  for (const type of types) {
    const key = found.find((candidate) => candidate.type === type);
    if (key) return key;
  }
  throw new OperationFailed(`no ${types.join(" or ")} key ${argument} on token "${crypto.tokenLabel}" (see "keys list")`);
}

/** The public half of a private key's pair: the public key with the same CKA_ID. */
export async function publicHalf(crypto: Crypto, privateKey: StoredKeyInfo, explicit?: string): Promise<StoredKeyInfo> {
  if (explicit !== undefined) return oneKey(crypto, explicit, ["public"]);
  const [match] = (await crypto.keyStorage.find({ type: "public" })).filter((key) => key.keyId === privateKey.keyId);
  if (!match) {
    throw new OperationFailed(`token "${crypto.tokenLabel}" has no public key with the CKA_ID of ${privateKey.id}; import it (keys import) or name it with --public-key`);
  }
  return match;
}
