// What an API request asks for, as the API server's authorizer sees it (apiserver
// pkg/endpoints/request RequestInfoFactory): a resource request (verb, API group, version,
// namespace, resource, subresource, name) or a non-resource request (a path such as /version).
// Worked out from the method and path alone, before the server knows whether the resource exists,
// so a forbidden request for a resource the server does not hold is 403, not 404, as on a cluster.
//
// The rules followed:
// - GET and HEAD are "get"; without a name they become "list", or "watch" with watch=true; a
//   fieldSelector `metadata.name=X` then names the object (so resourceNames rules apply to it).
// - POST is "create", PUT "update", PATCH "patch", DELETE "delete", or "deletecollection"
//   without a name.
// - /api/v1/namespaces/{ns}/... is in namespace {ns}; so is /api/v1/namespaces/{ns} itself (a
//   Namespace is reached "in" its own namespace), and its status and finalize subresources.

export type RequestVerb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface ResourceRequestInfo {
  readonly resourceRequest: true;
  readonly verb: RequestVerb;
  readonly apiGroup: string;
  readonly apiVersion: string;
  /** "" at the cluster scope. */
  readonly namespace: string;
  readonly resource: string;
  /** "" when none. */
  readonly subresource: string;
  /** "" when none. */
  readonly name: string;
}

export interface NonResourceRequestInfo {
  readonly resourceRequest: false;
  /** The HTTP method, lower case ("get", "post", ...), as RBAC's nonResourceURLs rules see it. */
  readonly verb: string;
  readonly path: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

const methodVerbs: Readonly<Record<string, RequestVerb>> = { GET: "get", HEAD: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };
const namespaceSubresources = new Set(["status", "finalize"]);

export function requestInfo(method: string, url: URL): RequestInfo {
  const nonResource: NonResourceRequestInfo = { resourceRequest: false, verb: method.toLowerCase(), path: url.pathname };
  const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  let apiGroup: string;
  let rest: string[];
  // /api/v1/... is the core group; /apis/{group}/{version}/... the others. /api and /api/v1
  // alone (discovery) are non-resource paths.
  if (parts[0] === "api" && parts.length >= 3) {
    apiGroup = "";
    rest = parts.slice(1);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    apiGroup = parts[1]!;
    rest = parts.slice(2);
  } else return nonResource;
  let verb = methodVerbs[method.toUpperCase()];
  if (verb === undefined) return nonResource;
  const apiVersion = rest[0]!;
  let current = rest.slice(1);
  let namespace = "";
  if (current[0] === "namespaces" && current.length > 1) {
    namespace = current[1]!;
    if (current.length > 2 && !namespaceSubresources.has(current[2]!)) current = current.slice(2);
  }
  const resource = current[0] ?? "";
  let name = current[1] ?? "";
  const subresource = current[2] ?? "";
  if (name === "" && verb === "get") {
    const watch = url.searchParams.get("watch");
    verb = watch === "true" || watch === "1" ? "watch" : "list";
    const byName = /^(?:metadata\.name)(?:==?)([^,]+)$/.exec(url.searchParams.get("fieldSelector") ?? "");
    if (byName !== null) name = byName[1]!;
  }
  if (name === "" && verb === "delete") verb = "deletecollection";
  return { resourceRequest: true, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}
