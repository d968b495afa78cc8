// The objects of one list/watch loop: one kind (and namespace, for a namespaced watch) of the
// table input store (router/table/table-input-store.ts), the one store both sources write and the
// routing table builder reads. client-go's cache.Store for one informer, without the I/O: the
// loop writes (replace after a list, upsert and remove for watch events); replace() keeps the
// object it already had when the new copy has the same uid and resourceVersion, so an unchanged
// service costs the table builder an identity check.

import { StoreCollection, TableInputStore } from "../../router/table/table-input-store.ts";
import type { NamedObject } from "../../router/table/object-identity.ts";

export { objectKey } from "../../router/table/object-identity.ts";
export type { StoreChanges } from "../../router/table/table-input-store.ts";

export type KubeObject = NamedObject;

/**
 * @example
 * const services = new ObjectStore<KubeObject>(store, "Service");  // a view of `store`
 * const alone = new ObjectStore<KubeObject>();                     // a store of its own
 */
export class ObjectStore<T extends KubeObject> extends StoreCollection<T> {
  constructor(store: TableInputStore = new TableInputStore(), kind = "Object", namespace?: string) {
    super(store, kind, namespace);
  }
}
