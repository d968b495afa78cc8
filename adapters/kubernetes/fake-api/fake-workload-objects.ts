// Small pieces of the API server's and controllers' object handling that several parts of the
// fake share: generated names (metadata.generateName), the autoscaling/v1 Scale view of a
// workload, and a workload's selector as a label matcher.

import type { StoredObject } from "./fake-object-state.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);

// The alphabet of k8s.io/apimachinery/pkg/util/rand.String: no vowels, no look-alike digits.
const alphabet = "bcdfghjklmnpqrstvwxz2456789";

/** `prefix` and five random characters, as the API server names an object from generateName. */
export function generatedName(prefix: string): string {
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `${prefix}${suffix}`;
}

/** The selector of an RC (a map) or an apps/v1 workload (matchLabels), as equality pairs. */
export function workloadSelector(object: Readonly<Obj>): Record<string, string> {
  const selector = obj(obj(object["spec"])?.["selector"]) ?? {};
  const pairs = object["kind"] === "ReplicationController" ? selector : (obj(selector["matchLabels"]) ?? {});
  return Object.fromEntries(Object.entries(pairs).map(([k, v]) => [k, String(v)]));
}

/** labels.SelectorFromSet(...).String(): "app=sise,tier=web", keys sorted. */
export function selectorString(pairs: Readonly<Record<string, string>>): string {
  return Object.keys(pairs).sort().map((k) => `${k}=${pairs[k]}`).join(",");
}

/** The Scale subresource of a workload (GET and the answer to PUT/PATCH .../scale). */
export function scaleOf(stored: StoredObject): Obj {
  const object = stored.object as Obj;
  const metadata = obj(object["metadata"]) ?? {};
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: stored.name, namespace: stored.namespace, uid: metadata["uid"], resourceVersion: metadata["resourceVersion"], creationTimestamp: metadata["creationTimestamp"] },
    spec: { replicas: obj(object["spec"])?.["replicas"] ?? 0 },
    status: { replicas: obj(object["status"])?.["replicas"] ?? 0, selector: selectorString(workloadSelector(object)) },
  };
}
