// The objects of one list/watch loop, by "namespace/name": client-go's cache.Store (a thread-safe
// map keyed by MetaNamespaceKeyFunc), without the I/O. The loop writes (replace after a list,
// upsert and remove for watch events); the source reads values() to build the routing table.
// Objects are kept as they were handed in and never written to; replace() keeps the object it
// already had when the new copy has the same uid and resourceVersion, so an unchanged service
// costs the table builder an identity check, and a re-list after an outage frees nothing it
// will have to allocate again.

import type { KubeObjectMeta } from "../../router/table/kubernetes-objects.ts";

export interface KubeObject {
  readonly metadata?: KubeObjectMeta | null | undefined;
}

/** What a replace() changed: the objects added, replaced by a newer version, and gone. */
export interface StoreChanges<T> {
  readonly added: readonly T[];
  readonly updated: readonly T[];
  /** Objects the new list no longer has: their deletes were missed (client-go's DeletedFinalStateUnknown). */
  readonly removed: readonly T[];
}

/** "namespace/name"; undefined when the object has no name (it cannot be stored). */
export function objectKey(object: KubeObject): string | undefined {
  const meta = object.metadata;
  const name = meta?.name;
  if (typeof name !== "string" || name === "") return undefined;
  const namespace = typeof meta?.namespace === "string" ? meta.namespace : "";
  return `${namespace}/${name}`;
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" && rv === b.metadata?.resourceVersion && a.metadata?.uid === b.metadata?.uid;
}

export class ObjectStore<T extends KubeObject> {
  #objects = new Map<string, T>();

  get size(): number {
    return this.#objects.size;
  }

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#objects.keys();
  }

  values(): IterableIterator<T> {
    return this.#objects.values();
  }

  /** Sets the whole content, as a full list returned it. Objects without a name are skipped
   * (the caller reports them). */
  replace(objects: Iterable<T>): StoreChanges<T> {
    const before = this.#objects;
    const after = new Map<string, T>();
    const added: T[] = [];
    const updated: T[] = [];
    for (const object of objects) {
      const key = objectKey(object);
      if (key === undefined) continue;
      const old = before.get(key);
      if (old === undefined) added.push(object);
      else if (sameVersion(old, object)) {
        after.set(key, old);
        continue;
      } else updated.push(object);
      after.set(key, object);
    }
    const removed: T[] = [];
    for (const [key, old] of before) if (!after.has(key)) removed.push(old);
    this.#objects = after;
    return { added, updated, removed };
  }

  /** Adds or replaces; false when the store already had this version (nothing changed). */
  upsert(object: T): boolean {
    const key = objectKey(object);
    if (key === undefined) return false;
    const old = this.#objects.get(key);
    if (old !== undefined && sameVersion(old, object)) return false;
    this.#objects.set(key, object);
    return true;
  }

  /** false when the store did not have it. */
  remove(object: T): boolean {
    const key = objectKey(object);
    return key !== undefined && this.#objects.delete(key);
  }
}
