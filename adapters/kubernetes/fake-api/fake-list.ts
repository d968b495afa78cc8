// A list answer of the fake API server: {"kind":"ServiceList","apiVersion":"v1","metadata":
// {"resourceVersion":"..","continue":".."},"items":[..]}, paged with limit/continue. Every page of
// one list is cut from the snapshot its first page saw, at one resourceVersion, as etcd serves
// them; a continue token whose snapshot is older than the history (compaction) is 410 Expired,
// and that Status carries an "inconsistent continue" token (etcd3 store.go,
// handleCompactedErrorForPaging): it resumes after the last key served, from the current state.

import type { WatchedResource } from "../watched-resources.ts";
import type { FieldMatcher } from "./fake-field-selector.ts";
import type { LabelMatcher } from "./fake-label-match.ts";
import type { FakeObjectState, StoredObject } from "./fake-object-state.ts";
import { apiVersionOf } from "./fake-paths.ts";
import { statusObject } from "./fake-status.ts";

interface ContinueToken {
  /** The snapshot's resourceVersion; -1: an inconsistent continue (read the current state). */
  readonly rv: number;
  readonly id?: string;
  readonly start?: number;
  /** The last key served: where an inconsistent continue resumes. */
  readonly key?: string;
}

const encodeToken = (token: ContinueToken): string => btoa(JSON.stringify({ v: "meta.k8s.io/v1", ...token }));

const expiredMessage =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

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
    let id: string | undefined;
    const parsed = token === "" ? undefined : this.#parseToken(token);
    const current = (): Snapshot => ({ resourceVersion: state.resourceVersion, items: state.list(resource, namespace).filter((o) => matches(o.labels) && fields(o)) });
    if (parsed?.rv === -1 && parsed.key !== undefined) {
      const after = parsed.key;
      const all = current();
      snapshot = { resourceVersion: all.resourceVersion, items: all.items.filter((o) => o.key > after) };
    } else if (token !== "") {
      const found = parsed?.id === undefined ? undefined : this.#snapshots.get(parsed.id);
      if (parsed === undefined || found === undefined || parsed.start === undefined || found.resourceVersion < state.oldestWatchable) {
        const status = statusObject({ code: 410, reason: "Expired", message: expiredMessage });
        if (parsed?.key !== undefined) status["metadata"] = { continue: encodeToken({ rv: -1, key: parsed.key }) };
        return new Response(JSON.stringify(status), { status: 410, headers: { "content-type": "application/json" } });
      }
      snapshot = found;
      start = parsed.start;
      id = parsed.id;
    } else {
      snapshot = current();
    }
    // ListOptions.limit (apimachinery meta/v1 types.go): "The server may return fewer items than
    // the requested limit"; only an empty continue says the list is complete.
    const pageSize = limit > 0 && maxPageItems !== undefined && maxPageItems > 0 ? Math.min(limit, maxPageItems) : limit;
    const end = pageSize > 0 ? Math.min(snapshot.items.length, start + pageSize) : snapshot.items.length;
    let next = "";
    if (end < snapshot.items.length) {
      if (id === undefined) {
        id = String(++this.#ids);
        this.#snapshots.set(id, snapshot);
        // A few lists in flight at a time; the oldest snapshots go first.
        if (this.#snapshots.size > 64) this.#snapshots.delete(this.#snapshots.keys().next().value!);
      }
      next = encodeToken({ rv: snapshot.resourceVersion, id, start: end, key: snapshot.items[end - 1]!.key });
    }
    const metadata = next === "" ? { resourceVersion: String(snapshot.resourceVersion) } : { resourceVersion: String(snapshot.resourceVersion), continue: next, remainingItemCount: snapshot.items.length - end };
    let items = "";
    for (let i = start; i < end; i++) items += (i === start ? "" : ",") + snapshot.items[i]!.itemJson;
    const body = `{"kind":"${resource.kind}List","apiVersion":"${apiVersionOf(resource)}","metadata":${JSON.stringify(metadata)},"items":[${items}]}`;
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  }

  #parseToken(token: string): ContinueToken | undefined {
    try {
      const parsed = JSON.parse(atob(token)) as { rv?: unknown; id?: unknown; start?: unknown; key?: unknown };
      if (typeof parsed.rv !== "number") return undefined;
      return {
        rv: parsed.rv,
        ...(typeof parsed.id === "string" ? { id: parsed.id } : {}),
        ...(typeof parsed.start === "number" ? { start: parsed.start } : {}),
        ...(typeof parsed.key === "string" ? { key: parsed.key } : {}),
      };
    } catch {
      return undefined;
    }
  }
}
