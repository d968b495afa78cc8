// Which of a table's diagnostics are news: each object's skipped or adjusted values once, and again
// only when the object changed and is still odd, so a source can log them and count them
// (vipr_objects_skipped_total) without repeating itself on every rebuild. Pure: the source logs.

import type { RoutingTable, TableDiagnostic } from "./routing-table.ts";
import type { TableInputStore } from "./table-input-store.ts";

export interface SkippedObjectReport {
  readonly diagnostic: TableDiagnostic;
  /** `skipped EndpointSlice default/web-abc: endpoints[2].addresses[0]: "10.0.0.x" is not an IPv4
   * address; endpoint skipped`, or `adjusted ...` when a value was replaced by its default. */
  readonly line: string;
  readonly kind: TableDiagnostic["kind"];
  /** The field, list indices dropped (`endpoints[].addresses[]`): a bounded label value. */
  readonly reason: string;
}

/** What a diagnostic did to its value: dropped it (or what held it), or replaced it. */
function verbOf(problem: string): "skipped" | "adjusted" {
  const action = problem.slice(problem.lastIndexOf("; ") + 1);
  return /skipped|ignored|no ports|no endpoints|nowhere/.test(action) ? "skipped" : "adjusted";
}

export function reasonOf(field: string): string {
  return field.replace(/\[\d+\]/g, "[]");
}

export class SkippedObjects {
  /** "Kind namespace/name" -> the object version its diagnostics were reported for, and them. */
  #reported = new Map<string, { version: unknown; messages: Set<string> }>();

  /**
   * The diagnostics of `table` not reported before for the current version of their object
   * (read from `store`; without one, an object counts as unchanged while its messages are).
   * Objects without diagnostics any more are forgotten: if they turn odd again, that is news.
   */
  news(table: RoutingTable, store?: TableInputStore): SkippedObjectReport[] {
    // Every diagnostic is looked at, even when the array is the previous snapshot's: an object can
    // change and keep its messages (the builder compares messages, not versions). A lookup each.
    if (table.diagnostics.length === 0 && this.#reported.size === 0) return [];
    const out: SkippedObjectReport[] = [];
    const reported = new Map<string, { version: unknown; messages: Set<string> }>();
    for (const diagnostic of table.diagnostics) {
      const objectKey = `${diagnostic.namespace}/${diagnostic.name}`;
      const id = `${diagnostic.kind} ${objectKey}`;
      let seen = reported.get(id);
      if (seen === undefined) {
        const version = diagnostic.name === "" ? undefined : store?.get(diagnostic.kind, objectKey);
        const before = this.#reported.get(id);
        seen = before !== undefined && before.version === version ? before : { version, messages: new Set() };
        reported.set(id, seen);
      }
      if (seen.messages.has(diagnostic.message)) continue;
      seen.messages.add(diagnostic.message);
      out.push({ diagnostic, line: `${verbOf(diagnostic.problem)} ${diagnostic.message}`, kind: diagnostic.kind, reason: reasonOf(diagnostic.field) });
    }
    this.#reported = reported;
    return out;
  }
}
