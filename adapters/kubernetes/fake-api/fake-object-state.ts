// The fake API server's storage: objects per resource, one resourceVersion counter shared by all
// of them (etcd's revision: every write, of any kind, gets the next number), and a bounded history
// of changes that watches replay from a resourceVersion. Like etcd after compaction, a watch from a
// resourceVersion older than the history gets 410 Expired.
// Stored objects are copies, frozen; each keeps its JSON for lists and watch events, so serving
// a list of thousands is string joins, not a serialisation per request.

import type { WatchedResource } from "../watched-resources.ts";
import { apiVersionOf } from "./fake-paths.ts";

type Labels = Readonly<Record<string, string>>;

export interface StoredObject {
  readonly resource: WatchedResource;
  /** "namespace/name". */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: number;
  readonly labels: Labels | undefined;
  readonly object: Readonly<Record<string, unknown>>;
  /** With kind and apiVersion, as in watch events. */
  readonly json: string;
  /** Without kind and apiVersion, as items of a typed list. */
  readonly itemJson: string;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface ChangeEvent {
  readonly type: ChangeType;
  readonly resourceVersion: number;
  readonly stored: StoredObject;
  /** Labels before a MODIFIED, for watches with a label selector. */
  readonly previousLabels: Labels | undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export interface FakeObjectStateOptions {
  /** The first resourceVersion handed out is this + 1. Default 1000. */
  readonly initialResourceVersion?: number;
  /** Changes kept for watches to replay. Default 10000. */
  readonly historyLimit?: number;
  readonly now?: () => number;
}

export class FakeObjectState {
  #resourceVersion: number;
  /** Watches from a resourceVersion below this are too old (410). */
  #oldestWatchable: number;
  readonly #historyLimit: number;
  readonly #now: () => number;
  readonly #objects = new Map<string, Map<string, StoredObject>>();
  #history: ChangeEvent[] = [];
  #uids = 0;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  /** Per resource: the watch cache keeps one window per resource (cacher/watch_cache.go), so one
   * resource's window can move past a resourceVersion another's still reaches. */
  readonly #floors = new Map<string, number>();

  constructor(options: FakeObjectStateOptions = {}) {
    this.#resourceVersion = options.initialResourceVersion ?? 1000;
    this.#oldestWatchable = this.#resourceVersion;
    this.#historyLimit = options.historyLimit ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  get oldestWatchable(): number {
    return this.#oldestWatchable;
  }

  /** Watches of `resource` from a resourceVersion below this are too old (410). */
  oldestWatchableOf(resource: WatchedResource): number {
    return Math.max(this.#oldestWatchable, this.#floors.get(resource.resource) ?? 0);
  }

  #collection(resource: WatchedResource): Map<string, StoredObject> {
    let collection = this.#objects.get(resource.resource);
    if (collection === undefined) this.#objects.set(resource.resource, (collection = new Map()));
    return collection;
  }

  get(resource: WatchedResource, namespace: string, name: string): StoredObject | undefined {
    return this.#objects.get(resource.resource)?.get(`${namespace}/${name}`);
  }

  /** Sorted by key, as etcd returns a range. */
  list(resource: WatchedResource, namespace?: string): StoredObject[] {
    const all = [...(this.#objects.get(resource.resource)?.values() ?? [])].filter((o) => namespace === undefined || o.namespace === namespace);
    return all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Creates or replaces; the input is copied, never changed. */
  put(resource: WatchedResource, input: Readonly<Record<string, unknown>>): ChangeEvent {
    const copy = structuredClone(input) as Record<string, unknown>;
    const metadata = { ...((copy["metadata"] as Record<string, unknown> | undefined) ?? {}) };
    const name = metadata["name"];
    if (typeof name !== "string" || name === "") throw new Error(`a ${resource.kind} needs metadata.name, got ${JSON.stringify(name)}`);
    // A cluster-scoped object (a Namespace) has no namespace: its key is "/name".
    const namespaced = (resource as { readonly namespaced?: boolean }).namespaced !== false;
    const namespace = !namespaced ? "" : typeof metadata["namespace"] === "string" && metadata["namespace"] !== "" ? (metadata["namespace"] as string) : "default";
    const key = `${namespace}/${name}`;
    const collection = this.#collection(resource);
    const old = collection.get(key);
    const resourceVersion = ++this.#resourceVersion;
    if (namespaced) metadata["namespace"] = namespace;
    else delete metadata["namespace"];
    metadata["uid"] = old?.object["metadata"] !== undefined ? (old.object["metadata"] as Record<string, unknown>)["uid"] : typeof metadata["uid"] === "string" ? metadata["uid"] : this.#uid();
    metadata["resourceVersion"] = String(resourceVersion);
    metadata["creationTimestamp"] = old === undefined ? new Date(this.#now()).toISOString().replace(/\.\d+Z$/, "Z") : (old.object["metadata"] as Record<string, unknown>)["creationTimestamp"];
    const { kind: _kind, apiVersion: _apiVersion, metadata: _metadata, ...rest } = copy;
    const object = deepFreeze({ kind: resource.kind, apiVersion: apiVersionOf(resource), metadata, ...rest });
    const item = { metadata, ...rest };
    const labels = (metadata["labels"] as Labels | undefined) ?? undefined;
    const stored: StoredObject = { resource, key, namespace, name, resourceVersion, labels, object, json: JSON.stringify(object), itemJson: JSON.stringify(item) };
    collection.set(key, stored);
    return this.#record({ type: old === undefined ? "ADDED" : "MODIFIED", resourceVersion, stored, previousLabels: old?.labels });
  }

  remove(resource: WatchedResource, namespace: string, name: string): ChangeEvent | undefined {
    const collection = this.#objects.get(resource.resource);
    const old = collection?.get(`${namespace}/${name}`);
    if (collection === undefined || old === undefined) return undefined;
    collection.delete(old.key);
    const resourceVersion = ++this.#resourceVersion;
    // A DELETED event carries the object's last state, at the deletion's resourceVersion.
    const metadata = { ...(old.object["metadata"] as Record<string, unknown>), resourceVersion: String(resourceVersion) };
    const object = deepFreeze({ ...old.object, metadata });
    const stored: StoredObject = { ...old, resourceVersion, object, json: JSON.stringify(object), itemJson: old.itemJson };
    return this.#record({ type: "DELETED", resourceVersion, stored, previousLabels: old.labels });
  }

  /** Forgets the history up to now, as etcd compaction does: every watch from an older
   * resourceVersion is answered 410 Expired. With a resource, only that resource's window moves
   * (its watch cache dropped the older events), as when the API server expires its watches. */
  compact(resource?: WatchedResource): void {
    if (resource !== undefined) {
      this.#floors.set(resource.resource, this.#resourceVersion);
      return;
    }
    this.#history = [];
    this.#oldestWatchable = this.#resourceVersion;
  }

  /** Changes after `resourceVersion`, oldest first; undefined when the history (of `resource`, if
   * given) no longer reaches back. */
  changesSince(resourceVersion: number, resource?: WatchedResource): ChangeEvent[] | undefined {
    const oldest = resource === undefined ? this.#oldestWatchable : this.oldestWatchableOf(resource);
    if (resourceVersion < oldest) return undefined;
    return this.#history.filter((event) => event.resourceVersion > resourceVersion);
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #record(event: ChangeEvent): ChangeEvent {
    this.#history.push(event);
    if (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit);
      this.#oldestWatchable = dropped[dropped.length - 1]!.resourceVersion;
    }
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  #uid(): string {
    const n = (++this.#uids).toString(16).padStart(12, "0");
    return `fa4e0000-0000-4000-8000-${n}`;
  }
}
