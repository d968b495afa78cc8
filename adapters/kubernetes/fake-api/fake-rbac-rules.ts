// Whether one RBAC PolicyRule covers a request, and whether a binding's subject is the user:
// the matching rules of the RBAC authorizer (Kubernetes docs, "Using RBAC Authorization";
// k8s.io/component-helpers/auth/rbac/validation and plugin/pkg/auth/authorizer/rbac). Pure
// functions over plain objects, so the authorizer is only the walk over the bindings.

import type { FakeUser } from "./fake-authentication.ts";
import type { RequestInfo } from "./fake-request-info.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

/** A rule of a Role or ClusterRole (rules[i]) against a request. */
export function ruleAllows(rule: unknown, info: RequestInfo): boolean {
  const r = obj(rule);
  if (r === undefined) return false;
  const verbs = strings(r["verbs"]);
  if (!verbs.includes("*") && !verbs.includes(info.verb)) return false;
  if (!info.resourceRequest) {
    // nonResourceURLs: an exact path, "*", or a prefix ending in "*" ("/healthz/*").
    return strings(r["nonResourceURLs"]).some((url) => url === "*" || url === info.path || (url.endsWith("*") && info.path.startsWith(url.slice(0, -1))));
  }
  const groups = strings(r["apiGroups"]);
  if (!groups.includes("*") && !groups.includes(info.apiGroup)) return false;
  // "pods/log" names a subresource; "*/scale" any resource's scale; "pods" alone never covers a
  // subresource of pods.
  const combined = info.subresource === "" ? info.resource : `${info.resource}/${info.subresource}`;
  const resources = strings(r["resources"]);
  const resourceMatches = resources.some((res) => res === "*" || res === combined || (info.subresource !== "" && res === `*/${info.subresource}`));
  if (!resourceMatches) return false;
  // resourceNames: empty allows every name; else the request must name one of them (a list or a
  // create, which name nothing, is not covered).
  const names = strings(r["resourceNames"]);
  return names.length === 0 || names.includes(info.name);
}

/**
 * Whether a binding's subject (subjects[i]) is the user. A ServiceAccount subject without a
 * namespace means the binding's own namespace (a RoleBinding's), and none at the cluster scope.
 */
export function subjectIs(subject: unknown, user: FakeUser, bindingNamespace: string): boolean {
  const s = obj(subject);
  if (s === undefined) return false;
  const name = s["name"];
  switch (s["kind"]) {
    case "User":
      return name === user.name;
    case "Group":
      return typeof name === "string" && user.groups.includes(name);
    case "ServiceAccount": {
      const namespace = typeof s["namespace"] === "string" && s["namespace"] !== "" ? s["namespace"] : bindingNamespace;
      return namespace !== "" && user.name === `system:serviceaccount:${namespace}:${String(name)}`;
    }
    default:
      return false;
  }
}
