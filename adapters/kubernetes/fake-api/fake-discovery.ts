// Discovery, as kubectl reads it before any other request: /version, /api and /apis (the groups),
// /api/v1 and /apis/{group}/{version} (APIResourceList: each resource's plural, singular, kind,
// namespaced, verbs and shortNames, and the scale and status subresources), and the OpenAPI
// documents kubectl asks for to validate and to compute patches.
//
// OpenAPI: /openapi/v3 answers 404, so kubectl (1.27+) falls back to /openapi/v2, which kubectl
// reads as protobuf (openapi_v2.Document). There the fake answers an empty document, a valid
// protobuf of zero bytes: kubectl's schema validation skips a kind the schema does not hold
// (k8s.io/kubectl/pkg/util/openapi/validation: "resource is not present, let's just skip
// validation"), and apply computes strategic merge patches from its compiled-in types, as it does
// for any kind missing from the schema. So `--validate=false` is not needed, and no field is
// validated on the client: the fake's own checks (fake-validation.ts) answer 422 instead.

import { apiVersionOf } from "./fake-paths.ts";
import { resourceVerbs, servedResources, type ServedResource } from "./fake-resources.ts";

/** The server version the fake reports (`kubectl version`). */
export const fakeServerVersion = Object.freeze({
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-fake",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
});

function json(body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": contentType } });
}

function groupVersions(): Map<string, ServedResource[]> {
  const byGroupVersion = new Map<string, ServedResource[]>();
  for (const resource of servedResources) {
    const key = apiVersionOf(resource);
    byGroupVersion.set(key, [...(byGroupVersion.get(key) ?? []), resource]);
  }
  return byGroupVersion;
}

function resourceList(groupVersion: string, resources: readonly ServedResource[]): Record<string, unknown> {
  const entries: Record<string, unknown>[] = [];
  for (const r of resources) {
    entries.push({ name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: resourceVerbs, ...(r.shortNames.length === 0 ? {} : { shortNames: r.shortNames }) });
    // Subresources: the Scale kind lives in autoscaling/v1, which the scale client reads from here.
    if (r.scale) entries.push({ name: `${r.resource}/scale`, singularName: "", namespaced: true, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
    if (r.status) entries.push({ name: `${r.resource}/status`, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: ["get", "patch", "update"] });
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources: entries };
}

/** The answer for a discovery or OpenAPI path, or undefined for any other path. */
export function discoveryResponse(pathname: string, serverAddress: string): Response | undefined {
  const path = pathname.replace(/\/+$/, "");
  if (path === "/version") return json(fakeServerVersion);
  if (path === "/api") return json({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] });
  const versions = groupVersions();
  if (path === "/apis") {
    // One entry per group, with every version it serves (gateway.networking.k8s.io: v1 and v1beta1).
    const byName = new Map<string, { groupVersion: string; version: string }[]>();
    for (const gv of [...versions.keys()].filter((k) => k.includes("/"))) {
      const [name, version] = gv.split("/") as [string, string];
      byName.set(name, [...(byName.get(name) ?? []), { groupVersion: gv, version }]);
    }
    const groups = [...byName].map(([name, list]) => ({ name, versions: list, preferredVersion: list[0]! }));
    return json({ kind: "APIGroupList", apiVersion: "v1", groups });
  }
  const group = /^\/apis\/([^/]+)$/.exec(path)?.[1];
  if (group !== undefined) {
    const list = [...versions.keys()].filter((k) => k.startsWith(`${group}/`)).map((gv) => ({ groupVersion: gv, version: gv.split("/")[1]! }));
    if (list.length === 0) return undefined;
    return json({ kind: "APIGroup", apiVersion: "v1", name: group, versions: list, preferredVersion: list[0]! });
  }
  const gv = path === "/api/v1" ? "v1" : /^\/apis\/([^/]+\/[^/]+)$/.exec(path)?.[1];
  if (gv !== undefined) {
    const resources = versions.get(gv);
    return resources === undefined ? undefined : json(resourceList(gv, resources));
  }
  // An empty openapi_v2.Document: zero bytes of protobuf (see the top of this file).
  if (path === "/openapi/v2") return new Response(new Uint8Array(0), { headers: { "content-type": "application/octet-stream" } });
  return undefined;
}
