// The API server's validation of RBAC objects (pkg/apis/rbac/validation), for what the authorizer
// reads: each rule has verbs, and either API groups and resources or (in a ClusterRole only)
// non-resource URLs; a binding's roleRef names a Role or ClusterRole of rbac.authorization.k8s.io
// and cannot change once written; each subject is a User, Group or ServiceAccount (a
// ClusterRoleBinding's ServiceAccount names its namespace).

import type { ServedResource } from "./fake-resources.ts";
import type { FieldCause } from "./fake-validation.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const rbacGroup = "rbac.authorization.k8s.io";

/** RBAC names are path segments (ValidateRBACName), so "system:discovery" is a valid name. */
export function rbacNameProblem(name: string): string | undefined {
  if (name === "." || name === "..") return `may not be '${name}'`;
  for (const bad of ["/", "%"]) if (name.includes(bad)) return `may not contain '${bad}'`;
  return undefined;
}

export function validateRbacObject(resource: ServedResource, object: Obj, old: Obj | undefined): FieldCause[] {
  const causes: FieldCause[] = [];
  const required = (field: string, detail: string): void => void causes.push({ reason: "FieldValueRequired", field, message: `Required value: ${detail}` });
  const invalid = (field: string, value: unknown, detail: string): void => void causes.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
  const notSupported = (field: string, value: unknown, supported: readonly string[]): void =>
    void causes.push({ reason: "FieldValueNotSupported", field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}` });

  if (resource.kind === "Role" || resource.kind === "ClusterRole") {
    list(object["rules"]).forEach((value, i) => {
      const rule = obj(value) ?? {};
      const at = `rules[${i}]`;
      const length = (key: string): number => list(rule[key]).length;
      if (length("verbs") === 0) required(`${at}.verbs`, "verbs must contain at least one value");
      if (length("nonResourceURLs") > 0) {
        if (resource.kind === "Role") invalid(`${at}.nonResourceURLs`, rule["nonResourceURLs"], "namespaced rules cannot apply to non-resource URLs");
        if (length("apiGroups") > 0 || length("resources") > 0) invalid(`${at}.nonResourceURLs`, rule["nonResourceURLs"], "rules cannot apply to both regular resources and non-resource URLs");
        return;
      }
      if (length("apiGroups") === 0) required(`${at}.apiGroups`, "resource rules must supply at least one api group");
      if (length("resources") === 0) required(`${at}.resources`, "resource rules must supply at least one resource");
    });
    return causes;
  }

  const roleRef = obj(object["roleRef"]) ?? {};
  if (roleRef["apiGroup"] !== rbacGroup) notSupported("roleRef.apiGroup", roleRef["apiGroup"] ?? "", [rbacGroup]);
  const kinds = resource.kind === "RoleBinding" ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(String(roleRef["kind"]))) notSupported("roleRef.kind", roleRef["kind"] ?? "", kinds);
  if (typeof roleRef["name"] !== "string" || roleRef["name"] === "") required("roleRef.name", "");
  if (old !== undefined && JSON.stringify(old["roleRef"]) !== JSON.stringify(object["roleRef"])) invalid("roleRef", object["roleRef"], "cannot change roleRef");
  list(object["subjects"]).forEach((value, i) => {
    const subject = obj(value) ?? {};
    const at = `subjects[${i}]`;
    if (typeof subject["name"] !== "string" || subject["name"] === "") required(`${at}.name`, "");
    switch (subject["kind"]) {
      case "ServiceAccount":
        if (subject["apiGroup"] !== undefined && subject["apiGroup"] !== "") notSupported(`${at}.apiGroup`, subject["apiGroup"], [""]);
        if (resource.kind === "ClusterRoleBinding" && (typeof subject["namespace"] !== "string" || subject["namespace"] === "")) required(`${at}.namespace`, "");
        break;
      case "User":
      case "Group":
        if (subject["apiGroup"] !== undefined && subject["apiGroup"] !== rbacGroup) notSupported(`${at}.apiGroup`, subject["apiGroup"], [rbacGroup]);
        break;
      default:
        notSupported(`${at}.kind`, subject["kind"] ?? "", ["ServiceAccount", "User", "Group"]);
    }
  });
  return causes;
}
