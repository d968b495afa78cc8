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
 * The worker's next snapshot. Its `rebuilt` and `removed` are the message's; `diagnostics` are
 * empty (they are about the source's objects, and /debug/table is served from the supervisor's
 * own table, which has them).
 */
export function applyTableChanges(previous: RoutingTable | undefined, message: TableMessage): RoutingTable {
  const base = message.full || previous === undefined ? HashTrieMap.empty<ServiceEntry>() : (previous.services as HashTrieMap<ServiceEntry>);
  const put = message.put.map((entry) => [entry.key, deepFreeze(entry)] as const);
  const services = base.with(put, message.removed);
  const rebuilt = message.put.map((entry) => entry.key).sort();
  const removed = message.full && previous !== undefined ? [...previous.services.keys()].filter((key) => !services.has(key)).sort() : [...message.removed].sort();
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
