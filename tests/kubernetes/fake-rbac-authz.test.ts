// The fake API server's RBAC authorization, in process through its fetch handler: which rules
// cover which requests (verbs, API groups, resources and subresources, resourceNames, the
// namespace of a RoleBinding, ClusterRoleBindings everywhere), who a subject is (User, Group,
// ServiceAccount), the 401 for an unknown token and the 403 Status the API server writes.
import { describe, expect, test } from "vitest";
import { FakeKubeApi, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";

const base = "https://kube.fake.test";

function request(token: string | undefined, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Request> {
  const headers: Record<string, string> = { "content-type": contentType };
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
  return Promise.resolve(new Request(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
}

async function send(fake: FakeKubeApi, token: string | undefined, method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fake.fetch(await request(token, method, path, body, contentType));
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function role(kind: "Role" | "ClusterRole", name: string, rules: unknown[], namespace = "default"): Record<string, unknown> {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: kind === "Role" ? { name, namespace } : { name }, rules };
}

function binding(kind: "RoleBinding" | "ClusterRoleBinding", name: string, roleRef: { kind: string; name: string }, subjects: unknown[], namespace = "default"): Record<string, unknown> {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: kind === "RoleBinding" ? { name, namespace } : { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef }, subjects };
}

const rcsise: Record<string, unknown> = { kind: "ReplicationController", apiVersion: "v1", metadata: { name: "rcsise", namespace: "default" }, spec: { replicas: 1, selector: { app: "sise" }, template: { metadata: { labels: { app: "sise" } }, spec: { containers: [{ name: "sise", image: "sise" }] } } } };

const readServices = [{ apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] }];

describe("fake API server: RBAC authorization", () => {
  test("off by default: any token, or none, may do anything", async () => {
    const fake = new FakeKubeApi();
    expect((await send(fake, "whatever", "GET", "/api/v1/services")).status).toBe(200);
    expect((await send(fake, undefined, "POST", "/api/v1/namespaces/default/services", fakeService("web"))).status).toBe(201);
  });

  test("the admin token is always allowed; an unknown token is 401; no token is system:anonymous", async () => {
    const fake = new FakeKubeApi({ authorization: true });
    expect((await send(fake, "fake-token", "GET", "/api/v1/services")).status).toBe(200);
    expect((await send(fake, "fake-token", "POST", "/api/v1/namespaces/default/services", fakeService("web"))).status).toBe(201);
    const unknown = await send(fake, "stolen", "GET", "/api/v1/services");
    expect(unknown).toEqual({ status: 401, json: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 } });
    const anonymous = await send(fake, undefined, "GET", "/api/v1/namespaces/default/services/web");
    expect(anonymous.status).toBe(403);
    expect(anonymous.json["message"]).toBe('services "web" is forbidden: User "system:anonymous" cannot get resource "services" in API group "" in the namespace "default"');
    // /version is public (system:public-info-viewer); the rest of discovery needs a login.
    expect((await send(fake, undefined, "GET", "/version")).status).toBe(200);
    expect((await send(fake, undefined, "GET", "/api/v1")).status).toBe(403);
    const custom = new FakeKubeApi({ authorization: { adminToken: "root" } });
    expect((await send(custom, "root", "GET", "/api/v1/pods")).status).toBe(200);
    expect((await send(custom, "fake-token", "GET", "/api/v1/pods")).status).toBe(401);
  });

  test("a service account with a namespaced Role: its namespace only, the 403 Status otherwise", async () => {
    const fake = new FakeKubeApi({ authorization: true });
    fake.apply(role("Role", "reader", readServices), binding("RoleBinding", "reader", { kind: "Role", name: "reader" }, [{ kind: "ServiceAccount", name: "vipr", namespace: "default" }]));
    const token = fake.serviceAccountToken("default", "vipr");
    // Discovery is open to every authenticated user (system:discovery).
    expect((await send(fake, token, "GET", "/api/v1")).status).toBe(200);
    expect((await send(fake, token, "GET", "/apis")).status).toBe(200);
    expect((await send(fake, token, "GET", "/api/v1/namespaces/default/services")).status).toBe(200);
    const watch = await fake.fetch(await request(token, "GET", "/api/v1/namespaces/default/services?watch=true"));
    expect(watch.status).toBe(200);
    await watch.body?.cancel();
    const clusterWide = await send(fake, token, "GET", "/api/v1/services");
    expect(clusterWide).toEqual({
      status: 403,
      json: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'services is forbidden: User "system:serviceaccount:default:vipr" cannot list resource "services" in API group "" at the cluster scope',
        reason: "Forbidden",
        details: { kind: "services" },
        code: 403,
      },
    });
    const otherNamespace = await send(fake, token, "GET", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?watch=1");
    expect(otherNamespace.json["message"]).toBe('endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:default:vipr" cannot watch resource "endpointslices" in API group "discovery.k8s.io" in the namespace "shop"');
    expect(otherNamespace.json["details"]).toEqual({ group: "discovery.k8s.io", kind: "endpointslices" });
    // Reading is not writing.
    const create = await send(fake, token, "POST", "/api/v1/namespaces/default/services", fakeService("web"));
    expect(create.json["message"]).toBe('services is forbidden: User "system:serviceaccount:default:vipr" cannot create resource "services" in API group "" in the namespace "default"');
    const deleteAll = await send(fake, token, "DELETE", "/api/v1/namespaces/default/services");
    expect(deleteAll.json["message"]).toContain('cannot deletecollection resource "services"');
    // Secrets are not in the role: 403.
    expect((await send(fake, token, "GET", "/api/v1/namespaces/default/secrets")).status).toBe(403);
    // The same name in another namespace is someone else.
    const other = fake.serviceAccountToken("shop", "vipr");
    expect((await send(fake, other, "GET", "/api/v1/namespaces/default/services")).status).toBe(403);
  });

  test("a ClusterRole: everywhere through a ClusterRoleBinding, one namespace through a RoleBinding", async () => {
    const fake = new FakeKubeApi({ authorization: true });
    fake.apply(
      role("ClusterRole", "reader", readServices),
      binding("ClusterRoleBinding", "gateway", { kind: "ClusterRole", name: "reader" }, [{ kind: "ServiceAccount", name: "gateway", namespace: "vipr-system" }]),
      binding("RoleBinding", "shop-reader", { kind: "ClusterRole", name: "reader" }, [{ kind: "User", name: "alice" }], "shop"),
    );
    const gateway = fake.serviceAccountToken("vipr-system", "gateway");
    expect((await send(fake, gateway, "GET", "/api/v1/services")).status).toBe(200);
    expect((await send(fake, gateway, "GET", "/api/v1/namespaces/shop/services")).status).toBe(200);
    expect((await send(fake, gateway, "GET", "/api/v1/pods")).status).toBe(403);
    fake.addToken("alice-token", { name: "alice", groups: [] });
    expect((await send(fake, "alice-token", "GET", "/api/v1/namespaces/shop/services")).status).toBe(200);
    expect((await send(fake, "alice-token", "GET", "/api/v1/namespaces/default/services")).status).toBe(403);
    expect((await send(fake, "alice-token", "GET", "/api/v1/services")).status).toBe(403);
  });

  test("rules: subresources, */scale, resourceNames, wildcards, groups, and nonResourceURLs", async () => {
    const fake = new FakeKubeApi({ authorization: true });
    fake.apply(
      rcsise,
      role("Role", "scaler", [
        { apiGroups: [""], resources: ["replicationcontrollers"], verbs: ["get"] },
        { apiGroups: ["*"], resources: ["*/scale"], verbs: ["get", "patch"], resourceNames: ["rcsise"] },
      ]),
      binding("RoleBinding", "scalers", { kind: "Role", name: "scaler" }, [{ kind: "Group", name: "ops" }]),
      role("ClusterRole", "metrics", [{ nonResourceURLs: ["/metrics", "/debug/*"], verbs: ["get"] }]),
      binding("ClusterRoleBinding", "metrics", { kind: "ClusterRole", name: "metrics" }, [{ kind: "Group", name: "ops" }]),
    );
    fake.addToken("bob", { name: "bob", groups: ["ops"] });
    const rc = "/api/v1/namespaces/default/replicationcontrollers/rcsise";
    expect((await send(fake, "bob", "GET", rc)).status).toBe(200);
    // "replicationcontrollers" alone does not cover its subresources.
    const status = await send(fake, "bob", "GET", `${rc}/status`);
    expect(status.json["message"]).toBe('replicationcontrollers "rcsise" is forbidden: User "bob" cannot get resource "replicationcontrollers/status" in API group "" in the namespace "default"');
    expect((await send(fake, "bob", "GET", `${rc}/scale`)).status).toBe(200);
    const patched = await send(fake, "bob", "PATCH", `${rc}/scale`, { spec: { replicas: 2 } }, "application/merge-patch+json");
    expect(patched.status).toBe(200);
    // resourceNames: another name, or a list (which names nothing), is not covered.
    expect((await send(fake, "bob", "GET", "/api/v1/namespaces/default/replicationcontrollers/other/scale")).status).toBe(403);
    expect((await send(fake, "bob", "GET", "/api/v1/namespaces/default/replicationcontrollers")).status).toBe(403);
    // A list with fieldSelector metadata.name names the object, as kubectl get -w NAME sends it.
    fake.apply(role("Role", "one-rc", [{ apiGroups: [""], resources: ["replicationcontrollers"], verbs: ["list"], resourceNames: ["rcsise"] }]), binding("RoleBinding", "one-rc", { kind: "Role", name: "one-rc" }, [{ kind: "User", name: "bob" }]));
    expect((await send(fake, "bob", "GET", "/api/v1/namespaces/default/replicationcontrollers?fieldSelector=metadata.name%3Drcsise")).status).toBe(200);
    const path = await send(fake, "bob", "GET", "/metrics");
    expect(path.status).not.toBe(403);
    expect((await send(fake, "bob", "GET", "/debug/pprof")).status).not.toBe(403);
    const denied = await send(fake, "bob", "GET", "/logs");
    expect(denied.json).toMatchObject({ code: 403, reason: "Forbidden", message: 'forbidden: User "bob" cannot get path "/logs"' });
  });

  test("a binding whose role is missing grants nothing, and the denial says so", async () => {
    const fake = new FakeKubeApi({ authorization: true });
    fake.apply(binding("RoleBinding", "dangling", { kind: "Role", name: "gone" }, [{ kind: "User", name: "carol" }]));
    fake.addToken("carol", { name: "carol", groups: [] });
    const denied = await send(fake, "carol", "GET", "/api/v1/namespaces/default/pods");
    expect(denied.json["message"]).toBe('pods is forbidden: User "carol" cannot list resource "pods" in API group "" in the namespace "default": RBAC: role.rbac.authorization.k8s.io "gone" not found');
    // Once the role exists the binding grants it.
    fake.apply(role("Role", "gone", [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }]));
    expect((await send(fake, "carol", "GET", "/api/v1/namespaces/default/pods")).status).toBe(200);
  });

  test("RBAC objects are validated as the API server does", async () => {
    const fake = new FakeKubeApi({ authorization: true });
    const bad = await send(fake, "fake-token", "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", role("Role", "bad", [{ apiGroups: [""], resources: ["pods"], verbs: [] }, { nonResourceURLs: ["/x"], verbs: ["get"] }]));
    expect(bad.status).toBe(422);
    expect((bad.json["details"] as { causes: unknown[] }).causes).toEqual([
      { reason: "FieldValueRequired", field: "rules[0].verbs", message: "Required value: verbs must contain at least one value" },
      { reason: "FieldValueInvalid", field: "rules[1].nonResourceURLs", message: 'Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs' },
    ]);
    const crb = await send(fake, "fake-token", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding("ClusterRoleBinding", "x", { kind: "Role", name: "r" }, [{ kind: "ServiceAccount", name: "vipr" }]));
    expect(crb.json["message"]).toBe('ClusterRoleBinding "x" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value: ]');
    const ok = await send(fake, "fake-token", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role("ClusterRole", "system:vipr-reader", readServices));
    expect(ok.status).toBe(201);
  });
});
