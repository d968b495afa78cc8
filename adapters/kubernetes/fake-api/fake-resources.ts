// The resources the fake API server serves, with what discovery says of each (APIResourceList
// entries: plural, singular, kind, namespaced, shortNames, verbs, subresources): the three vipr
// watches (watched-resources.ts), what the seed tutorial's kubectl commands touch, and the RBAC
// kinds (rbac.authorization.k8s.io/v1) the authorizer reads when asked to (fake-rbac-authorizer.ts),
// so `kubectl apply -f deploy/sidecar/rbac.yaml` stores them as a cluster does. Every lookup
// in the fake goes through this table, so a path, a stored object and a watch name one resource
// by identity.

import { gatewayApiResources, watchedResources, type WatchedResource } from "../watched-resources.ts";

export interface ServedResource extends WatchedResource {
  readonly singular: string;
  /** false for cluster-scoped resources (Namespaces): no namespace in the path or the key. */
  readonly namespaced: boolean;
  /** What `kubectl get svc` resolves through discovery. */
  readonly shortNames: readonly string[];
  /** The scale subresource (autoscaling/v1 Scale), for `kubectl scale`. */
  readonly scale: boolean;
  /** The status subresource: a write to the main resource keeps status, one to /status keeps spec. */
  readonly status: boolean;
}

const watched = (kind: string, extra: Omit<ServedResource, keyof WatchedResource>): ServedResource => Object.freeze({ ...watchedResources.find((r) => r.kind === kind)!, ...extra });

const core = (resource: string, kind: string, extra: Omit<ServedResource, keyof WatchedResource>): ServedResource =>
  Object.freeze({ group: "", version: "v1", resource, kind, verbs: ["get", "list", "watch"] as const, optional: true, ...extra });

const apps = (resource: string, kind: string, extra: Omit<ServedResource, keyof WatchedResource>): ServedResource =>
  Object.freeze({ group: "apps", version: "v1", resource, kind, verbs: ["get", "list", "watch"] as const, optional: true, ...extra });

const rbac = (resource: string, kind: string, extra: Omit<ServedResource, keyof WatchedResource>): ServedResource =>
  Object.freeze({ group: "rbac.authorization.k8s.io", version: "v1", resource, kind, verbs: ["get", "list", "watch"] as const, optional: true, ...extra });
/** A Gateway API kind (watched-resources.ts gatewayApiResources), with its status subresource. */
const gatewayApi = (kind: string, singular: string, namespaced: boolean, shortNames: readonly string[], status: boolean): ServedResource =>
  Object.freeze({ ...gatewayApiResources.find((r) => r.kind === kind)!, singular, namespaced, shortNames, scale: false, status });

export const servedResources: readonly ServedResource[] = Object.freeze([
  core("namespaces", "Namespace", { singular: "namespace", namespaced: false, shortNames: ["ns"], scale: false, status: true }),
  watched("Service", { singular: "service", namespaced: true, shortNames: ["svc"], scale: false, status: true }),
  watched("Pod", { singular: "pod", namespaced: true, shortNames: ["po"], scale: false, status: true }),
  core("replicationcontrollers", "ReplicationController", { singular: "replicationcontroller", namespaced: true, shortNames: ["rc"], scale: true, status: true }),
  watched("EndpointSlice", { singular: "endpointslice", namespaced: true, shortNames: [], scale: false, status: false }),
  apps("replicasets", "ReplicaSet", { singular: "replicaset", namespaced: true, shortNames: ["rs"], scale: true, status: true }),
  apps("deployments", "Deployment", { singular: "deployment", namespaced: true, shortNames: ["deploy"], scale: true, status: true }),
  core("endpoints", "Endpoints", { singular: "endpoints", namespaced: true, shortNames: ["ep"], scale: false, status: false }),
  core("secrets", "Secret", { singular: "secret", namespaced: true, shortNames: [], scale: false, status: false }),
  core("serviceaccounts", "ServiceAccount", { singular: "serviceaccount", namespaced: true, shortNames: ["sa"], scale: false, status: false }),
  rbac("roles", "Role", { singular: "role", namespaced: true, shortNames: [], scale: false, status: false }),
  rbac("rolebindings", "RoleBinding", { singular: "rolebinding", namespaced: true, shortNames: [], scale: false, status: false }),
  rbac("clusterroles", "ClusterRole", { singular: "clusterrole", namespaced: false, shortNames: [], scale: false, status: false }),
  rbac("clusterrolebindings", "ClusterRoleBinding", { singular: "clusterrolebinding", namespaced: false, shortNames: [], scale: false, status: false }),
  gatewayApi("GatewayClass", "gatewayclass", false, ["gc"], true),
  gatewayApi("Gateway", "gateway", true, ["gtw"], true),
  gatewayApi("HTTPRoute", "httproute", true, [], true),
  gatewayApi("GRPCRoute", "grpcroute", true, [], true),
  gatewayApi("ReferenceGrant", "referencegrant", true, ["refgrant"], false),
]);

/** By kind ("Service") or plural ("services"). */
export function servedResource(kindOrResource: string): ServedResource | undefined {
  return servedResources.find((r) => r.kind === kindOrResource || r.resource === kindOrResource);
}

/** Every verb the fake answers for a served resource (APIResourceList.verbs). */
export const resourceVerbs = Object.freeze(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]);
