// Values vipr writes about the client: the address for X-Forwarded-For and one element of the
// `Forwarded` field (RFC 7239).

// RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. A table by char code: this runs on every request.
const tchar = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") tchar[c.charCodeAt(0)] = 1;

/** True when `text` is an HTTP token (RFC 9110 section 5.6.2). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || tchar[code] === 0) return false;
  }
  return true;
}

/** The client address as written into X-Forwarded-For and `for=`: a dual-stack listener reports an
 * IPv4 client as an IPv4-mapped IPv6 address ("::ffff:192.0.2.7", RFC 4291 section 2.5.5.2); the
 * backend is told the IPv4 address the client actually has. */
export function clientAddressForHeaders(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 /* ":" */ && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) {
    return address.slice(7);
  }
  return address;
}

/** RFC 7239 section 4: a value is a token or a quoted-string; inside a quoted-string, `"` and `\`
 * are escaped with `\` (RFC 9110 section 5.6.4). */
function forwardedValue(text: string): string {
  if (isToken(text)) return text;
  if (!text.includes('"') && !text.includes("\\")) return `"${text}"`;
  return `"${text.replace(/["\\]/g, "\\$&")}"`;
}

/** The node for `for=` (RFC 7239 section 6): an IPv4 address as is; an IPv6 address in brackets
 * and quotes, because ":" is not a token character (`for="[2001:db8:cafe::17]"`, section 6.1);
 * "unknown" when the address is not known (section 6.2). */
export function forwardedNode(address: string): string {
  if (address === "") return "unknown";
  if (address.includes(":")) return `"[${address}]"`;
  return forwardedValue(address);
}

/** One forwarded-element, e.g. `for=192.0.2.60;proto=http;host="svc.ns:8080"` (RFC 7239
 * section 4). `host` is the Host field as the client sent it (section 5.3); it is left out when
 * the request had none. */
export function forwardedElement(address: string, proto: string, host: string | undefined): string {
  let element = `for=${forwardedNode(address)};proto=${forwardedValue(proto)}`;
  if (host !== undefined && host !== "") element += `;host=${forwardedValue(host)}`;
  return element;
}

/** The address in one X-Forwarded-For entry or one Forwarded `for=` node, without brackets or port:
 * `192.0.2.60:4711` -> `192.0.2.60`, `[2001:db8:cafe::17]:47011` -> `2001:db8:cafe::17` (RFC 7239
 * section 6 allows a port; some load balancers write one into X-Forwarded-For too). Anything else
 * (`unknown`, an obfuscated `_hidden`, a bare IPv6 address) comes back as it is, trimmed. */
export function nodeAddress(entry: string): string {
  const text = entry.trim();
  if (text.charCodeAt(0) === 91 /* [ */) {
    const close = text.indexOf("]");
    return close === -1 ? text : text.slice(1, close);
  }
  const colon = text.indexOf(":");
  // One colon: IPv4 with a port. More: a bare IPv6 address, which has no port.
  return colon !== -1 && text.indexOf(":", colon + 1) === -1 ? text.slice(0, colon) : text;
}

/**
 * The `for=` values of a Forwarded field, first hop first, unquoted (RFC 7239 section 4:
 * `Forwarded: for=192.0.2.43, for="[2001:db8:cafe::17]";proto=https`). Elements are split at commas
 * outside quoted strings; an element without `for=` gives "" (an unknown hop).
 */
export function forwardedForValues(field: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let escaped = false;
  let pair = "";
  const endPair = (): void => {
    const equals = pair.indexOf("=");
    if (equals !== -1 && pair.slice(0, equals).trim().toLowerCase() === "for") current = pair.slice(equals + 1).trim();
    pair = "";
  };
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (quoted) {
      if (escaped) {
        pair += c;
        escaped = false;
      } else if (c === "\\") escaped = true;
      else if (c === '"') quoted = false;
      else pair += c;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ";") endPair();
    else if (c === ",") {
      endPair();
      out.push(current);
      current = "";
    } else pair += c;
  }
  endPair();
  out.push(current);
  return out;
}
