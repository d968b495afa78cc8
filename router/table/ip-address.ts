// Endpoint address parsing. An address is routable when it is a plain IPv4 or IPv6 literal of the
// slice's addressType, and not one that the Kubernetes API itself refuses for an endpoint
// (pkg/apis/core/validation ValidateEndpointIP: unspecified, link-local, link-local multicast):
// a router that forwarded to 169.254.169.254 would hand out the cloud metadata service.
// Loopback stays allowed, unlike in the API: the file source's local demos run their pods on it.

import type { AddressType } from "./routing-table.ts";

export type ParsedAddress =
  | { readonly ok: true; readonly address: string; readonly type: AddressType }
  | { readonly ok: false; readonly problem: string };

const ipv4Octet = /^(?:0|[1-9][0-9]{0,2})$/;
const ipv6Chars = /^[0-9a-fA-F:.]+$/;

/** "10.0.0.1" -> IPv4; leading zeros are refused (ambiguous: octal to some parsers, since
 * Kubernetes 1.30 refused by the API). */
function parseIpv4(text: string): string | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  for (const part of parts) {
    if (!ipv4Octet.test(part) || Number(part) > 255) return undefined;
  }
  return text;
}

/** The canonical form (RFC 5952: lowercase, longest zero run compressed) of an IPv6 literal, by
 * the WHATWG URL host parser, which every runtime has; undefined when it is not one. Zone ids
 * ("fe80::1%eth0") are refused, as the API refuses them. */
function parseIpv6(text: string): string | undefined {
  if (!text.includes(":") || !ipv6Chars.test(text)) return undefined;
  try {
    const host = new URL(`http://[${text}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

function ipv4Special(address: string): string | undefined {
  if (address === "0.0.0.0") return "the unspecified address";
  const [a, b] = address.split(".").map(Number);
  if (a === 169 && b === 254) return "link-local (169.254.0.0/16)";
  if (a !== undefined && a >= 224 && a <= 239) return "multicast (224.0.0.0/4)";
  return undefined;
}

function ipv6Special(address: string): string | undefined {
  if (address === "::") return "the unspecified address";
  const first = address.startsWith("::") ? 0 : parseInt(address.slice(0, address.indexOf(":")), 16);
  if ((first & 0xffc0) === 0xfe80) return "link-local (fe80::/10)";
  if ((first & 0xff00) === 0xff00) return "multicast (ff00::/8)";
  return undefined;
}

/** Parses `text` as an address of `expected` type (the slice's addressType, or either for a Pod's
 * podIP). Never throws; `problem` says what is wrong, e.g. `"addressesValue" is not an IPv4 address`. */
export function parseEndpointAddress(text: unknown, expected: AddressType | "any"): ParsedAddress {
  const what = expected === "any" ? "an IPv4 or IPv6 address" : `an ${expected} address`;
  if (typeof text !== "string") return { ok: false, problem: `${JSON.stringify(text) ?? "undefined"} is not ${what}` };
  const v4 = expected === "IPv6" ? undefined : parseIpv4(text);
  const v6 = v4 !== undefined || expected === "IPv4" ? undefined : parseIpv6(text);
  if (v4 === undefined && v6 === undefined) {
    return { ok: false, problem: `${JSON.stringify(text)} is not ${what}` };
  }
  const special = v4 !== undefined ? ipv4Special(v4) : ipv6Special(v6!);
  if (special !== undefined) {
    return { ok: false, problem: `${JSON.stringify(text)} is ${special}, which an endpoint may not use` };
  }
  return v4 !== undefined ? { ok: true, address: v4, type: "IPv4" } : { ok: true, address: v6!, type: "IPv6" };
}
