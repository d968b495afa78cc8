// Which resource a request path names, for the resources vipr watches (watched-resources.ts):
// /api/v1/services, /api/v1/namespaces/{ns}/services, /api/v1/namespaces/{ns}/services/{name},
// /apis/discovery.k8s.io/v1/endpointslices, ... as the API server lays them out.

import { watchedResources, type WatchedResource } from "../watched-resources.ts";

export interface ApiPath {
  readonly resource: WatchedResource;
  readonly namespace?: string;
  readonly name?: string;
}

export function resourceForKind(kind: string): WatchedResource | undefined {
  return watchedResources.find((r) => r.kind === kind);
}

export function parseApiPath(pathname: string): ApiPath | undefined {
  const parts = pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    rest = parts.slice(1);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1]!;
    rest = parts.slice(2);
  } else return undefined;
  const version = rest[0]!;
  let namespace: string | undefined;
  let tail = rest.slice(1);
  if (tail[0] === "namespaces" && tail.length >= 3) {
    namespace = tail[1]!;
    tail = tail.slice(2);
  }
  if (tail.length < 1 || tail.length > 2) return undefined;
  const resource = watchedResources.find((r) => r.group === group && r.version === version && r.resource === tail[0]);
  if (resource === undefined) return undefined;
  const name = tail[1];
  if (name !== undefined && namespace === undefined) return undefined;
  return { resource, ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }) };
}

/** "v1" or "discovery.k8s.io/v1". */
export function apiVersionOf(resource: WatchedResource): string {
  return resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
}
