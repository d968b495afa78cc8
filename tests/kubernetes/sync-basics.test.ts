// The Kubernetes source against the fake API server in msw, through client-node's KubeConfig:
// initial sync (paged lists, watches from the list's resourceVersion with bookmarks), add, modify
// and delete of services, slices and pods, slices merged per service, namespaces and selectors.
import { afterEach, describe, expect, test } from "vitest";
import { fakeEndpointSlice, fakePod, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubePod, KubeService } from "../../router/table/kubernetes-objects.ts";
import { endpointsOf, eventually, startHarness, type Harness } from "./support/sync-harness.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe(`kubernetes sync on ${runtime}`, () => {
  test("initial sync: every service with its endpoints, in one first table, after paged lists", async () => {
    harness = await startHarness({
      seed: (fake) => {
        for (const name of ["a", "b", "c"]) {
          fake.apply(fakeService(name));
          fake.setEndpoints(name, [`10.0.0.${name.charCodeAt(0) - 96}`, "10.0.1.1"]);
        }
      },
    });
    const { fake, source, tables } = harness;
    expect(source.isReady()).toBe(false);
    expect(source.notReadyReason()).toMatch(/waiting for the first full list of/);
    await eventually(() => source.isReady(), 3000, "ready");
    // The first table is complete: no table was ever published with services but no endpoints.
    expect(tables[0]!.services.get("default/a")?.endpoints.length).toBe(2);
    expect(endpointsOf(source.table, "default/c")).toEqual(["10.0.0.3:80", "10.0.1.1:80"]);

    const lists = fake.requests.filter((r) => r.verb === "list" && r.path === "/api/v1/services");
    expect(lists.length).toBe(2); // 3 services, pages of 2
    expect(lists[0]!.params).toEqual({ limit: "2" });
    expect(lists[1]!.params["continue"]).toBeTruthy();
    expect(lists.every((r) => r.authorization === "Bearer fake-token")).toBe(true);
    await eventually(() => fake.openWatches() === 2);
    const watch = fake.requests.find((r) => r.verb === "watch" && r.path === "/apis/discovery.k8s.io/v1/endpointslices")!;
    expect(watch.params["allowWatchBookmarks"]).toBe("true");
    expect(Number(watch.params["resourceVersion"])).toBeGreaterThan(1000);
    expect(Number(watch.params["timeoutSeconds"])).toBeGreaterThanOrEqual(1);
    expect(Number(watch.params["timeoutSeconds"])).toBeLessThan(2);
  });

  test("services, slices and pods: add, modify and delete reach the table; slices merge per service", async () => {
    harness = await startHarness({ watchPods: true });
    const { fake, source } = harness;
    await eventually(() => source.isReady());
    expect([...source.table!.services.keys()]).toEqual([]);

    fake.apply(fakeService("web", { ports: [{ name: "http", port: 80, targetPort: 8080 }] }));
    await eventually(() => source.table!.services.get("default/web") !== undefined);
    expect(source.table!.services.get("default/web")!.endpoints).toEqual([]);

    const slice = (name: string, ips: string[]): KubeEndpointSlice =>
      fakeEndpointSlice(name, "web", ips.map((ip, i) => ({ address: ip, pod: `${name}-pod-${i}` })), { ports: [{ name: "http", port: 8080 }] });
    fake.apply(slice("web-1", ["10.0.0.1", "10.0.0.2"]), slice("web-2", ["10.0.0.3"]));
    await eventually(() => expect(endpointsOf(source.table, "default/web")).toEqual(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"]));

    // Modify: one slice drops an endpoint; the other stays, and is merged still.
    fake.apply(slice("web-1", ["10.0.0.2"]));
    await eventually(() => expect(endpointsOf(source.table, "default/web")).toEqual(["10.0.0.2:8080", "10.0.0.3:8080"]));

    // A pod's labels reach the endpoint that names it.
    fake.apply(fakePod("web-2-pod-0", { labels: { app: "web", track: "canary" }, ip: "10.0.0.3" }));
    await eventually(() => expect(source.table!.services.get("default/web")!.endpoints.find((e) => e.address === "10.0.0.3")?.labels).toEqual({ app: "web", track: "canary" }));
    fake.apply(fakePod("web-2-pod-0", { labels: { app: "web", track: "stable" }, ip: "10.0.0.3" }));
    await eventually(() => expect(source.table!.services.get("default/web")!.endpoints.find((e) => e.address === "10.0.0.3")?.labels?.["track"]).toBe("stable"));
    fake.delete("Pod", "default", "web-2-pod-0");
    await eventually(() => expect(source.table!.services.get("default/web")!.endpoints.find((e) => e.address === "10.0.0.3")?.labels).toBeUndefined());

    // Modify the service: a second port.
    fake.apply(fakeService("web", { ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "admin", port: 9000 }] }));
    await eventually(() => expect(source.table!.services.get("default/web")!.ports.map((p) => p.port)).toEqual([80, 9000]));

    fake.delete("EndpointSlice", "default", "web-2");
    await eventually(() => expect(endpointsOf(source.table, "default/web")).toEqual(["10.0.0.2:8080"]));
    fake.delete("Service", "default", "web");
    await eventually(() => source.table!.services.get("default/web") === undefined);
    expect(source.table!.removed).toEqual(["default/web"]);
  });

  test("a re-list after 410 deletes what vanished while the watch missed it", async () => {
    harness = await startHarness({ seed: (fake) => fake.apply(fakeService("a"), fakeService("b")) });
    const { fake, source, logs } = harness;
    await eventually(() => source.isReady());
    await eventually(() => fake.openWatches("Service") === 1);
    fake.dropNextEvent("Service");
    fake.delete("Service", "default", "b");
    // A later change on the same watch: events arrive in order, so once "c" is in the table the
    // delete before it was dropped, not merely late (no fixed wait).
    fake.apply(fakeService("c"));
    await eventually(() => source.table!.services.get("default/c") !== undefined);
    expect(source.table!.services.get("default/b")).toBeDefined(); // the delete never came
    fake.expireWatches("Service");
    await eventually(() => source.table!.services.get("default/b") === undefined);
    expect(source.table!.removed).toEqual(["default/b"]);
    expect(logs.some((line) => line.includes("services: 1 objects were deleted while the watch was down"))).toBe(true);
  });

  test("only the changed service is rebuilt; the others keep their entry objects", async () => {
    harness = await startHarness({
      seed: (fake) => {
        for (const name of ["a", "b"]) {
          fake.apply(fakeService(name));
          fake.setEndpoints(name, ["10.0.0.1"]);
        }
      },
    });
    const { fake, source } = harness;
    await eventually(() => source.isReady());
    const before = source.table!;
    fake.setEndpoints("a", ["10.0.0.1", "10.0.0.2"]);
    await eventually(() => source.table !== before);
    expect(source.table!.rebuilt).toEqual(["default/a"]);
    expect(source.table!.services.get("default/b")).toBe(before.services.get("default/b"));
  });

  test("a burst of changes is one rebuild", async () => {
    harness = await startHarness({ coalesceMs: 20 });
    const { fake, source, tables } = harness;
    await eventually(() => source.isReady());
    const count = tables.length;
    for (let i = 0; i < 20; i++) fake.apply(fakeService(`s${i}`));
    await eventually(() => source.table!.services.size === 20);
    expect(tables.length - count).toBe(1);
  });

  test("a set of namespaces: one watch each, other namespaces unseen; a label selector on services", async () => {
    harness = await startHarness({
      namespaces: ["shop", "blog"],
      serviceSelector: "expose=yes",
      seed: (fake) => {
        fake.apply(fakeService("cart", { namespace: "shop", labels: { expose: "yes" } }));
        fake.apply(fakeService("secret", { namespace: "shop" }));
        fake.apply(fakeService("posts", { namespace: "blog", labels: { expose: "yes" } }));
        fake.apply(fakeService("other", { namespace: "default", labels: { expose: "yes" } }));
      },
    });
    const { fake, source } = harness;
    await eventually(() => source.isReady());
    expect([...source.table!.services.keys()].sort()).toEqual(["blog/posts", "shop/cart"]);
    await eventually(() => fake.openWatches() === 4);
    expect(new Set(fake.requests.filter((r) => r.verb === "watch").map((r) => r.path))).toEqual(
      new Set(["/api/v1/namespaces/shop/services", "/api/v1/namespaces/blog/services", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", "/apis/discovery.k8s.io/v1/namespaces/blog/endpointslices"]),
    );
    expect(fake.requests.filter((r) => r.path.endsWith("/services")).every((r) => r.params["labelSelector"] === "expose=yes")).toBe(true);

    // A service that starts matching appears; one that stops matching disappears.
    fake.apply(fakeService("secret", { namespace: "shop", labels: { expose: "yes" } }));
    await eventually(() => source.table!.services.get("shop/secret") !== undefined);
    fake.apply(fakeService("cart", { namespace: "shop", labels: { expose: "no" } }));
    await eventually(() => source.table!.services.get("shop/cart") === undefined);
  });

  test("pods are not watched unless asked", async () => {
    harness = await startHarness();
    await eventually(() => harness!.source.isReady());
    expect(harness.fake.requests.some((r) => r.path.endsWith("/pods"))).toBe(false);
  });

  test("Pods mode: endpoints from pods matched by the service selector; no slices watched", async () => {
    harness = await startHarness({
      endpointsFrom: "Pods",
      seed: (fake) => {
        fake.apply(fakeService("sise", { ports: [{ port: 80, targetPort: 9876 }], selector: { app: "sise" } }));
        fake.apply(fakePod("sise-1", { labels: { app: "sise" }, ip: "10.1.0.1" }), fakePod("other", { labels: { app: "x" }, ip: "10.1.0.2" }));
      },
    });
    const { fake, source } = harness;
    await eventually(() => source.isReady());
    expect(endpointsOf(source.table, "default/sise")).toEqual(["10.1.0.1:9876"]);
    expect(fake.requests.some((r) => r.path.includes("endpointslices"))).toBe(false);
    fake.apply(fakePod("sise-2", { labels: { app: "sise" }, ip: "10.1.0.3" }));
    await eventually(() => expect(endpointsOf(source.table, "default/sise")).toEqual(["10.1.0.1:9876", "10.1.0.3:9876"]));
  });

  test("the table equals one built directly from the fake's objects", async () => {
    harness = await startHarness({
      watchPods: true,
      seed: (fake) => {
        fake.apply(fakeService("a"), fakeService("b", { namespace: "x" }));
        fake.setEndpoints("a", [{ address: "10.0.0.1", pod: "a-1" }, { address: "10.0.0.2", pod: "a-2", ready: false }]);
        fake.setEndpoints({ name: "b", namespace: "x" }, ["10.0.0.9"]);
        fake.apply(fakePod("a-1", { labels: { app: "a" } }));
      },
    });
    const { fake, source } = harness;
    await eventually(() => source.isReady());
    const direct = buildRoutingTable({
      services: fake.objects("Service") as KubeService[],
      endpointSlices: fake.objects("EndpointSlice") as KubeEndpointSlice[],
      pods: fake.objects("Pod") as KubePod[],
    });
    expect(source.table!.services).toEqual(direct.services);
  });

  test("sync metrics on the given registry", async () => {
    harness = await startHarness({ seed: (fake) => fake.apply(fakeService("a")) });
    const { fake, source, registry } = harness;
    await eventually(() => source.isReady());
    await eventually(() => fake.openWatches() === 2);
    fake.setEndpoints("a", ["10.0.0.1"]);
    await eventually(() => endpointsOf(source.table, "default/a").length === 1);
    const text = await registry.metrics();
    expect(text).toMatch(/vipr_kube_relists_total\{resource="services",namespace="\*",reason="initial"\} 1/);
    expect(text).toMatch(/vipr_kube_watch_events_total\{resource="endpointslices",namespace="\*",type="ADDED"\} 1/);
    expect(text).toMatch(/vipr_kube_synced\{resource="endpointslices",namespace="\*"\} 1/);
    expect(text).toMatch(/vipr_kube_last_sync_timestamp_seconds\{resource="services",namespace="\*"\} \d/);
    expect(text).toMatch(/vipr_kube_event_to_table_seconds_count [1-9]/);
    expect(text).toMatch(/vipr_kube_network_programming_seconds_count 1/);
  });
});
