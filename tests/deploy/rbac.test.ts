// The RBAC rules of both deploy flavours grant exactly what the Kubernetes source requests
// (adapters/kubernetes/watched-resources.ts): the same (group, resource, verb) triples, no
// wildcards, no write verbs, no resourceNames; and the binding ties that role to the ServiceAccount
// that vipr's pod runs as.
import { describe, expect, test } from "vitest";
import type { IClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import type { IPolicyRule } from "kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule";
import type { IRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { gatewayApiResources, gatewayApiStatusResources, watchedResources } from "../../adapters/kubernetes/watched-resources.ts";
import { flavourManifests, flavours, ofKind, parseServeArgs, viprWorkload, type Flavour } from "./deploy-manifests.ts";

/** Every permission a set of rules grants, as "group/resource:verb" ("" is the core group). */
function grants(rules: readonly IPolicyRule[]): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) for (const verb of rule.verbs) out.add(`${group}/${resource}:${verb}`);
    }
  }
  return [...out].sort();
}

/** What a rule may not do, whatever it grants: wildcards, non-resource URLs, per-name grants, writes
 * (patch is allowed on status subresources only: the Gateway API status vipr writes). */
function ruleProblems(rules: readonly IPolicyRule[]): string[] {
  const readVerbs = new Set(["get", "list", "watch"]);
  const statusOnly = (rule: IPolicyRule) => (rule.resources ?? []).length > 0 && (rule.resources ?? []).every((r) => r.endsWith("/status"));
  return rules.flatMap((rule, i) => [
    ...[...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs].filter((v) => v.includes("*")).map((v) => `rules[${i}]: wildcard ${v}`),
    ...rule.verbs.filter((verb) => !readVerbs.has(verb) && !(verb === "patch" && statusOnly(rule))).map((verb) => `rules[${i}]: write or escalating verb ${verb}`),
    ...(rule.nonResourceURLs === undefined ? [] : [`rules[${i}]: nonResourceURLs`]),
    ...(rule.resourceNames === undefined ? [] : [`rules[${i}]: resourceNames`]),
  ]);
}

const requested = grants(watchedResources.map((r) => ({ apiGroups: [r.group], resources: [r.resource], verbs: [...r.verbs] })));
/** The gateway flavour runs `--gateway-controller`: the Gateway API objects too, and their status. */
const requestedByGateway = grants([...watchedResources, ...gatewayApiResources, ...gatewayApiStatusResources].map((r) => ({ apiGroups: [r.group], resources: [r.resource], verbs: [...r.verbs] })));

/** The role and binding of a flavour: exactly one pair, of the expected scope. */
function roleOf(flavour: Flavour) {
  const documents = flavourManifests(flavour);
  const [roleKind, bindingKind] = flavour === "gateway" ? ["ClusterRole", "ClusterRoleBinding"] : ["Role", "RoleBinding"];
  const roles = ofKind<IRole>(documents, roleKind);
  const bindings = ofKind<IRoleBinding | IClusterRoleBinding>(documents, bindingKind);
  expect(roles, `${flavour}: one ${roleKind}`).toHaveLength(1);
  expect(bindings, `${flavour}: one ${bindingKind}`).toHaveLength(1);
  // No other role kind sneaks in extra grants.
  expect(documents.filter((d) => /Role(Binding)?$/.test(d.object.kind)).map((d) => d.object.kind).sort()).toEqual([roleKind, bindingKind].sort());
  return { role: roles[0]!, binding: bindings[0]!, workload: viprWorkload(documents) };
}

describe("RBAC against adapters/kubernetes/watched-resources.ts", () => {
  test("the source requests get/list/watch on services, endpointslices and pods", () => {
    expect(requested).toEqual([
      "/pods:get", "/pods:list", "/pods:watch", "/services:get", "/services:list", "/services:watch",
      "discovery.k8s.io/endpointslices:get", "discovery.k8s.io/endpointslices:list", "discovery.k8s.io/endpointslices:watch",
    ]);
  });

  describe.each(flavours)("%s", (flavour) => {
    test("the role grants exactly what the source requests, read-only, no wildcards", () => {
      const { role } = roleOf(flavour);
      expect(ruleProblems(role.rules ?? [])).toEqual([]);
      expect(grants(role.rules ?? [])).toEqual(flavour === "gateway" ? requestedByGateway : requested);
    });

    test("the binding gives that role to the ServiceAccount vipr's pod runs as", () => {
      const { role, binding, workload } = roleOf(flavour);
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: role.kind, name: role.metadata!.name });
      const podNamespace = workload.deployment.metadata!.namespace;
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: workload.pod.serviceAccountName, namespace: podNamespace }]);
      const accounts = flavourManifests(flavour).filter((d) => d.object.kind === "ServiceAccount").map((d) => d.object.metadata);
      expect(accounts).toEqual([expect.objectContaining({ name: workload.pod.serviceAccountName, namespace: podNamespace })]);
      if (flavour === "sidecar") expect(role.metadata!.namespace).toBe(podNamespace);
    });

    test("a namespaced Role comes with a watch limited to the pod's namespace; a ClusterRole with none", () => {
      const { workload } = roleOf(flavour);
      const { flags } = parseServeArgs(workload.vipr.args ?? []);
      const podNamespaceEnv = workload.vipr.env?.find((e) => e.name === "POD_NAMESPACE");
      expect(podNamespaceEnv?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.namespace");
      if (flavour === "sidecar") expect(flags.get("watch-namespace")).toEqual(["$(POD_NAMESPACE)"]);
      else expect(flags.get("watch-namespace")).toBeUndefined();
      // Gateway API grants only where vipr runs as a Gateway API implementation.
      expect(flags.has("gateway-controller")).toBe(flavour === "gateway");
    });
  });

  test("the checks catch an over-broad role", () => {
    const broad: IPolicyRule[] = [
      { apiGroups: [""], resources: ["services", "secrets"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["*"], verbs: ["get", "list", "watch", "create"] },
      { apiGroups: [""], resources: ["pods"], resourceNames: ["one"], verbs: ["get"] },
      { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["patch"] },
    ];
    expect(ruleProblems(broad)).toEqual([
      "rules[1]: wildcard *",
      "rules[1]: write or escalating verb create",
      "rules[2]: resourceNames",
      "rules[3]: write or escalating verb patch",
    ]);
    expect(grants(broad)).not.toEqual(requested);
    expect(grants(broad)).toContain("/secrets:get");
  });
});
