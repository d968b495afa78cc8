// The pieces of the fake API server that kubectl relies on, in process and without kubectl: the
// write verbs with their Status errors and defaults, strategic merge patch, fieldSelector, Table
// negotiation, and the controllers' writes as a watch sees them, in order.
import { describe, expect, test } from "vitest";
import { FakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { jsonMergePatch, strategicMergePatch } from "../../adapters/kubernetes/fake-api/fake-patch.ts";
import { tableVersion } from "../../adapters/kubernetes/fake-api/fake-table.ts";

const base = "https://kube.fake.test";
const send = (fake: FakeKubeApi, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Response> =>
  fake.fetch(new Request(`${base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": contentType } }) }));

const service = (name: string, port: unknown = 80): Record<string, unknown> => ({ apiVersion: "v1", kind: "Service", metadata: { name }, spec: { selector: { app: name }, ports: [{ port }] } });

/** Reads watch lines until `count` arrived. */
async function watchLines(response: Response, count: number): Promise<{ type: string; object: any }[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const out: { type: string; object: any }[] = [];
  while (out.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = text.indexOf("\n")) !== -1) {
      out.push(JSON.parse(text.slice(0, newline)));
      text = text.slice(newline + 1);
    }
  }
  await reader.cancel();
  return out;
}

describe("fake API server writes, as kubectl sends them", () => {
  test("create: 201 with the API server's defaults; again: 409 AlreadyExists; cluster-wide POST: 405", async () => {
    const fake = new FakeKubeApi();
    const created = await send(fake, "POST", "/api/v1/namespaces/default/services", service("web"));
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body.spec).toMatchObject({ type: "ClusterIP", sessionAffinity: "None", clusterIP: "10.96.0.10", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] });
    expect(body.metadata).toMatchObject({ name: "web", namespace: "default", resourceVersion: String(fake.resourceVersion) });
    const again = await send(fake, "POST", "/api/v1/namespaces/default/services", service("web"));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ kind: "Status", reason: "AlreadyExists", message: 'services "web" already exists', details: { name: "web", kind: "services" } });
    expect((await send(fake, "POST", "/api/v1/services", service("x"))).status).toBe(405);
  });

  test("422 Invalid names each field: an upper-case name, a port out of range, a protocol", async () => {
    const fake = new FakeKubeApi();
    const answer = await send(fake, "POST", "/api/v1/namespaces/default/services", { ...service("Web", 0), spec: { ports: [{ port: 0, protocol: "HTTP" }] } });
    expect(answer.status).toBe(422);
    const status = await answer.json();
    expect(status.reason).toBe("Invalid");
    expect(status.details.causes.map((c: { field: string }) => c.field)).toEqual(["metadata.name", "spec.ports[0].port", "spec.ports[0].protocol", "spec.ports[0].targetPort"]);
    expect(status.message).toMatch(/^Service "Web" is invalid: \[metadata\.name: Invalid value: "Web": a DNS-1035 label/);
    expect(status.details.causes[2]).toEqual({ reason: "FieldValueNotSupported", field: "spec.ports[0].protocol", message: 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"' });
    expect(fake.objects("Service")).toEqual([]);
  });

  test("update with a stale resourceVersion: 409 Conflict; with the current one: stored, clusterIP kept", async () => {
    const fake = new FakeKubeApi();
    const first = await (await send(fake, "POST", "/api/v1/namespaces/default/services", service("web"))).json();
    await send(fake, "PATCH", "/api/v1/namespaces/default/services/web", { metadata: { labels: { tier: "web" } } }, "application/merge-patch+json");
    const stale = await send(fake, "PUT", "/api/v1/namespaces/default/services/web", first);
    expect(stale.status).toBe(409);
    expect((await stale.json()).message).toBe('Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again');
    const current = fake.get("Service", "default", "web")!;
    const { clusterIP: _, clusterIPs: __, ...spec } = (current as any).spec;
    const updated = await send(fake, "PUT", "/api/v1/namespaces/default/services/web", { ...current, spec: { ...spec, sessionAffinity: "ClientIP" } });
    expect(updated.status).toBe(200);
    expect((await updated.json()).spec).toMatchObject({ clusterIP: first.spec.clusterIP, sessionAffinity: "ClientIP" });
  });

  test("delete answers a Success Status; a missing object is 404 NotFound; the scale subresource", async () => {
    const fake = new FakeKubeApi();
    const rc = { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "rcsise" }, spec: { template: { metadata: { labels: { app: "sise" } }, spec: { containers: [{ name: "sise", image: "x:1" }] } } } };
    expect((await send(fake, "POST", "/api/v1/namespaces/default/replicationcontrollers", rc)).status).toBe(201);
    const scale = await (await send(fake, "GET", "/api/v1/namespaces/default/replicationcontrollers/rcsise/scale")).json();
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 1 }, status: { selector: "app=sise" } });
    const scaled = await send(fake, "PATCH", "/api/v1/namespaces/default/replicationcontrollers/rcsise/scale", { spec: { replicas: 3 } }, "application/merge-patch+json");
    expect((await scaled.json()).spec.replicas).toBe(3);
    expect(fake.get("ReplicationController", "default", "rcsise")).toMatchObject({ metadata: { generation: 2 }, spec: { replicas: 3, selector: { app: "sise" } } });
    const deleted = await send(fake, "DELETE", "/api/v1/namespaces/default/replicationcontrollers/rcsise");
    expect(await deleted.json()).toMatchObject({ kind: "Status", status: "Success", details: { name: "rcsise", kind: "replicationcontrollers" } });
    const missing = await send(fake, "DELETE", "/api/v1/namespaces/default/replicationcontrollers/rcsise");
    expect(missing.status).toBe(404);
    expect((await missing.json()).message).toBe('replicationcontrollers "rcsise" not found');
  });

  test("415 for JSON patch and protobuf bodies (server-side apply: kubectl-server-side-apply.test.ts)", async () => {
    const fake = new FakeKubeApi();
    await send(fake, "POST", "/api/v1/namespaces/default/services", service("web"));
    expect((await send(fake, "PATCH", "/api/v1/namespaces/default/services/web", [], "application/json-patch+json")).status).toBe(415);
    expect((await send(fake, "POST", "/api/v1/namespaces/default/services", service("b"), "application/vnd.kubernetes.protobuf")).status).toBe(415);
  });

  test("fieldSelector on metadata.name; another field is 400", async () => {
    const fake = new FakeKubeApi();
    await send(fake, "POST", "/api/v1/namespaces/default/services", service("a"));
    await send(fake, "POST", "/api/v1/namespaces/default/services", service("b"));
    const list = await (await send(fake, "GET", "/api/v1/services?fieldSelector=metadata.name%3Db")).json();
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(["b"]);
    const bad = await send(fake, "GET", "/api/v1/services?fieldSelector=spec.type%3DClusterIP");
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toBe("field label not supported: spec.type");
  });

  test("a Namespace is cluster-scoped: /api/v1/namespaces/{name}, no namespace in its metadata", async () => {
    const fake = new FakeKubeApi();
    const created = await (await send(fake, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } })).json();
    expect(created.metadata.namespace).toBeUndefined();
    expect(created.status).toEqual({ phase: "Active" });
    expect((await send(fake, "GET", "/api/v1/namespaces/shop")).status).toBe(200);
  });
});

describe("strategic merge patch and merge patch", () => {
  test("containers merge by name, ports by containerPort; $patch delete; $setElementOrder; null deletes", () => {
    const target = { spec: { containers: [{ name: "a", image: "a:1", ports: [{ containerPort: 80 }] }, { name: "b", image: "b:1" }], nodeName: "n1" } };
    const patched = strategicMergePatch(target, {
      spec: {
        "$setElementOrder/containers": [{ name: "c" }, { name: "a" }],
        containers: [{ name: "a", ports: [{ containerPort: 81 }] }, { name: "b", $patch: "delete" }, { name: "c", image: "c:1" }],
        nodeName: null,
      },
    });
    expect(patched).toEqual({ spec: { containers: [{ name: "c", image: "c:1" }, { name: "a", image: "a:1", ports: [{ containerPort: 80 }, { containerPort: 81 }] }] } });
    expect(target.spec.containers).toHaveLength(2); // the target is never changed
  });

  test("lists without a merge key are replaced; $retainKeys keeps only the named fields", () => {
    expect(strategicMergePatch({ spec: { args: ["a"], strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } }, { spec: { args: ["b"], strategy: { $retainKeys: ["type"], type: "Recreate" } } })).toEqual({
      spec: { args: ["b"], strategy: { type: "Recreate" } },
    });
  });

  test("RFC 7386: objects merge, null deletes, arrays replace", () => {
    expect(jsonMergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, e: 3 }, d: [2] })).toEqual({ a: { c: 2, e: 3 }, d: [2] });
  });
});

describe("Table negotiation and the controllers, as watches see them", () => {
  test("the Accept header kubectl sends asks for meta.k8s.io/v1 Table", () => {
    expect(tableVersion("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")).toBe("v1");
    expect(tableVersion("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json")).toBe("v1beta1");
    expect(tableVersion("application/json")).toBeUndefined();
  });

  test("an RC with replicas 2: the watch sees the RC, its pods, the slice and the status writes, in resourceVersion order", async () => {
    const fake = new FakeKubeApi({ controllers: true });
    const from = fake.resourceVersion;
    const pods = await send(fake, "GET", `/api/v1/pods?watch=true&resourceVersion=${from}`);
    const slices = await send(fake, "GET", `/apis/discovery.k8s.io/v1/endpointslices?watch=true&resourceVersion=${from}`);
    await send(fake, "POST", "/api/v1/namespaces/default/services", { ...service("sise"), spec: { selector: { app: "sise" }, ports: [{ port: 80, targetPort: "http" }] } });
    const rc = { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "rcsise", annotations: { "vipr.io/local-addresses": "127.0.0.2,127.0.0.3" } }, spec: { replicas: 2, template: { metadata: { labels: { app: "sise" } }, spec: { containers: [{ name: "sise", image: "x:1", ports: [{ name: "http", containerPort: 9876 }] }] } } } };
    await send(fake, "POST", "/api/v1/namespaces/default/replicationcontrollers", rc);
    const podEvents = await watchLines(pods, 2);
    expect(podEvents.map((e) => `${e.type} ${e.object.status.podIP}`)).toEqual(["ADDED 127.0.0.2", "ADDED 127.0.0.3"]);
    // The placeholder slice (no pods yet), then the slice with both pods on the named port.
    const sliceEvents = await watchLines(slices, 2);
    expect(sliceEvents.map((e) => e.type)).toEqual(["ADDED", "MODIFIED"]);
    expect(sliceEvents[1]!.object.ports).toEqual([{ name: "", port: 9876, protocol: "TCP" }]);
    expect(sliceEvents[1]!.object.endpoints.map((e: any) => e.targetRef.name)).toEqual(podEvents.map((e) => e.object.metadata.name));
    const versions = [...podEvents, ...sliceEvents].map((e) => Number(e.object.metadata.resourceVersion));
    expect(new Set(versions).size).toBe(versions.length);
    expect(fake.get("ReplicationController", "default", "rcsise")).toMatchObject({ status: { replicas: 2, readyReplicas: 2 } });
  });
});
