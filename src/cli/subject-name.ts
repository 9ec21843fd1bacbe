import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from "@peculiar/asn1-x509";
import { UsageError } from "./exit-codes.js";

/** The attribute types --subject accepts, by the short names OpenSSL and RFC 4514 use. */
const TYPES = new Map<string, string>([
  ["CN", "2.5.4.3"], ["C", "2.5.4.6"], ["L", "2.5.4.7"], ["ST", "2.5.4.8"], ["STREET", "2.5.4.9"], ["O", "2.5.4.10"],
  ["OU", "2.5.4.11"], ["SERIALNUMBER", "2.5.4.5"], ["T", "2.5.4.12"], ["TITLE", "2.5.4.12"], ["GN", "2.5.4.42"],
  ["G", "2.5.4.42"], ["SN", "2.5.4.4"], ["DC", "0.9.2342.19200300.100.1.25"], ["UID", "0.9.2342.19200300.100.1.1"],
  ["E", "1.2.840.113549.1.9.1"], ["EMAILADDRESS", "1.2.840.113549.1.9.1"],
]);
/** Types whose values X.520 and RFC 5280 require in a string type other than UTF8String. */
const COUNTRY = "2.5.4.6";
const IA5_TYPES = new Set(["1.2.840.113549.1.9.1", "0.9.2342.19200300.100.1.25"]);

/** Splits at unescaped separators; backslash escapes the next character (RFC 4514). */
function splitUnescaped(text: string, separators: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (character === "\\" && i + 1 < text.length) {
      current += character + text[++i];
    } else if (separators.includes(character)) {
      parts.push(current);
      current = "";
    } else {
      current += character;
    }
  }
  parts.push(current);
  return parts;
}

const unescape = (value: string) => value.replace(/\\(.)/g, "$1");

/**
 * "CN=Alice, O=Example, C=NL" as an X.501 Name, in the order written (as OpenSSL's -subj and the
 * library's subjectName show names: the first attribute is the first RDN encoded). "+" joins
 * attributes of one multi-valued RDN; "\," and "\+" escape.
 */
export function parseSubject(text: string): Name {
  const rdns = splitUnescaped(text, ",").map((part) => part.trim()).filter((part) => part !== "");
  if (rdns.length === 0) throw new UsageError('--subject is empty; give e.g. "CN=Alice,O=Example,C=NL"');
  return new Name(rdns.map((rdn) => new RelativeDistinguishedName(splitUnescaped(rdn, "+").map((pair) => attribute(pair.trim())))));
}

function attribute(pair: string): AttributeTypeAndValue {
  const eq = pair.indexOf("=");
  if (eq <= 0) throw new UsageError(`--subject: "${pair.slice(0, 60)}" is not TYPE=value`);
  const typeText = pair.slice(0, eq).trim();
  const type = TYPES.get(typeText.toUpperCase()) ?? (/^\d+(\.\d+)+$/.test(typeText) ? typeText : undefined);
  if (!type) throw new UsageError(`--subject: unknown attribute type "${typeText.slice(0, 30)}"; use ${[...TYPES.keys()].join(", ")} or a dotted OID`);
  const value = unescape(pair.slice(eq + 1).trim());
  if (value === "") throw new UsageError(`--subject: ${typeText} has an empty value`);
  if (type === COUNTRY) {
    if (!/^[A-Za-z]{2}$/.test(value)) throw new UsageError("--subject: C is a two-letter country code");
    return new AttributeTypeAndValue({ type, value: new AttributeValue({ printableString: value.toUpperCase() }) });
  }
  if (IA5_TYPES.has(type)) return new AttributeTypeAndValue({ type, value: new AttributeValue({ ia5String: value }) });
  return new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) });
}
