// What the file source skipped or adjusted, logged once and counted (vipr_objects_skipped_total):
// the table builder's diagnostics, once per object version (router/table/skipped-objects.ts), and
// the documents refused for a field the builder would not take (manifest-fields.ts), once while
// the refusal stands: an unchanged file read again says nothing new, a fixed one is forgotten.

import type { Registry } from "prom-client";
import { objectsSkippedCounter } from "../../router/observability/router-metrics.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { reasonOf, SkippedObjects } from "../../router/table/skipped-objects.ts";
import type { TableInputStore } from "../../router/table/table-input-store.ts";
import type { ManifestProblem } from "./manifest-documents.ts";

export class SkippedReport {
  readonly #objects = new SkippedObjects();
  #refused = new Set<string>();
  readonly #log: ((line: string) => void) | undefined;
  readonly #registry: Registry | undefined;

  constructor(log: ((line: string) => void) | undefined, registry: Registry | undefined) {
    this.#log = log;
    this.#registry = registry;
  }

  /** Logs and counts what is new in this publish. */
  report(table: RoutingTable, store: TableInputStore, problems: readonly ManifestProblem[]): void {
    const counter = this.#registry === undefined ? undefined : objectsSkippedCounter(this.#registry);
    const refused = new Set<string>();
    for (const problem of problems) {
      if (problem.object === undefined) continue;
      const { kind, namespace, name } = problem.object;
      // The field inside the object: a List item's problems name it from the document.
      const field = problem.field.replace(/^items\[\d+\]\./, "");
      const line = `skipped ${kind} ${namespace}/${name}: ${field}: ${problem.message} (${problem.file}, document ${problem.index + 1})`;
      refused.add(line);
      if (this.#refused.has(line)) continue;
      this.#log?.(line);
      counter?.inc({ kind, reason: reasonOf(field) });
    }
    this.#refused = refused;
    for (const news of this.#objects.news(table, store)) {
      this.#log?.(news.line);
      counter?.inc({ kind: news.kind, reason: news.reason });
    }
  }
}
