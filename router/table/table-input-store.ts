// TableInputStore: the one store of the objects routing tables are built from, whatever their
// source (a list/watch loop per collection, manifest files). client-go's cache.Indexer without
// the I/O: objects by kind and "namespace/name" (object-identity.ts objectKey), plus the indexes
// the builder reads (EndpointSlices by the Service their label names, Pods by namespace), plus
// the keys each write touched since the last takeChanges(), which RoutingTableBuilder.update turns
// into the services to rebuild. Objects are kept as handed in and never written to; a write of
// the version already stored keeps the stored object, so an unchanged object costs the builder an
// identity check. Pure: no I/O, no clock.
//
// Every write is an ObjectChange (plain JSON), and `observe` sees each one that changed the
// store: forwarding them to another store (another process) and applying them there with apply()
// gives that store the same content.

import { serviceNameLabel, type KubeEndpointSlice } from "./kubernetes-objects.ts";
import { keyNamespace, objectKey, sameObject, type NamedObject } from "./object-identity.ts";

/** One write to the store, serializable as JSON. */
export type ObjectChange =
  | { readonly type: "set"; readonly kind: string; readonly object: NamedObject }
  | { readonly type: "delete"; readonly kind: string; readonly key: string };

/** What a replace() changed: the objects added, replaced by a newer version, and gone. */
export interface StoreChanges<T> {
  readonly added: readonly T[];
  readonly updated: readonly T[];
  /** Objects the new list no longer has: their deletes were missed (client-go's DeletedFinalStateUnknown). */
  readonly removed: readonly T[];
}

/** The keys written since the previous takeChanges(). */
export interface TableInputChanges {
  /** Kind -> keys of the objects of that kind added, changed or deleted. */
  readonly keys: ReadonlyMap<string, ReadonlySet<string>>;
  /** Keys of the owners (Services) whose owned objects (EndpointSlices) were added, changed,
   * deleted or moved to or from them: a slice whose label changed touches both. */
  readonly owners: ReadonlySet<string>;
}

/** How the objects of a kind are indexed besides by key. */
export interface KindIndexing {
  /** Keep a namespace -> objects index (namespaceValues). */
  readonly byNamespace?: boolean;
  /** The key of the object that owns this one, for ownedBy(); undefined: owned by none. */
  readonly ownerOf?: (object: NamedObject, key: string) => string | undefined;
}

/** The owning Service of an EndpointSlice: its kubernetes.io/service-name label, in the slice's
 * namespace (pkg/proxy/endpointslicecache.go endpointSliceCacheKeys refuses a slice without it). */
function sliceOwner(object: NamedObject, key: string): string | undefined {
  const label = (object as KubeEndpointSlice).metadata?.labels?.[serviceNameLabel];
  return typeof label === "string" && label !== "" ? `${keyNamespace(key)}/${label}` : undefined;
}

/** The kinds routing tables read, and how each is indexed. Other kinds are stored by key only. */
export const routingTableKinds: Readonly<Record<string, KindIndexing>> = Object.freeze({
  Service: {},
  EndpointSlice: { ownerOf: sliceOwner },
  Pod: { byNamespace: true },
});

const none: ReadonlyMap<string, never> = new Map<string, never>();

class KindObjects {
  readonly objects = new Map<string, NamedObject>();
  readonly indexing: KindIndexing;
  /** byNamespace: namespace -> key -> object. */
  readonly byNamespace = new Map<string, Map<string, NamedObject>>();
  /** ownerOf: key -> its owner when stored (undefined: none); owner -> key -> object; unowned. */
  readonly ownerOfKey = new Map<string, string | undefined>();
  readonly byOwner = new Map<string, Map<string, NamedObject>>();
  readonly unowned = new Map<string, NamedObject>();

  constructor(indexing: KindIndexing) {
    this.indexing = indexing;
  }
}

function addTo(groups: Map<string, Map<string, NamedObject>>, group: string, key: string, object: NamedObject): void {
  let members = groups.get(group);
  if (members === undefined) groups.set(group, (members = new Map()));
  members.set(key, object);
}

function deleteFrom(groups: Map<string, Map<string, NamedObject>>, group: string, key: string): void {
  const members = groups.get(group);
  members?.delete(key);
  if (members?.size === 0) groups.delete(group);
}

