// RoutingInputIndex: the objects of a routing table kept by what each service's entry is built
// from (Service by key, EndpointSlices by the service their label names, Pods by key and by
// namespace), plus the keys each write touched since the last takeChanges(). A source writes every
// object change into it and then calls updateRoutingTable(previous, index, index.takeChanges()),
// so a change costs its own services whatever the size of the cluster. Pure: no I/O.

import type { KubeEndpointSlice, KubeObjectMeta, KubePod, KubeService } from "./kubernetes-objects.ts";
import { serviceNameLabel } from "./kubernetes-objects.ts";
import type { RoutingTableInput } from "./build-routing-table.ts";
import type { EndpointsFrom } from "./routing-table.ts";
import { serviceKey } from "./routing-table.ts";
import type { RoutingTableChanges, RoutingTableIndex } from "./update-routing-table.ts";

interface NamedObject {
  readonly metadata?: KubeObjectMeta | null | undefined;
}

/** "namespace/name" as the table builder keys objects (no namespace: "default"); undefined for a
 * nameless object, which no index can hold. */
function keyOf(object: NamedObject): string | undefined {
  const meta = object.metadata;
  const name = meta?.name;
  if (typeof name !== "string" || name === "") return undefined;
  return serviceKey(typeof meta?.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default", name);
}

/** The service a slice's kubernetes.io/service-name label names; undefined when it names none. */
function ownerOf(slice: KubeEndpointSlice, sliceKey: string): string | undefined {
  const label = slice.metadata?.labels?.[serviceNameLabel];
  if (typeof label !== "string" || label === "") return undefined;
  return serviceKey(sliceKey.slice(0, sliceKey.indexOf("/")), label);
}

function addTo<T>(groups: Map<string, Map<string, T>>, group: string, key: string, value: T): void {
  let members = groups.get(group);
  if (members === undefined) groups.set(group, (members = new Map()));
  members.set(key, value);
}

function deleteFrom<T>(groups: Map<string, Map<string, T>>, group: string, key: string): void {
  const members = groups.get(group);
  members?.delete(key);
  if (members?.size === 0) groups.delete(group);
}

/**
 * @example
 * const index = new RoutingInputIndex("EndpointSlices");
 * index.setService(service);
 * index.setSlice(slice);
 * table = updateRoutingTable(table, index, index.takeChanges());
 */
export class RoutingInputIndex implements RoutingTableIndex {
  readonly endpointsFrom: EndpointsFrom;
  readonly #services = new Map<string, KubeService>();
  readonly #slices = new Map<string, KubeEndpointSlice>();
  /** Service key -> slice key -> slice. */
  readonly #slicesByService = new Map<string, Map<string, KubeEndpointSlice>>();
  /** Slice key -> the service its label named when it was stored (undefined: none). */
  readonly #sliceOwner = new Map<string, string | undefined>();
  readonly #orphanSlices = new Map<string, KubeEndpointSlice>();
  readonly #pods = new Map<string, KubePod>();
  readonly #podsByNamespace = new Map<string, Map<string, KubePod>>();
  #changedServices = new Set<string>();
  #changedPods = new Set<string>();

  constructor(endpointsFrom: EndpointsFrom = "EndpointSlices") {
    this.endpointsFrom = endpointsFrom;
  }

  setService(service: KubeService): void {
    const key = keyOf(service);
    if (key === undefined) return;
    this.#services.set(key, service);
    this.#changedServices.add(key);
  }

  deleteService(service: KubeService): void {
    const key = keyOf(service);
    if (key === undefined || !this.#services.delete(key)) return;
    this.#changedServices.add(key);
  }

  /** A slice changes its service, and the one it named before when its label changed. */
  setSlice(slice: KubeEndpointSlice): void {
    const key = keyOf(slice);
    if (key === undefined) return;
    this.deleteSlice(slice);
    const owner = ownerOf(slice, key);
    this.#slices.set(key, slice);
    this.#sliceOwner.set(key, owner);
    if (owner === undefined) this.#orphanSlices.set(key, slice);
    else {
      addTo(this.#slicesByService, owner, key, slice);
      this.#changedServices.add(owner);
    }
  }

  deleteSlice(slice: KubeEndpointSlice): void {
    const key = keyOf(slice);
    if (key === undefined || !this.#slices.delete(key)) return;
    const owner = this.#sliceOwner.get(key);
    this.#sliceOwner.delete(key);
    if (owner === undefined) this.#orphanSlices.delete(key);
    else {
      deleteFrom(this.#slicesByService, owner, key);
      this.#changedServices.add(owner);
    }
  }

  setPod(pod: KubePod): void {
    const key = keyOf(pod);
    if (key === undefined) return;
    this.#pods.set(key, pod);
    addTo(this.#podsByNamespace, key.slice(0, key.indexOf("/")), key, pod);
    this.#changedPods.add(key);
  }

  deletePod(pod: KubePod): void {
    const key = keyOf(pod);
    if (key === undefined || !this.#pods.delete(key)) return;
    deleteFrom(this.#podsByNamespace, key.slice(0, key.indexOf("/")), key);
    this.#changedPods.add(key);
  }

  /** The keys written since the last call, for updateRoutingTable. */
  takeChanges(): RoutingTableChanges {
    const changes = { services: this.#changedServices, pods: this.#changedPods };
    this.#changedServices = new Set();
    this.#changedPods = new Set();
    return changes;
  }

  service(key: string): KubeService | undefined {
    return this.#services.get(key);
  }

  slicesOf(serviceKey: string): Iterable<KubeEndpointSlice> {
    return this.#slicesByService.get(serviceKey)?.values() ?? [];
  }

  pod(key: string): KubePod | undefined {
    return this.#pods.get(key);
  }

  podsIn(namespace: string): Iterable<KubePod> {
    return this.#podsByNamespace.get(namespace)?.values() ?? [];
  }

  slicesWithoutService(): Iterable<KubeEndpointSlice> {
    return this.#orphanSlices.values();
  }

  input(): RoutingTableInput {
    return { services: this.#services.values(), endpointSlices: this.#slices.values(), pods: this.#pods.values(), endpointsFrom: this.endpointsFrom };
  }
}
