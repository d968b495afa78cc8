// What the Kubernetes source asks of the API server: the resources it lists and watches and the
// verbs it uses. The list/watch loop reads its paths from here, and deploy/'s RBAC rules are
// tested against it, so the ClusterRole grants exactly what vipr requests and nothing more.

export interface WatchedResource {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, as in the API path and in RBAC rules. */
  readonly resource: string;
  readonly kind: string;
  readonly verbs: readonly ("get" | "list" | "watch")[];
  /** Pods are only watched when pod labels are needed (request-time subsets). */
  readonly optional: boolean;
  /** Sent with every list and watch: only objects with these fields are read. */
  readonly fieldSelector?: string;
}

export const watchedResources: readonly WatchedResource[] = Object.freeze([
  { group: "", version: "v1", resource: "services", kind: "Service", verbs: ["get", "list", "watch"], optional: false },
  { group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice", verbs: ["get", "list", "watch"], optional: false },
  { group: "", version: "v1", resource: "pods", kind: "Pod", verbs: ["get", "list", "watch"], optional: true },
]);

/** What the Gateway API source (gateway-api-source.ts, `vipr serve --gateway-api`) lists and
 * watches: vipr's gateway configuration, and Namespaces for their labels (a listener's
 * allowedRoutes namespace selector). Apart from watchedResources: a sidecar never reads them. */
export const gatewayApiResources: readonly WatchedResource[] = Object.freeze([
  { group: "gateway.networking.k8s.io", version: "v1", resource: "gatewayclasses", kind: "GatewayClass", verbs: ["get", "list", "watch"], optional: false },
  { group: "gateway.networking.k8s.io", version: "v1", resource: "gateways", kind: "Gateway", verbs: ["get", "list", "watch"], optional: false },
  { group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes", kind: "HTTPRoute", verbs: ["get", "list", "watch"], optional: false },
  { group: "gateway.networking.k8s.io", version: "v1", resource: "grpcroutes", kind: "GRPCRoute", verbs: ["get", "list", "watch"], optional: false },
  { group: "gateway.networking.k8s.io", version: "v1beta1", resource: "referencegrants", kind: "ReferenceGrant", verbs: ["get", "list", "watch"], optional: false },
  { group: "", version: "v1", resource: "namespaces", kind: "Namespace", verbs: ["get", "list", "watch"], optional: false },
  // The certificates of HTTPS listeners. Only Secrets of type kubernetes.io/tls are listed (the
  // API server's `type` field selector), so no other Secret ever reaches vipr's memory; RBAC
  // cannot narrow a grant by type, so the ClusterRole still allows reading every Secret
  // (deploy/gateway/rbac.yaml says so).
  { group: "", version: "v1", resource: "secrets", kind: "Secret", verbs: ["get", "list", "watch"], optional: false, fieldSelector: "type=kubernetes.io/tls" },
]);

/** The status subresources the Gateway API status writer (gateway-api-status.ts) patches: the
 * objects vipr programs; ReferenceGrants and Namespaces have no status vipr writes. */
export const gatewayApiStatusResources: readonly { readonly group: string; readonly resource: string; readonly verbs: readonly "patch"[] }[] = Object.freeze([
  { group: "gateway.networking.k8s.io", resource: "gatewayclasses/status", verbs: ["patch"] },
  { group: "gateway.networking.k8s.io", resource: "gateways/status", verbs: ["patch"] },
  { group: "gateway.networking.k8s.io", resource: "httproutes/status", verbs: ["patch"] },
  { group: "gateway.networking.k8s.io", resource: "grpcroutes/status", verbs: ["patch"] },
]);

/** The collection path of a resource, cluster-wide or in one namespace. */
export function collectionPath(resource: WatchedResource, namespace?: string): string {
  const base = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return namespace === undefined ? `${base}/${resource.resource}` : `${base}/namespaces/${namespace}/${resource.resource}`;
}