export interface TableInputStoreOptions {
  /** How each kind is indexed; default routingTableKinds. */
  readonly kinds?: Readonly<Record<string, KindIndexing>>;
  /** Every write that changed the store, after it was made. */
  readonly observe?: (change: ObjectChange) => void;
}

/**
 * @example
 * const store = new TableInputStore();
 * store.set("Service", service);
 * store.collection("EndpointSlice", "shop").replace(listedSlices);
 * table = builder.update(store.takeChanges());
 */
export class TableInputStore {
  readonly #kinds = new Map<string, KindObjects>();
  readonly #indexing: Readonly<Record<string, KindIndexing>>;
  readonly #observe: ((change: ObjectChange) => void) | undefined;
  #changedKeys = new Map<string, Set<string>>();
  #changedOwners = new Set<string>();

  constructor(options: TableInputStoreOptions = {}) {
    this.#indexing = options.kinds ?? routingTableKinds;
    this.#observe = options.observe;
  }

  #kind(kind: string): KindObjects {
    let objects = this.#kinds.get(kind);
    if (objects === undefined) this.#kinds.set(kind, (objects = new KindObjects(this.#indexing[kind] ?? {})));
    return objects;
  }

  #touched(kind: string, key: string): void {
    let keys = this.#changedKeys.get(kind);
    if (keys === undefined) this.#changedKeys.set(kind, (keys = new Set()));
    keys.add(key);
  }

  /** Applies one change (from a source, or forwarded from another store); false if it changed nothing. */
  apply(change: ObjectChange): boolean {
    return change.type === "set" ? this.set(change.kind, change.object) : this.delete(change.kind, change.key);
  }

  /** Adds or replaces; false when the store already had this version or the object has no name. */
  set<T extends NamedObject>(kind: string, object: T): boolean {
    const key = objectKey(object);
    if (key === undefined) return false;
    const table = this.#kind(kind);
    const old = table.objects.get(key);
    if (old !== undefined && sameObject(old, object)) return false;
    if (old !== undefined) this.#unindex(table, key);
    table.objects.set(key, object);
    const { byNamespace, ownerOf } = table.indexing;
    if (byNamespace === true) addTo(table.byNamespace, keyNamespace(key), key, object);
    if (ownerOf !== undefined) {
      const owner = ownerOf(object, key);
      table.ownerOfKey.set(key, owner);
      if (owner === undefined) table.unowned.set(key, object);
      else {
        addTo(table.byOwner, owner, key, object);
        this.#changedOwners.add(owner);
      }
    }
    this.#touched(kind, key);
    this.#observe?.({ type: "set", kind, object });
    return true;
  }

  /** Removes the object stored under `key` ("namespace/name"); false if there was none. */
  delete(kind: string, key: string): boolean {
    const table = this.#kinds.get(kind);
    const old = table?.objects.get(key);
    if (table === undefined || old === undefined) return false;
    table.objects.delete(key);
    this.#unindex(table, key);
    this.#touched(kind, key);
    this.#observe?.({ type: "delete", kind, key });
    return true;
  }

  #unindex(table: KindObjects, key: string): void {
    const { byNamespace, ownerOf } = table.indexing;
    if (byNamespace === true) deleteFrom(table.byNamespace, keyNamespace(key), key);
    if (ownerOf !== undefined) {
      const owner = table.ownerOfKey.get(key);
      table.ownerOfKey.delete(key);
      if (owner === undefined) table.unowned.delete(key);
      else {
        deleteFrom(table.byOwner, owner, key);
        this.#changedOwners.add(owner);
      }
    }
  }

  /** Sets the content of a kind (in one namespace, when given) to `objects`, as a full list
   * returned it. Objects without a name are skipped (the caller reports them); of two with one
   * key, the first is kept. */
  replace<T extends NamedObject>(kind: string, objects: Iterable<T>, namespace?: string): StoreChanges<T> {
    const table = this.#kind(kind);
    const seen = new Set<string>();
    const added: T[] = [];
    const updated: T[] = [];
    for (const object of objects) {
      const key = objectKey(object);
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      const old = table.objects.get(key);
      if (!this.set(kind, object)) continue;
      (old === undefined ? added : updated).push(object);
    }
    const removed: T[] = [];
    for (const [key, old] of table.objects) {
      if (seen.has(key) || (namespace !== undefined && keyNamespace(key) !== namespace)) continue;
      removed.push(old as T);
    }
    for (const old of removed) this.delete(kind, objectKey(old)!);
    return { added, updated, removed };
  }

  get<T extends NamedObject = NamedObject>(kind: string, key: string): T | undefined {
    return this.#kinds.get(kind)?.objects.get(key) as T | undefined;
  }

  size(kind: string): number {
    return this.#kinds.get(kind)?.objects.size ?? 0;
  }

  /** Every object of a kind, in the order they were first stored. */
  values<T extends NamedObject = NamedObject>(kind: string): IterableIterator<T> {
    return (this.#kinds.get(kind)?.objects ?? none).values() as IterableIterator<T>;
  }

  keys(kind: string): IterableIterator<string> {
    return (this.#kinds.get(kind)?.objects ?? none).keys();
  }

  /** The objects of a kind in a namespace (a kind indexed byNamespace; others: none). */
  namespaceValues<T extends NamedObject = NamedObject>(kind: string, namespace: string): IterableIterator<T> {
    return (this.#kinds.get(kind)?.byNamespace.get(namespace) ?? none).values() as IterableIterator<T>;
  }

  /** Namespaces with objects of a kind indexed byNamespace. */
  namespaces(kind: string): IterableIterator<string> {
    return (this.#kinds.get(kind)?.byNamespace ?? none).keys();
  }

  /** The objects of a kind (indexed by ownerOf) that `owner` owns, in any order. */
  ownedBy<T extends NamedObject = NamedObject>(kind: string, owner: string): IterableIterator<T> {
    return (this.#kinds.get(kind)?.byOwner.get(owner) ?? none).values() as IterableIterator<T>;
  }

  /** The objects of a kind (indexed by ownerOf) that name no owner. */
  unowned<T extends NamedObject = NamedObject>(kind: string): IterableIterator<T> {
    return (this.#kinds.get(kind)?.unowned ?? none).values() as IterableIterator<T>;
  }

  /** The keys written since the last call. */
  takeChanges(): TableInputChanges {
    const changes = { keys: this.#changedKeys, owners: this.#changedOwners };
    this.#changedKeys = new Map();
    this.#changedOwners = new Set();
    return changes;
  }

  /** The objects of one kind (in one namespace, when given), as one list/watch loop sees them. */
  collection<T extends NamedObject = NamedObject>(kind: string, namespace?: string): StoreCollection<T> {
    return new StoreCollection<T>(this, kind, namespace);
  }
}

/** One kind (and namespace) of a TableInputStore: what one list/watch loop writes. */
export class StoreCollection<T extends NamedObject> {
  readonly store: TableInputStore;
  readonly kind: string;
  readonly namespace: string | undefined;

  constructor(store: TableInputStore, kind: string, namespace?: string) {
    this.store = store;
    this.kind = kind;
    this.namespace = namespace;
  }

  get size(): number {
    if (this.namespace === undefined) return this.store.size(this.kind);
    let n = 0;
    for (const _ of this.keys()) n++;
    return n;
  }

  get(key: string): T | undefined {
    return this.store.get<T>(this.kind, key);
  }

  *keys(): IterableIterator<string> {
    for (const key of this.store.keys(this.kind)) if (this.namespace === undefined || keyNamespace(key) === this.namespace) yield key;
  }

  *values(): IterableIterator<T> {
    for (const key of this.keys()) yield this.store.get<T>(this.kind, key)!;
  }

  /** Sets the whole content, as a full list returned it. */
  replace(objects: Iterable<T>): StoreChanges<T> {
    return this.store.replace(this.kind, objects, this.namespace);
  }

  /** Adds or replaces; false when the store already had this version (nothing changed). */
  upsert(object: T): boolean {
    return this.store.set(this.kind, object);
  }

  /** false when the store did not have it. */
  remove(object: T): boolean {
    const key = objectKey(object);
    return key !== undefined && this.store.delete(this.kind, key);
  }
}
