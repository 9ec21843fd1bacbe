import { createHash } from "node:crypto";

/**
 * Storage ids: what keys() lists and getItem() takes. They are stable across processes and
 * connections (no object handles in them, which a token may renumber), and say what kind of
 * object they name:
 *
 *   private-<CKA_ID hex>   public-<CKA_ID hex>   secret-<CKA_ID hex>
 *   x509-<SHA-256 of the certificate, first 16 bytes hex>   request-<the same of the request>
 *
 * A key pair's two keys and its certificates share one CKA_ID, as pkcs11-tool, Firefox and Java
 * link them, so `private-ab12...` and `public-ab12...` are the two halves of one pair. Where
 * another tool left two keys of one kind with the same CKA_ID (or none), they are told apart by a
 * `~<n>` suffix in the token's find order: such ids hold only as long as those objects do.
 */
export type KeyKind = "private" | "public" | "secret";
export type CertificateKind = "x509" | "request";
export type StoredKind = KeyKind | CertificateKind;

const ID_PATTERN = /^(private|public|secret|x509|request)-([0-9a-f]*)(?:~(\d+))?$/;

export interface ParsedId {
  kind: StoredKind;
  hex: string;
  /** The position among objects sharing kind and hex (0 when the id has no suffix). */
  ordinal: number;
}

export function formatId(kind: StoredKind, hex: string, ordinal = 0): string {
  return ordinal === 0 ? `${kind}-${hex}` : `${kind}-${hex}~${ordinal}`;
}

/** Parses an id; a string that is not one of ours is a TypeError naming the expected shape. */
export function parseId(id: unknown): ParsedId {
  if (typeof id !== "string") throw new TypeError("A storage id must be a string");
  const match = ID_PATTERN.exec(id);
  if (!match) {
    throw new TypeError(
      `"${id.slice(0, 80)}" is not a storage id: ids look like private-<hex>, public-<hex>, secret-<hex>, x509-<hex> or request-<hex> (from keys())`,
    );
  }
  return { kind: match[1] as StoredKind, hex: match[2], ordinal: match[3] === undefined ? 0 : Number(match[3]) };
}

/** A certificate's or request's id: its kind and the first 16 bytes of the SHA-256 of its DER. */
export function certificateId(kind: CertificateKind, der: Buffer): string {
  return formatId(kind, createHash("sha256").update(der).digest().subarray(0, 16).toString("hex"));
}

export const isKeyKind = (kind: StoredKind): kind is KeyKind => kind === "private" || kind === "public" || kind === "secret";
