// The hash key of one request, read from where the service's policy says (policy-config.ts).
// Runs once per request, so it scans strings in place instead of splitting them: no arrays, and
// the only new string is the key itself. Sources mirror Envoy's hash policies (route.v3
// RouteAction.HashPolicy: header, cookie, query_parameter, connection_properties.source_ip), plus
// the path, which Envoy spells as the ":path" header.
import type { HashKeySource } from "./policy-config.ts";

const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const AMPERSAND = 0x26;

/**
 * The key string of a request for `source`, or undefined when the request has none (the balancer
 * then uses least-request for this request). An empty value counts as none: hashing "" would send
 * every keyless client to one endpoint. The request comes as the router has it on the hot path: a
 * flat header list (router/forward/header-list.ts; on Node the raw headers, any case) and the
 * path with query, so no Web Request or URL object is built for it.
 *
 * - header: the header's value (several fields of one name joined by ", ", as Headers.get does);
 * - cookie: the named cookie's value from the Cookie fields (cookieValue);
 * - query: the first value of the named query parameter, decoded as URLSearchParams decodes;
 * - client-ip: `clientIp` as the runtime reports it;
 * - path: the path, without the query.
 */
export function hashKeyOf(source: HashKeySource, headers: readonly string[], pathAndQuery: string, clientIp: string): string | undefined {
  let key: string | null | undefined;
  switch (source.from) {
    case "header":
      key = fieldValue(headers, source.name.toLowerCase(), ", ");
      break;
    case "cookie": {
      const header = fieldValue(headers, "cookie", "; ");
      key = header === undefined ? undefined : cookieValue(header, source.name);
      break;
    }
    case "query": {
      const mark = pathAndQuery.indexOf("?");
      key = mark === -1 ? undefined : queryValue(pathAndQuery.slice(mark), source.name);
      break;
    }
    case "client-ip":
      key = clientIp;
      break;
    case "path": {
      const mark = pathAndQuery.indexOf("?");
      key = mark === -1 ? pathAndQuery : pathAndQuery.slice(0, mark);
      break;
    }
  }
  return key === null || key === undefined || key === "" ? undefined : key;
}

/** Every field named `lowerName` (names compared case-insensitively), joined by `separator`. */
function fieldValue(headers: readonly string[], lowerName: string, separator: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
    value = value === undefined ? headers[i + 1]! : `${value}${separator}${headers[i + 1]!}`;
  }
  return value;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * The value of cookie `name` in a Cookie header, or undefined. The header is a cookie-string
 * (RFC 6265 section 4.2.1: `name=value; name2=value2`): pairs are split at ";", optional
 * whitespace around names and values is dropped, and a value in double quotes loses them
 * (cookie-value = *cookie-octet / DQUOTE *cookie-octet DQUOTE). The first pair with the name wins:
 * a browser lists the cookie with the longest path first (section 5.4, step 2).
 *
 * "," also ends a pair: cookie-octet excludes it, so it never appears in a valid value, and fetch's
 * Headers.get joins two Cookie fields (HTTP/2 may send one per cookie, RFC 9113 section 8.2.3)
 * with ", ". An invalid value with a comma is cut at it, which only makes two keys hash alike.
 *
 * @example cookieValue('theme=dark; session="abc123"', "session") // "abc123"
 */
export function cookieValue(header: string, name: string): string | undefined {
  const length = header.length;
  let i = 0;
  while (i < length) {
    let c = header.charCodeAt(i);
    while (i < length && (isSpace(c) || c === SEMICOLON || c === COMMA)) c = header.charCodeAt(++i);
    const start = i;
    let equals = -1;
    while (i < length && c !== SEMICOLON && c !== COMMA) {
      if (equals === -1 && c === EQUALS) equals = i;
      c = header.charCodeAt(++i);
    }
    if (equals === -1) continue; // a pair without "=" names nothing (RFC 6265 section 5.2, step 2)
    let nameEnd = equals;
    while (nameEnd > start && isSpace(header.charCodeAt(nameEnd - 1))) nameEnd--;
    if (nameEnd - start !== name.length || !header.startsWith(name, start)) continue;
    let valueStart = equals + 1;
    let valueEnd = i;
    while (valueStart < valueEnd && isSpace(header.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isSpace(header.charCodeAt(valueEnd - 1))) valueEnd--;
    if (valueEnd - valueStart >= 2 && header.charCodeAt(valueStart) === DQUOTE && header.charCodeAt(valueEnd - 1) === DQUOTE) {
      valueStart++;
      valueEnd--;
    }
    return header.slice(valueStart, valueEnd);
  }
  return undefined;
}

/**
 * The first value of query parameter `name` in `search` ("?a=1&b=2"). Scans for a pair whose raw
 * name is `name` and returns its raw value when it needs no decoding; anything with "%" or "+" in
 * the name or value is left to URLSearchParams, so the result is always what
 * `new URLSearchParams(search).get(name)` returns (application/x-www-form-urlencoded parsing).
 */
function queryValue(search: string, name: string): string | null {
  const length = search.length;
  let i = 1; // past the "?"
  while (i < length) {
    let end = search.indexOf("&", i);
    if (end === -1) end = length;
    let equals = search.indexOf("=", i);
    if (equals === -1 || equals > end) equals = end;
    const rawName = equals - i === name.length && search.startsWith(name, i);
    if (needsDecoding(search, i, equals) || (rawName && needsDecoding(search, equals, end))) return new URLSearchParams(search).get(name);
    if (rawName) return equals === end ? "" : search.slice(equals + 1, end);
    i = end + 1;
    while (i < length && search.charCodeAt(i) === AMPERSAND) i++;
  }
  return null;
}

function needsDecoding(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 /* % */ || c === 0x2b /* + */) return true;
  }
  return false;
}
