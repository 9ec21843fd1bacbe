import { isPkcs11Uri, parsePkcs11Uri, percentEncode } from "../crypto/pkcs11-uri.js";
import { trimPadded } from "../token/slot-selector.js";
import type { Token } from "../token/token.js";
import { dataError } from "../webcrypto-errors.js";
import type { StoredKind } from "./storage-ids.js";

/**
 * RFC 7512 object URIs for stored items: `pkcs11:token=...;object=<label>;id=<CKA_ID>;type=private`,
 * the names OpenSSL's providers, p11-kit and GnuTLS use for token objects. Storage takes them
 * wherever it takes an id, and find() gives each key its URI.
 */

/** RFC 7512's object types and our kinds of stored item. */
const KINDS_OF_TYPE: Record<string, StoredKind[]> = {
  private: ["private"],
  public: ["public"],
  "secret-key": ["secret"],
  cert: ["x509"],
  data: ["request"],
};
const TYPE_OF_KIND: Record<StoredKind, string> = { private: "private", public: "public", secret: "secret-key", x509: "cert", request: "data" };

export interface ObjectQuery {
  /** The kinds the URI may name (from `type`; all of them when it has none). */
  kinds?: StoredKind[];
  /** CKA_LABEL, from `object`. */
  label?: string;
  /** CKA_ID, from `id`. */
  ckaId?: Buffer;
}

export { isPkcs11Uri };

/** The object a URI names, after checking that its token attributes (if any) name this token. */
export function objectQuery(uri: string, token: Token): ObjectQuery {
  const parsed = parsePkcs11Uri(uri);
  if (parsed.token !== undefined && parsed.token !== token.label) {
    throw new TypeError(`The PKCS#11 URI names token "${parsed.token}"; this Crypto is connected to "${token.label}"`);
  }
  if (parsed.serial !== undefined && parsed.serial !== token.serial) {
    throw new TypeError(`The PKCS#11 URI names the token with serial ${parsed.serial}; this Crypto's token has serial ${token.serial}`);
  }
  if (parsed.manufacturer !== undefined || parsed.model !== undefined) {
    const info = token.tokenInfo;
    for (const [attribute, wanted, actual] of [["manufacturer", parsed.manufacturer, info.manufacturerID], ["model", parsed.model, info.model]] as const) {
      if (wanted !== undefined && wanted !== trimPadded(actual)) {
        throw new TypeError(`The PKCS#11 URI names a token whose ${attribute} is "${wanted}"; this Crypto's token says "${trimPadded(actual)}"`);
      }
    }
  }
  let kinds: StoredKind[] | undefined;
  if (parsed.type !== undefined) {
    kinds = KINDS_OF_TYPE[parsed.type];
    if (!kinds) throw new TypeError(`The PKCS#11 URI type "${parsed.type}" is not one of ${Object.keys(KINDS_OF_TYPE).join(", ")}`);
  }
  return { kinds, label: parsed.object, ckaId: parsed.id };
}

export function objectUri(token: Token, kind: StoredKind, label: string, ckaId: Buffer): string {
  const parts = [`token=${percentEncode(token.label)}`];
  if (label !== "") parts.push(`object=${percentEncode(label)}`);
  if (ckaId.length > 0) parts.push(`id=${percentEncode(ckaId)}`);
  parts.push(`type=${TYPE_OF_KIND[kind]}`);
  return `pkcs11:${parts.join(";")}`;
}

/** The one item a URI matched; several are a DataError that lists them. */
export function onlyMatch<T extends { id: string }>(matches: T[], what: string): T | undefined {
  if (matches.length > 1) {
    throw dataError(`The PKCS#11 URI matches ${matches.length} stored ${what} (${matches.map((match) => match.id).join(", ")}); add id= or type= to choose one`);
  }
  return matches[0];
}
