// Which resource a request path names, as the API server lays them out: /api/v1/services,
// /api/v1/namespaces/{ns}/services, /api/v1/namespaces/{ns}/services/{name}, .../{name}/scale,
// /api/v1/namespaces/{name} (a cluster-scoped resource), /apis/apps/v1/deployments, ...

import type { WatchedResource } from "../watched-resources.ts";
import { servedResource, servedResources, type ServedResource } from "./fake-resources.ts";

export interface ApiPath {
  readonly resource: ServedResource;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: "scale" | "status";
}

export function resourceForKind(kind: string): ServedResource | undefined {
  return servedResource(kind);
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
  // /api/v1/namespaces/{ns}/{resource}...; /api/v1/namespaces/{name} itself is the Namespace.
  if (tail[0] === "namespaces" && tail.length >= 3) {
    namespace = tail[1]!;
    tail = tail.slice(2);
  }
  if (tail.length < 1 || tail.length > 3) return undefined;
  const resource = servedResources.find((r) => r.group === group && r.version === version && r.resource === tail[0]);
  if (resource === undefined) return undefined;
  const name = tail[1];
  const subresource = tail[2];
  if (resource.namespaced && name !== undefined && namespace === undefined) return undefined;
  if (!resource.namespaced && namespace !== undefined) return undefined;
  if (subresource !== undefined && !((subresource === "scale" && resource.scale) || (subresource === "status" && resource.status))) return undefined;
  return {
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource: subresource as "scale" | "status" }),
  };
}

/** "v1" or "discovery.k8s.io/v1". */
export function apiVersionOf(resource: WatchedResource): string {
  return resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
}
