// Server-side printing: kubectl asks for lists, gets and watches `as=Table` (meta.k8s.io/v1,
// else v1beta1) and prints the columns the server chose, as pkg/printers/internalversion does:
// `kubectl get pods` shows NAME READY STATUS RESTARTS AGE only because the server sent them.
// Each row carries the object's metadata (PartialObjectMetadata), which kubectl reads for -L and
// --show-labels. Columns with priority 1 are those of `-o wide`.

import type { ServedResource } from "./fake-resources.ts";
import { selectorString, workloadSelector } from "./fake-workload-objects.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The Table version an Accept header asks for, or undefined for plain objects. */
export function tableVersion(accept: string | null): "v1" | "v1beta1" | undefined {
  for (const part of (accept ?? "").split(",")) {
    const params = part.split(";").map((p) => p.trim());
    if (!params.includes("as=Table") || !params.includes("g=meta.k8s.io")) continue;
    if (params.includes("v=v1")) return "v1";
    if (params.includes("v=v1beta1")) return "v1beta1";
  }
  return undefined;
}

interface Column {
  readonly name: string;
  readonly type: "string" | "integer";
  readonly priority?: 1;
  readonly cell: (object: Obj, now: number) => string | number;
}

/** duration.HumanDuration, as kubectl's AGE column: 45s, 3m20s, 17m, 5h3m, 3d. */
export function humanAge(object: Obj, now: number): string {
  const created = Date.parse(String(obj(object["metadata"])?.["creationTimestamp"] ?? ""));
  if (Number.isNaN(created)) return "<unknown>";
  const seconds = Math.max(0, Math.floor((now - created) / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (hours < 3) return `${minutes}m`;
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

const spec = (o: Obj): Obj => obj(o["spec"]) ?? {};
const status = (o: Obj): Obj => obj(o["status"]) ?? {};
const name: Column = { name: "Name", type: "string", cell: (o) => String(obj(o["metadata"])?.["name"] ?? "") };
const age: Column = { name: "Age", type: "string", cell: humanAge };
const containers = (o: Obj): Obj[] => list(obj(obj(spec(o)["template"])?.["spec"])?.["containers"]).map((c) => obj(c) ?? {});

function podReady(o: Obj): string {
  const total = list(spec(o)["containers"]).length;
  const ready = list(status(o)["conditions"]).some((c) => obj(c)?.["type"] === "Ready" && obj(c)?.["status"] === "True");
  return `${ready ? total : 0}/${total}`;
}

const columnsByKind: Readonly<Record<string, readonly Column[]>> = {
  Namespace: [name, { name: "Status", type: "string", cell: (o) => String(status(o)["phase"] ?? "") }, age],
  Pod: [
    name,
    { name: "Ready", type: "string", cell: podReady },
    { name: "Status", type: "string", cell: (o) => (obj(o["metadata"])?.["deletionTimestamp"] !== undefined ? "Terminating" : String(status(o)["phase"] ?? "Pending")) },
    { name: "Restarts", type: "string", cell: () => "0" },
    age,
    { name: "IP", type: "string", priority: 1, cell: (o) => String(status(o)["podIP"] ?? "<none>") },
    { name: "Node", type: "string", priority: 1, cell: (o) => String(spec(o)["nodeName"] ?? "<none>") },
  ],
  Service: [
    name,
    { name: "Type", type: "string", cell: (o) => String(spec(o)["type"] ?? "ClusterIP") },
    { name: "Cluster-IP", type: "string", cell: (o) => String(spec(o)["clusterIP"] ?? "<none>") },
    { name: "External-IP", type: "string", cell: (o) => String(spec(o)["externalName"] ?? "<none>") },
    { name: "Port(s)", type: "string", cell: (o) => list(spec(o)["ports"]).map((p) => `${obj(p)?.["port"]}/${obj(p)?.["protocol"] ?? "TCP"}`).join(",") || "<none>" },
    age,
    { name: "Selector", type: "string", priority: 1, cell: (o) => selectorString(Object.fromEntries(Object.entries(obj(spec(o)["selector"]) ?? {}).map(([k, v]) => [k, String(v)]))) || "<none>" },
  ],
  EndpointSlice: [
    name,
    { name: "AddressType", type: "string", cell: (o) => String(o["addressType"] ?? "") },
    { name: "Ports", type: "string", cell: (o) => list(o["ports"]).map((p) => String(obj(p)?.["port"])).join(",") || "<unset>" },
    { name: "Endpoints", type: "string", cell: (o) => list(o["endpoints"]).flatMap((e) => list(obj(e)?.["addresses"])).join(",") || "<unset>" },
    age,
  ],
  ReplicationController: workloadColumns(),
  ReplicaSet: workloadColumns(),
  Deployment: [
    name,
    { name: "Ready", type: "string", cell: (o) => `${status(o)["readyReplicas"] ?? 0}/${spec(o)["replicas"] ?? 0}` },
    { name: "Up-to-date", type: "integer", cell: (o) => Number(status(o)["updatedReplicas"] ?? 0) },
    { name: "Available", type: "integer", cell: (o) => Number(status(o)["availableReplicas"] ?? 0) },
    age,
    { name: "Containers", type: "string", priority: 1, cell: (o) => containers(o).map((c) => String(c["name"])).join(",") },
    { name: "Images", type: "string", priority: 1, cell: (o) => containers(o).map((c) => String(c["image"])).join(",") },
  ],
};

function workloadColumns(): readonly Column[] {
  return [
    name,
    { name: "Desired", type: "integer", cell: (o) => Number(spec(o)["replicas"] ?? 0) },
    { name: "Current", type: "integer", cell: (o) => Number(status(o)["replicas"] ?? 0) },
    { name: "Ready", type: "integer", cell: (o) => Number(status(o)["readyReplicas"] ?? 0) },
    age,
    { name: "Containers", type: "string", priority: 1, cell: (o) => containers(o).map((c) => String(c["name"])).join(",") },
    { name: "Images", type: "string", priority: 1, cell: (o) => containers(o).map((c) => String(c["image"])).join(",") },
    { name: "Selector", type: "string", priority: 1, cell: (o) => selectorString(workloadSelector(o)) },
  ];
}

/** A Table of `objects` (full objects, with kind), with the list's metadata. */
export function tableOf(resource: ServedResource, objects: readonly Obj[], listMeta: Obj, version: "v1" | "v1beta1", now: number): Obj {
  const columns = columnsByKind[resource.kind] ?? [name, age];
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${version}`,
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c === name ? "name" : "", description: "", priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object: { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${version}`, metadata: o["metadata"] },
    })),
  };
}
