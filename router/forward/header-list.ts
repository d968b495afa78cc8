// The header representation on the forwarding path: one flat array of strings,
// [name0, value0, name1, value1, ...], in order, with repeated fields kept as repeated pairs.
//
// Why this shape: it is what both ends already speak, so no transport converts on the hot path.
// Node hands a request's fields over as exactly this array (IncomingMessage.rawHeaders), undici
// takes it as `headers` for a request, and ServerResponse.writeHead takes it for a response. A
// repeated field (two Set-Cookie lines, RFC 6265 section 3) survives as two pairs, which a plain
// object with one value per name cannot hold without special cases. Web Headers need one loop of
// `append` (headersFromHeaderList), which the undici transport pays only on its Web Response path.
//
// Lists built by the forwarding code have lowercase names (HTTP field names are case-insensitive,
// RFC 9110 section 5.1, and HTTP/2 requires lowercase); lists given to it may use any case.

/** A flat header list: `[name0, value0, name1, value1, ...]`. */
export type HeaderList = string[];

/** A Web `Headers` as a header list. Iteration yields lowercase names, combines repeated fields
 * with ", " and yields each Set-Cookie on its own (Fetch standard, "sort and combine"). */
export function headerListFromHeaders(headers: Headers): HeaderList {
  const list: HeaderList = [];
  for (const [name, value] of headers) list.push(name, value);
  return list;
}

/** A Node-style header record (lowercase names; an array for a repeated field) as a header list. */
export function headerListFromRecord(record: Readonly<Record<string, string | readonly string[] | number | undefined>>): HeaderList {
  const list: HeaderList = [];
  for (const name in record) {
    const value = record[name];
    if (value === undefined) continue;
    if (typeof value === "string") list.push(name, value);
    else if (typeof value === "number") list.push(name, String(value));
    else for (let i = 0; i < value.length; i++) list.push(name, value[i]!);
  }
  return list;
}

/** A header list as Web `Headers`, for `fetch` and `Response`. */
export function headersFromHeaderList(list: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < list.length; i += 2) headers.append(list[i]!, list[i + 1]!);
  return headers;
}

/** The value of the first field named `lowerName` (lowercase), or undefined. */
export function headerListGet(list: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return list[i + 1];
  }
  return undefined;
}
