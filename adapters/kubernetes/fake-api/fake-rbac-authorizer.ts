// Authorization as a cluster's API server does it with --authorization-mode=RBAC: the user's
// groups first (system:masters may do anything), then every ClusterRoleBinding, then, for a
// request in a namespace, every RoleBinding there; the request is allowed as soon as one rule of
// one bound role covers it. Rules only ever add (RBAC has no deny), so the order does not change
// the answer, only how soon it is found. A binding whose role does not exist grants nothing and
// is named in the denial's reason, as the RBAC authorizer's "RBAC: ... not found".
//
// Discovery stays open, as the bootstrap policy keeps it: system:discovery (/api, /apis,
// /openapi, /version, ...) for every authenticated user and system:public-info-viewer
// (/healthz, /livez, /readyz, /version) for everyone, so a client learns what the server serves
// before it is told what it may do. They are built in, not stored objects, so listing
// ClusterRoles shows only what a test applied.

import { mastersGroup, type FakeUser } from "./fake-authentication.ts";
import type { FakeObjectState, StoredObject } from "./fake-object-state.ts";
import type { RequestInfo } from "./fake-request-info.ts";
import { servedResource } from "./fake-resources.ts";
import { ruleAllows, subjectIs } from "./fake-rbac-rules.ts";
import { statusResponse } from "./fake-status.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const roles = servedResource("Role")!;
const roleBindings = servedResource("RoleBinding")!;
const clusterRoles = servedResource("ClusterRole")!;
const clusterRoleBindings = servedResource("ClusterRoleBinding")!;

const bootstrapRules: readonly { readonly group: string; readonly rule: Obj }[] = [
  { group: "system:authenticated", rule: { verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"] } },
  { group: "system:unauthenticated", rule: { verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"] } },
];

export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** Why nothing allowed it, when a binding's role is missing ("" otherwise). */
  readonly reason: string;
}

export function authorize(state: FakeObjectState, user: FakeUser, info: RequestInfo): AuthorizationDecision {
  if (user.groups.includes(mastersGroup)) return { allowed: true, reason: "" };
  if (!info.resourceRequest && bootstrapRules.some((b) => user.groups.includes(b.group) && ruleAllows(b.rule, info))) return { allowed: true, reason: "" };
  const errors: string[] = [];
  const allows = (binding: StoredObject, bindingNamespace: string): boolean => {
    const object = binding.object as Obj;
    if (!list(object["subjects"]).some((s) => subjectIs(s, user, bindingNamespace))) return false;
    const ref = obj(object["roleRef"]);
    const name = String(ref?.["name"] ?? "");
    // A RoleBinding may name a Role of its namespace or a ClusterRole (then read in its namespace only).
    const role = ref?.["kind"] === "Role" && bindingNamespace !== "" ? state.get(roles, bindingNamespace, name) : ref?.["kind"] === "ClusterRole" ? state.get(clusterRoles, "", name) : undefined;
    if (role === undefined) {
      errors.push(`${ref?.["kind"] === "Role" ? "role" : "clusterrole"}.rbac.authorization.k8s.io "${name}" not found`);
      return false;
    }
    return list((role.object as Obj)["rules"]).some((rule) => ruleAllows(rule, info));
  };
  for (const binding of state.list(clusterRoleBindings)) if (allows(binding, "")) return { allowed: true, reason: "" };
  const namespace = info.resourceRequest ? info.namespace : "";
  if (namespace !== "") for (const binding of state.list(roleBindings, namespace)) if (allows(binding, namespace)) return { allowed: true, reason: "" };
  // utilerrors.NewAggregate: one error as itself, several in brackets.
  const reason = errors.length === 0 ? "" : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`}`;
  return { allowed: false, reason };
}

/**
 * The 403 the API server writes for a denied request (apiserver endpoints/handlers/responsewriters
 * forbiddenMessage, and apimachinery NewForbidden):
 *   services is forbidden: User "system:serviceaccount:default:vipr" cannot list resource "services" in API group "" at the cluster scope
 */
export function forbiddenResponse(user: FakeUser, info: RequestInfo, reason: string): Response {
  let what: string;
  if (!info.resourceRequest) {
    what = `User "${user.name}" cannot ${info.verb} path "${info.path}"`;
  } else {
    const resource = info.subresource === "" ? info.resource : `${info.resource}/${info.subresource}`;
    const where = info.namespace === "" ? "at the cluster scope" : `in the namespace "${info.namespace}"`;
    what = `User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}" ${where}`;
  }
  const error = reason === "" ? what : `${what}: ${reason}`;
  if (!info.resourceRequest) return statusResponse({ code: 403, reason: "Forbidden", message: `forbidden: ${error}`, details: {} });
  const qualified = info.apiGroup === "" ? info.resource : `${info.resource}.${info.apiGroup}`;
  const message = info.name === "" ? `${qualified} is forbidden: ${error}` : `${qualified} "${info.name}" is forbidden: ${error}`;
  const details = { ...(info.name === "" ? {} : { name: info.name }), ...(info.apiGroup === "" ? {} : { group: info.apiGroup }), kind: info.resource };
  return statusResponse({ code: 403, reason: "Forbidden", message, details });
}
