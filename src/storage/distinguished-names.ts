import { AsnConvert } from "@peculiar/asn1-schema";
import { Name } from "@peculiar/asn1-x509";

/** Short names for the attribute types people read in certificates (RFC 4514 section 3, plus E and SERIALNUMBER as OpenSSL shows them). */
const SHORT_NAMES = new Map<string, string>([
  ["2.5.4.3", "CN"], ["2.5.4.6", "C"], ["2.5.4.7", "L"], ["2.5.4.8", "ST"], ["2.5.4.9", "STREET"],
  ["2.5.4.10", "O"], ["2.5.4.11", "OU"], ["2.5.4.5", "SERIALNUMBER"], ["2.5.4.12", "T"], ["2.5.4.42", "G"],
  ["2.5.4.4", "SN"], ["0.9.2342.19200300.100.1.25", "DC"], ["0.9.2342.19200300.100.1.1", "UID"],
  ["1.2.840.113549.1.9.1", "E"],
]);

/** RFC 4514 escaping of an attribute value. */
function escapeValue(value: string): string {
  return value
    .replace(/[\\",+;<>=]/g, (character) => `\\${character}`)
    .replace(/^[ #]/, (character) => `\\${character}`)
    .replace(/ $/, "\\ ");
}

/**
 * A distinguished name (DER) as text, "CN=Alice, O=Example, C=NL", in the order the certificate
 * lists it (as @peculiar/x509 and node-webcrypto-p11 show names, not RFC 4514's reversed order).
 */
export function nameToString(der: ArrayBuffer | Uint8Array): string {
  const name = AsnConvert.parse(der, Name);
  return name
    .map((rdn) =>
      rdn
        .map((attribute) => `${SHORT_NAMES.get(attribute.type) ?? attribute.type}=${escapeValue(attribute.value.toString())}`)
        .join("+"),
    )
    .join(", ");
}

/** The name's common name, or its whole text when it has none: a default label. */
export function commonNameOf(der: ArrayBuffer | Uint8Array): string {
  const name = AsnConvert.parse(der, Name);
  for (const rdn of name) {
    for (const attribute of rdn) if (attribute.type === "2.5.4.3") return attribute.value.toString();
  }
  return nameToString(der);
}
