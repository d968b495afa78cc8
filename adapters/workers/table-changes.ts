// The routing table as changes, both ways: tableChanges (the supervisor) turns a publish into the
// entries it rebuilt and the keys it removed; applyTableChanges (a worker) makes the next snapshot
// from its previous one and those changes. Both are pure. The worker's snapshot shares every
// unchanged entry with its previous one (HashTrieMap.with), so a publish costs the changed services.
import { isBuiltFrom } from "../../router/table/build-routing-table.ts";
import { HashTrieMap } from "../../router/table/hash-trie-map.ts";
import type { RoutingTable, ServiceEntry } from "../../router/table/routing-table.ts";
import type { TableMessage } from "./worker-protocol.ts";

/** Every entry of `table`, for a worker that has none yet. */
export function fullTable(table: RoutingTable): TableMessage {
  return { type: "table", full: true, generation: table.generation, endpointsFrom: table.endpointsFrom, endpointCount: table.endpointCount, put: [...table.services.values()], removed: [] };
}

/**
 * What changed from `last` (the table the workers have) to `table`. A table built from `last`
 * names its changes (rebuilt, removed); any other (a source restarted, a full rebuild) is diffed
 * by entry identity and key, which still sends only what differs.
 */
export function tableChanges(last: RoutingTable | undefined, table: RoutingTable): TableMessage {
  if (last === undefined) return fullTable(table);
  const head = { type: "table", full: false, generation: table.generation, endpointsFrom: table.endpointsFrom, endpointCount: table.endpointCount } as const;
  if (isBuiltFrom(table, last)) {
    return { ...head, put: table.rebuilt.map((key) => table.services.get(key)!), removed: table.removed };
  }
  const put: ServiceEntry[] = [];
  for (const entry of table.services.values()) if (last.services.get(entry.key) !== entry) put.push(entry);
  const removed: string[] = [];
  for (const key of last.services.keys()) if (!table.services.has(key)) removed.push(key);
  return { ...head, put, removed };
}

/**
 * The worker's next snapshot. Its `rebuilt` and `removed` are the message's (with `continuing`, a
 * later part of one publish, added to the earlier parts' in `previous`); `diagnostics` are empty
 * (they are about the source's objects, and /debug/table is served from the supervisor's own
 * table, which has them).
 */
export function applyTableChanges(previous: RoutingTable | undefined, message: TableMessage, continuing = false): RoutingTable {
  const base = message.full || previous === undefined ? HashTrieMap.empty<ServiceEntry>() : (previous.services as HashTrieMap<ServiceEntry>);
  const put = message.put.map((entry) => [entry.key, deepFreeze(entry)] as const);
  const services = base.with(put, message.removed);
  const earlier = continuing && previous !== undefined ? previous : undefined;
  const rebuilt = [...(earlier?.rebuilt ?? []), ...message.put.map((entry) => entry.key)].sort();
  const removed = message.full && previous !== undefined ? [...previous.services.keys()].filter((key) => !services.has(key)).sort() : [...(earlier?.removed ?? []), ...message.removed].sort();
  return Object.freeze({
    generation: message.generation,
    endpointsFrom: message.endpointsFrom,
    services,
    endpointCount: message.endpointCount,
    rebuilt: Object.freeze(rebuilt),
    removed: Object.freeze(removed),
    diagnostics: Object.freeze([]),
  });
}

/** Entries arrive as JSON; the table's contract is that every object in it is frozen. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

/** Entries per IPC message: a 10000-service table is about 35 MB of JSON, and one message that
 * large took Node's IPC channel about 20 s to deliver where parts of this size take a few. */
export const ENTRIES_PER_MESSAGE = 500;

/** A publish as IPC messages of at most `size` entries; every part but the last has `more`. */
export function splitTableMessage(message: TableMessage, size = ENTRIES_PER_MESSAGE): TableMessage[] {
  if (message.put.length <= size) return [message];
  const parts: TableMessage[] = [];
  for (let at = 0; at < message.put.length; at += size) {
    const last = at + size >= message.put.length;
    parts.push({ ...message, full: at === 0 && message.full, put: message.put.slice(at, at + size), removed: at === 0 ? message.removed : [], ...(last ? {} : { more: true }) });
  }
  return parts;
}

/** A publish as the IPC messages that carry it: each part as JSON text, made once and sent as a
 * string to every worker (the channel's own JSON of a string is a copy with escapes, far cheaper
 * than serialising the entries once per worker). The worker parses it (decodeTable). */
export type EncodedTable = readonly string[];

export function encodeTable(message: TableMessage): EncodedTable {
  return splitTableMessage(message).map((part) => JSON.stringify(part));
}

export function decodeTable(text: string): TableMessage {
  return JSON.parse(text) as TableMessage;
}
