// The same key picks the same pod on every worker and every vipr replica, given the same objects in
// whatever order they arrived: Maglev's table is filled from the endpoints sorted by identity
// (routing-table.ts: ServiceEntry.endpoints), never in arrival order. Three independent routers,
// each with its own WASM core: one built from every object at once, one fed the objects one watch
// event at a time in a shuffled order (the Kubernetes source's incremental path), and a worker's
// replica of the second (the table as changes over IPC, adapters/workers/table-changes.ts).
import { afterAll, describe, expect, test } from "vitest";
import { loadRuntimeAdapter } from "../../adapters/runtime-adapter.ts";
import { applyTableChanges, tableChanges } from "../../adapters/workers/table-changes.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { TableInputStore } from "../../router/table/table-input-store.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";

const runtime = await loadRuntimeAdapter();
const routers: ServiceRouter[] = [];
afterAll(async () => {
  for (const router of routers) await router.close();
});

function newRouter(): ServiceRouter {
  const router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: () => "" });
  routers.push(router);
  return router;
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const service = (name: string): KubeService => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "shop", resourceVersion: "1", annotations: { "vipr.io/hash-key": "header:x-user" } },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] },
});

/** 12 pods of `name` in 4 slices of 3, as an EndpointSlice controller would split them. */
function slices(name: string, podBase: number): KubeEndpointSlice[] {
  return Array.from({ length: 4 }, (_, s) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-${s}`, namespace: "shop", resourceVersion: "1", labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    ports: [{ port: 8080, protocol: "TCP", name: "" }],
    endpoints: Array.from({ length: 3 }, (_, e) => ({
      addresses: [`10.1.${podBase + s}.${10 + e}`],
      conditions: { ready: true },
      targetRef: { kind: "Pod", namespace: "shop", name: `${name}-pod-${s * 3 + e}` },
    })),
  })) as KubeEndpointSlice[];
}

const names = ["cart", "checkout", "catalog"];
const services = names.map(service);
const endpointSlices = names.flatMap((name, i) => slices(name, i * 10));

describe("the same key picks the same pod whatever order the objects came in", () => {
  test("10,000 keys on three services: a full build, a shuffled event-by-event build and a worker's replica pick alike", () => {
    const whole = newRouter();
    whole.setTable(buildRoutingTable({ services, endpointSlices }));

    // Watch events in another order: slices before their services, one rebuild per event.
    const random = seeded(20261202);
    const index = new TableInputStore();
    const builder = new RoutingTableBuilder(index);
    const events = shuffled<KubeService | KubeEndpointSlice>([...endpointSlices, ...services], random);
    let table: RoutingTable | undefined;
    let replica: RoutingTable | undefined;
    const incremental = newRouter();
    const worker = newRouter();
    for (const object of events) {
      if (object.kind === "Service") index.set("Service", object as KubeService);
      else index.set("EndpointSlice", object as KubeEndpointSlice);
      const next = builder.update(index.takeChanges(), { previous: table });
      replica = applyTableChanges(replica, [structuredClone(tableChanges(table, next))]);
      table = next;
      incremental.setTable(table);
      worker.setTable(replica);
    }
    expect(replica!.services.size).toBe(3);

    let compared = 0;
    for (let k = 0; k < 10_000; k++) {
      const host = `${names[k % names.length]}.shop`;
      const key = `user-${k}`;
      const picks = [whole, incremental, worker].map((router) => {
        const answer = router.explain({ host, key });
        if (!answer.found || !answer.result.ok) throw new Error(`${host} ${key}: no pick: ${JSON.stringify(answer)}`);
        return `${answer.result.identity} ${answer.result.address}`;
      });
      expect(picks[1], `${host} key ${key}`).toBe(picks[0]);
      expect(picks[2], `${host} key ${key}`).toBe(picks[0]);
      compared++;
    }
    expect(compared).toBe(10_000);
  });

  test("the picks spread over every pod (the comparison above is not of one constant pod)", () => {
    const router = newRouter();
    router.setTable(buildRoutingTable({ services: shuffled(services, seeded(1)), endpointSlices: shuffled(endpointSlices, seeded(2)) }));
    const pods = new Set<string>();
    for (let k = 0; k < 2_000; k++) {
      const answer = router.explain({ host: "cart.shop", key: `user-${k}` });
      if (answer.found && answer.result.ok) pods.add(answer.result.identity);
    }
    expect(pods.size).toBe(12);
  });
});
