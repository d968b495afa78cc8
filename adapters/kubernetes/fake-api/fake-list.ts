// A list answer of the fake API server: {"kind":"ServiceList","apiVersion":"v1","metadata":
// {"resourceVersion":"..","continue":".."},"items":[..]}, paged with limit/continue. Every page of
// one list is cut from the snapshot its first page saw, at one resourceVersion, as etcd serves
// them; a continue token whose snapshot is older than the history (compaction) is 410 Expired.

import type { WatchedResource } from "../watched-resources.ts";
import type { FieldMatcher } from "./fake-field-selector.ts";
import type { LabelMatcher } from "./fake-label-match.ts";
import type { FakeObjectState, StoredObject } from "./fake-object-state.ts";
import { apiVersionOf } from "./fake-paths.ts";
import { statusResponse } from "./fake-status.ts";

interface Snapshot {
  readonly resourceVersion: number;
  readonly items: readonly StoredObject[];
}

export class FakeLists {
  readonly #snapshots = new Map<string, Snapshot>();
  #ids = 0;

  /** `maxPageItems` caps a page below `limit` (a short page; `continue` still leads on). */
  respond(state: FakeObjectState, resource: WatchedResource, namespace: string | undefined, matches: LabelMatcher, limit: number, token: string, fields: FieldMatcher = () => true, maxPageItems?: number): Response {
    let snapshot: Snapshot;
    let start = 0;
    if (token !== "") {
      const parsed = this.#parseToken(token);
      const found = parsed === undefined ? undefined : this.#snapshots.get(parsed.id);
      if (parsed === undefined || found === undefined || found.resourceVersion < state.oldestWatchable) {
        return statusResponse({
          code: 410,
          reason: "Expired",
          message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.",
        });
      }
      snapshot = found;
      start = parsed.start;
    } else {
      snapshot = { resourceVersion: state.resourceVersion, items: state.list(resource, namespace).filter((o) => matches(o.labels) && fields(o)) };
    }
    // ListOptions.limit (apimachinery meta/v1 types.go): "The server may return fewer items than
    // the requested limit"; only an empty continue says the list is complete.
    const pageSize = limit > 0 && maxPageItems !== undefined && maxPageItems > 0 ? Math.min(limit, maxPageItems) : limit;
    const end = pageSize > 0 ? Math.min(snapshot.items.length, start + pageSize) : snapshot.items.length;
    let next = "";
    if (end < snapshot.items.length) {
      let id = token === "" ? undefined : this.#parseToken(token)?.id;
      if (id === undefined) {
        id = String(++this.#ids);
        this.#snapshots.set(id, snapshot);
        // A few lists in flight at a time; the oldest snapshots go first.
        if (this.#snapshots.size > 64) this.#snapshots.delete(this.#snapshots.keys().next().value!);
      }
      next = btoa(JSON.stringify({ v: "meta.k8s.io/v1", rv: snapshot.resourceVersion, id, start: end }));
    }
    const metadata = next === "" ? { resourceVersion: String(snapshot.resourceVersion) } : { resourceVersion: String(snapshot.resourceVersion), continue: next, remainingItemCount: snapshot.items.length - end };
    let items = "";
    for (let i = start; i < end; i++) items += (i === start ? "" : ",") + snapshot.items[i]!.itemJson;
    const body = `{"kind":"${resource.kind}List","apiVersion":"${apiVersionOf(resource)}","metadata":${JSON.stringify(metadata)},"items":[${items}]}`;
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  }

  #parseToken(token: string): { id: string; start: number } | undefined {
    try {
      const parsed = JSON.parse(atob(token)) as { id?: unknown; start?: unknown };
      return typeof parsed.id === "string" && typeof parsed.start === "number" ? { id: parsed.id, start: parsed.start } : undefined;
    } catch {
      return undefined;
    }
  }
}
