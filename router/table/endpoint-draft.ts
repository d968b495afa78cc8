// An endpoint while a service entry is being built (from EndpointSlices or from Pods), and the last
// step that turns the drafts into the frozen, sorted EndpointEntry list of a ServiceEntry.

import type { AddressType, EndpointEntry, EndpointPortEntry, EndpointTargetRef } from "./routing-table.ts";

export interface EndpointDraft {
  address: string;
  addressType: AddressType;
  /** Identity before collisions are resolved: targetRef name, else hostname, else address. */
  baseIdentity: string;
  ports: EndpointPortEntry[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  zone?: string;
  hostname?: string;
  forZones: readonly string[];
  forNodes: readonly string[];
  targetRef?: EndpointTargetRef;
  labels?: Readonly<Record<string, string>>;
  sliceName?: string;
  /** vipr.io/weight of the Pod or the slice (endpoint-weight.ts); 1 when absent. */
  weight?: number;
}

const emptyList: readonly string[] = Object.freeze([]);

/** Freezes a list of names, sharing one empty list (most endpoints have no hints). */
export function frozenNames(names: readonly string[]): readonly string[] {
  return names.length === 0 ? emptyList : Object.freeze([...names]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Final identities, order and freezing. The identity is what the consistent hash is computed on, so
 * it must be unique within a service: a dual-stack pod appears once per address family with the
 * same name, and then each copy becomes "name@address" (both, so the result does not depend on
 * input order). Sorting by identity then address gives every replica the same list.
 */
export function finalizeEndpoints(drafts: Iterable<EndpointDraft>): readonly EndpointEntry[] {
  const list = [...drafts];
  const uses = new Map<string, number>();
  const count = (key: string): void => void uses.set(key, (uses.get(key) ?? 0) + 1);
  for (const d of list) {
    count(d.baseIdentity);
    count(`${d.baseIdentity}@${d.address}`);
  }
  // Still shared with the address added (one name at one address, several ports: see
  // endpoints-from-slices.ts): the first port number makes it unique.
  const entries = list.map((d): EndpointEntry => {
    const withAddress = `${d.baseIdentity}@${d.address}`;
    const identity =
      (uses.get(d.baseIdentity) ?? 0) <= 1
        ? d.baseIdentity
        : (uses.get(withAddress) ?? 0) <= 1
          ? withAddress
          : `${withAddress}:${d.ports.map((p) => p.port).sort((a, b) => a - b).join(",")}`;
    const entry: { -readonly [K in keyof EndpointEntry]: EndpointEntry[K] } = {
      address: d.address,
      addressType: d.addressType,
      identity,
      ports: Object.freeze(d.ports.slice().sort((a, b) => compare(a.name, b.name))),
      ready: d.ready,
      serving: d.serving,
      terminating: d.terminating,
      hints: Object.freeze({ forZones: d.forZones, forNodes: d.forNodes }),
      weight: d.weight ?? 1,
    };
    if (d.nodeName !== undefined) entry.nodeName = d.nodeName;
    if (d.zone !== undefined) entry.zone = d.zone;
    if (d.hostname !== undefined) entry.hostname = d.hostname;
    if (d.targetRef !== undefined) entry.targetRef = d.targetRef;
    if (d.labels !== undefined) entry.labels = d.labels;
    if (d.sliceName !== undefined) entry.sliceName = d.sliceName;
    return Object.freeze(entry);
  });
  entries.sort((a, b) => compare(a.identity, b.identity) || compare(a.address, b.address));
  return Object.freeze(entries);
}
