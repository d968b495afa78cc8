// Which object is which, and whether it changed: the one key function every part of the table
// input uses (the store, the builder, the sources), and the version check that lets an unchanged
// object cost an identity comparison.

import type { KubeObjectMeta } from "./kubernetes-objects.ts";
import { serviceKey } from "./routing-table.ts";

export interface NamedObject {
  readonly metadata?: KubeObjectMeta | null | undefined;
}

/** The namespace of a namespaced object that names none. The API server puts such an object in the
 * namespace of the request (k8s.io/apiserver pkg/endpoints/handlers/rest.go: a namespaced create
 * takes the namespace from the URL), and kubectl sends it to its context's namespace, "default"
 * unless set (k8s.io/cli-runtime pkg/resource Builder.DefaultNamespace). Every kind the table
 * reads (Service, EndpointSlice, Pod) is namespaced, so no object here is cluster-scoped. */
export const DEFAULT_NAMESPACE = "default";

/** The object's namespace, "default" when it has none (see DEFAULT_NAMESPACE). */
export function namespaceOf(object: NamedObject): string {
  const namespace = object.metadata?.namespace;
  return typeof namespace === "string" && namespace !== "" ? namespace : DEFAULT_NAMESPACE;
}

/** "namespace/name", the key of an object in the store and of a service in RoutingTable.services;
 * undefined for an object without a name, which cannot be stored. */
export function objectKey(object: NamedObject): string | undefined {
  const name = object.metadata?.name;
  if (typeof name !== "string" || name === "") return undefined;
  return serviceKey(namespaceOf(object), name);
}

/** The namespace part of a key made by objectKey. */
export function keyNamespace(key: string): string {
  return key.slice(0, key.indexOf("/"));
}

/** Unchanged: the same object, or the same uid and resourceVersion (a re-list returns new objects
 * with the same resourceVersion when nothing changed; every change gets a new one). An object
 * without a resourceVersion (a file, a test) is unchanged only as the same object. */
export function sameObject(a: NamedObject | undefined, b: NamedObject | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const rv = a.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" && rv === b.metadata?.resourceVersion && a.metadata?.uid === b.metadata?.uid;
}

export function sameList(a: readonly NamedObject[], b: readonly NamedObject[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameObject(a[i], b[i])) return false;
  return true;
}

export function byName(a: NamedObject, b: NamedObject): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}
