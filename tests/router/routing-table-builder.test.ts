// RoutingTableBuilder's incremental update against its oracle, a full pass over the same objects
// (stored in the reverse order): random sequences of object changes (Services, EndpointSlices
// moving between services, Pods), applied in ticks; after each tick the incremental snapshot must
// equal the full build in every field, and share the entries of the services it did not rebuild.
// HashTrieMap against a Map.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { HashTrieMap } from "../../router/table/hash-trie-map.ts";
import type { KubeEndpointSlice, KubePod, KubeService } from "../../router/table/kubernetes-objects.ts";
import type { EndpointsFrom, RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { TableInputStore } from "../../router/table/table-input-store.ts";
import type { UpstreamTransport } from "../../router/forward/upstream-transport.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { createWasmCore, type CoreEngine } from "../../wasm/core-engine.ts";
import type { MaglevTable } from "../../wasm/maglev-table.ts";

const namespaces = ["default", "shop"] as const;
const serviceNames = ["a", "b", "c"] as const;
const sliceNames = ["s1", "s2", "s3", "s4"] as const;
const podNames = ["p1", "p2", "p3", "p4"] as const;

type Change =
  | { op: "service"; namespace: string; name: string; variant: number }
  | { op: "deleteService"; namespace: string; name: string }
  | { op: "slice"; namespace: string; name: string; owner: string | undefined; pods: string[]; ready: boolean }
  | { op: "deleteSlice"; namespace: string; name: string }
  | { op: "pod"; namespace: string; name: string; app: string; ready: boolean }
  | { op: "deletePod"; namespace: string; name: string };

const ns = fc.constantFrom(...namespaces);
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant("service" as const), namespace: ns, name: fc.constantFrom(...serviceNames), variant: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant("deleteService" as const), namespace: ns, name: fc.constantFrom(...serviceNames) }),
  fc.record({
    op: fc.constant("slice" as const),
    namespace: ns,
    name: fc.constantFrom(...sliceNames),
    // "" is a label that names no Service (a diagnostic); undefined, no label at all.
    owner: fc.constantFrom<string | undefined>(...serviceNames, "", undefined),
    pods: fc.subarray([...podNames]),
    ready: fc.boolean(),
  }),
  fc.record({ op: fc.constant("deleteSlice" as const), namespace: ns, name: fc.constantFrom(...sliceNames) }),
  fc.record({ op: fc.constant("pod" as const), namespace: ns, name: fc.constantFrom(...podNames), app: fc.constantFrom(...serviceNames), ready: fc.boolean() }),
  fc.record({ op: fc.constant("deletePod" as const), namespace: ns, name: fc.constantFrom(...podNames) }),
);

let resourceVersion = 0;
const meta = (namespace: string, name: string, labels?: Record<string, string>) => ({
  namespace,
  name,
  uid: `${namespace}-${name}`,
  resourceVersion: String(++resourceVersion),
  ...(labels === undefined ? {} : { labels }),
});
const podIp = (namespace: string, name: string): string => `10.${namespaces.indexOf(namespace as never)}.0.${podNames.indexOf(name as never) + 1}`;

function serviceObject(namespace: string, name: string, variant: number): KubeService {
  return {
    metadata: meta(namespace, name),
    spec:
      variant === 3
        ? { type: "ExternalName", externalName: `${name}.example.com` }
        : {
            selector: { app: variant === 2 ? "a" : name },
            ports: [{ name: "http", port: 80 + variant, targetPort: 8080 }],
            // variant 1: a bad value, so the entry has a diagnostic
            ...(variant === 1 ? { sessionAffinity: "Sticky" } : {}),
          },
  };
}

function sliceObject(c: Extract<Change, { op: "slice" }>): KubeEndpointSlice {
  return {
    metadata: meta(c.namespace, c.name, c.owner === undefined ? {} : { "kubernetes.io/service-name": c.owner }),
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: c.pods.map((pod) => ({
      addresses: [podIp(c.namespace, pod)],
      conditions: { ready: c.ready },
      targetRef: { kind: "Pod", namespace: c.namespace, name: pod },
    })),
  };
}

function podObject(c: Extract<Change, { op: "pod" }>): KubePod {
  return {
    metadata: meta(c.namespace, c.name, { app: c.app }),
    spec: { containers: [{ name: "app", ports: [{ containerPort: 8080, protocol: "TCP" }] }] },
    status: { phase: "Running", podIP: podIp(c.namespace, c.name), conditions: [{ type: "Ready", status: c.ready ? "True" : "False" }] },
  };
}

/** The objects as plain maps (the oracle's input) and in the store the incremental builder reads. */
class World {
  readonly services = new Map<string, KubeService>();
  readonly slices = new Map<string, KubeEndpointSlice>();
  readonly pods = new Map<string, KubePod>();
  readonly mode: EndpointsFrom;
  readonly store = new TableInputStore();
  readonly builder = new RoutingTableBuilder(this.store);
  readonly #oracleStore = new TableInputStore();
  readonly #oracle = new RoutingTableBuilder(this.#oracleStore);
  readonly index = {
    setService: (o: KubeService) => void this.store.set("Service", o),
    deleteService: (o: KubeService) => void this.store.delete("Service", `${o.metadata!.namespace}/${o.metadata!.name}`),
    setSlice: (o: KubeEndpointSlice) => void this.store.set("EndpointSlice", o),
    deleteSlice: (o: KubeEndpointSlice) => void this.store.delete("EndpointSlice", `${o.metadata!.namespace}/${o.metadata!.name}`),
    setPod: (o: KubePod) => void this.store.set("Pod", o),
    deletePod: (o: KubePod) => void this.store.delete("Pod", `${o.metadata!.namespace}/${o.metadata!.name}`),
  };
  constructor(mode: EndpointsFrom) {
    this.mode = mode;
  }
  /** The incremental snapshot after the changes since the last one; `previous` other than the
   * builder's last snapshot, to build on an older one. */
  update(previous?: RoutingTable): RoutingTable {
    const changes = this.store.takeChanges();
    return this.builder.update(changes, previous === undefined ? { endpointsFrom: this.mode } : { endpointsFrom: this.mode, previous });
  }
  apply(c: Change): void {
    const key = `${c.namespace}/${c.name}`;
    const drop = <T>(store: Map<string, T>, remove: (object: T) => void): void => {
      const old = store.get(key);
      if (old === undefined) return;
      store.delete(key);
      remove(old);
    };
    switch (c.op) {
      case "service": {
        const object = serviceObject(c.namespace, c.name, c.variant);
        this.services.set(key, object);
        this.index.setService(object);
        break;
      }
      case "deleteService":
        drop(this.services, (o) => this.index.deleteService(o));
        break;
      case "slice": {
        const object = sliceObject(c);
        this.slices.set(key, object);
        this.index.setSlice(object);
        break;
      }
      case "deleteSlice":
        drop(this.slices, (o) => this.index.deleteSlice(o));
        break;
      case "pod": {
        const object = podObject(c);
        this.pods.set(key, object);
        this.index.setPod(object);
        break;
      }
      case "deletePod":
        drop(this.pods, (o) => this.index.deletePod(o));
        break;
    }
  }
  fullBuild(mode: EndpointsFrom, previous: RoutingTable | undefined): RoutingTable {
    // Reversed, so the oracle does not see the objects in the order the store holds them.
    this.#oracleStore.replace("Service", [...this.services.values()].reverse());
    this.#oracleStore.replace("EndpointSlice", [...this.slices.values()].reverse());
    this.#oracleStore.replace("Pod", [...this.pods.values()].reverse());
    this.#oracleStore.takeChanges();
    return this.#oracle.update(undefined, { endpointsFrom: mode, previous, full: true });
  }
}

function expectSameTable(incremental: RoutingTable, full: RoutingTable): void {
  expect([...incremental.services.keys()]).toEqual([...full.services.keys()]);
  for (const [key, entry] of full.services) expect(incremental.services.get(key), key).toEqual(entry);
  expect(incremental.services.size).toBe(full.services.size);
  expect(incremental.endpointCount).toBe(full.endpointCount);
  expect(incremental.generation).toBe(full.generation);
  expect(incremental.endpointsFrom).toBe(full.endpointsFrom);
  expect(incremental.rebuilt).toEqual(full.rebuilt);
  expect(incremental.removed).toEqual(full.removed);
  expect(incremental.diagnostics).toEqual(full.diagnostics);
  expect(Object.isFrozen(incremental)).toBe(true);
  expect(Object.isFrozen(incremental.services)).toBe(true);
  expect(Object.isFrozen(incremental.diagnostics)).toBe(true);
}

describe.each(["EndpointSlices", "Pods"] as const)("RoutingTableBuilder.update in %s mode", (mode) => {
  test("equals a full build after every tick of random changes, and shares what it did not rebuild", () => {
    fc.assert(
      fc.property(fc.array(fc.array(change, { maxLength: 6 }), { minLength: 1, maxLength: 12 }), (ticks) => {
        const world = new World(mode);
        let incremental: RoutingTable | undefined;
        let full: RoutingTable | undefined;
        for (const tick of ticks) {
          for (const c of tick) world.apply(c);
          const previous = incremental;
          incremental = world.update();
          full = world.fullBuild(mode, full);
          expectSameTable(incremental, full);
          if (previous !== undefined) {
            for (const [key, entry] of incremental.services) {
              if (!incremental.rebuilt.includes(key)) expect(entry, key).toBe(previous.services.get(key));
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("RoutingTableBuilder.update", () => {
  test("a one-service change rebuilds that service only and keeps the diagnostics array", () => {
    const world = new World("EndpointSlices");
    world.apply({ op: "service", namespace: "default", name: "a", variant: 0 });
    world.apply({ op: "service", namespace: "default", name: "b", variant: 0 });
    world.apply({ op: "slice", namespace: "default", name: "s1", owner: "a", pods: ["p1"], ready: true });
    const first = world.update();
    world.apply({ op: "slice", namespace: "default", name: "s1", owner: "a", pods: ["p1", "p2"], ready: true });
    const next = world.update();
    expect(next.rebuilt).toEqual(["default/a"]);
    expect(next.services.get("default/b")).toBe(first.services.get("default/b"));
    expect(next.diagnostics).toBe(first.diagnostics);
    expect(next.endpointCount).toBe(2);
  });

  test("a slice whose label moves to another service changes both", () => {
    const world = new World("EndpointSlices");
    world.apply({ op: "service", namespace: "default", name: "a", variant: 0 });
    world.apply({ op: "service", namespace: "default", name: "b", variant: 0 });
    world.apply({ op: "slice", namespace: "default", name: "s1", owner: "a", pods: ["p1"], ready: true });
    const first = world.update();
    world.apply({ op: "slice", namespace: "default", name: "s1", owner: "b", pods: ["p1"], ready: true });
    const next = world.update(first);
    expect(next.rebuilt).toEqual(["default/a", "default/b"]);
    expect(next.services.get("default/a")!.endpoints).toEqual([]);
    expect(next.services.get("default/b")!.endpoints.map((e) => e.address)).toEqual(["10.0.0.1"]);
  });

  test("an update from a snapshot that was already updated is a full build, and still right", () => {
    const world = new World("EndpointSlices");
    world.apply({ op: "service", namespace: "default", name: "a", variant: 0 });
    const first = world.update();
    world.apply({ op: "service", namespace: "default", name: "b", variant: 0 });
    world.update();
    world.apply({ op: "service", namespace: "default", name: "c", variant: 0 });
    const branch = world.update(first);
    expect([...branch.services.keys()]).toEqual(["default/a", "default/b", "default/c"]);
    // first's builder state went to the first update: nothing to reuse, every entry built again.
    expect(branch.rebuilt).toEqual(["default/a", "default/b", "default/c"]);
    expect(branch.removed).toEqual([]);
    expect(branch.generation).toBe(2);
  });
});

describe("HashTrieMap", () => {
  test("behaves as a Map under random sets and removes, and leaves earlier maps unchanged", () => {
    const keys = fc.oneof(fc.constantFrom("a", "b", "ns/x", ""), fc.string({ maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.tuple(keys, fc.nat())), fc.array(keys)), { maxLength: 20 }), (steps) => {
        let map = HashTrieMap.empty<number>();
        let oracle = new Map<string, number>();
        const history: [HashTrieMap<number>, Map<string, number>][] = [];
        for (const [sets, removes] of steps) {
          map = map.with(sets, removes);
          oracle = new Map(oracle);
          for (const [k, v] of sets) oracle.set(k, v);
          for (const k of removes) oracle.delete(k);
          history.push([map, oracle]);
        }
        for (const [m, o] of history) {
          expect(m.size).toBe(o.size);
          expect([...m]).toEqual([...o].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
          for (const [k, v] of o) expect(m.get(k)).toBe(v);
          expect(m.has("not-a-key-at-all")).toBe(false);
        }
      }),
    );
  });

  test("thousands of keys: lookups, removal down to empty", () => {
    const entries = Array.from({ length: 5000 }, (_, i) => [`ns-${i % 7}/svc-${i}`, i] as const);
    let map = HashTrieMap.from(entries);
    expect(map.size).toBe(5000);
    for (const [k, v] of entries) expect(map.get(k)).toBe(v);
    map = map.with([], entries.slice(0, 4999).map(([k]) => k));
    expect([...map]).toEqual([["ns-1/svc-4999", 4999]]);
    expect(map.with([], ["ns-1/svc-4999"]).size).toBe(0);
  });
});

describe("ServiceRouter.setTable with an updated table", () => {
  /** The WASM core, recording each Maglev table it builds (by its endpoint identities) and frees. */
  function recordingCore(): { core: CoreEngine; built: { ids: string; table: MaglevTable; freed: boolean }[] } {
    const inner = createWasmCore();
    const built: { ids: string; table: MaglevTable; freed: boolean }[] = [];
    const core: CoreEngine = {
      ...inner,
      buildMaglev(endpoints, options) {
        const table = inner.buildMaglev(endpoints, options);
        const record = { ids: endpoints.map((e) => e.id).join(","), table, freed: false };
        built.push(record);
        const free = table.free.bind(table);
        (table as { free: () => void }).free = () => {
          record.freed = true;
          free();
        };
        return table;
      },
    };
    return { core, built };
  }

  test("a one-service update leaves the other services' balancers and WASM tables untouched", async () => {
    const { core, built } = recordingCore();
    const retained: ReadonlySet<string>[] = [];
    const transport = {
      forward: () => Promise.reject(new Error("not used")),
      retain: (keys: ReadonlySet<string>) => void retained.push(new Set(keys)),
      close: () => Promise.resolve(),
    } as unknown as UpstreamTransport;
    const metrics = new RouterMetrics();
    const router = new ServiceRouter({ core, transport, clientAddress: () => "10.9.9.9", metrics });
    const store = new TableInputStore();
    const builder = new RoutingTableBuilder(store);
    const index = { setService: (o: KubeService) => store.set("Service", o), setSlice: (o: KubeEndpointSlice) => store.set("EndpointSlice", o) };
    const maglev = { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-user" };
    for (const name of ["a", "b", "c"]) {
      index.setService({ metadata: { namespace: "default", name, resourceVersion: "1", annotations: maglev }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] } });
      index.setSlice({
        metadata: { namespace: "default", name: `${name}-1`, resourceVersion: "1", labels: { "kubernetes.io/service-name": name } },
        addressType: "IPv4",
        ports: [{ name: "http", port: 8080 }],
        endpoints: [1, 2, 3].map((i) => ({ addresses: [`10.0.${"abc".indexOf(name)}.${i}`], targetRef: { kind: "Pod", namespace: "default", name: `${name}-${i}` } })),
      });
    }
    const first = builder.update(store.takeChanges());
    router.setTable(first);
    const pickOf = (name: string) => router.explain({ host: name, key: "user-7" });
    const before = { a: pickOf("a"), b: pickOf("b"), c: pickOf("c") };
    expect(built).toHaveLength(3);

    // Service b loses an endpoint.
    index.setSlice({
      metadata: { namespace: "default", name: "b-1", resourceVersion: "2", labels: { "kubernetes.io/service-name": "b" } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080 }],
      endpoints: [1, 2].map((i) => ({ addresses: [`10.0.1.${i}`], targetRef: { kind: "Pod", namespace: "default", name: `b-${i}` } })),
    });
    const next = builder.update(store.takeChanges());
    expect(next.rebuilt).toEqual(["default/b"]);
    router.setTable(next);

    // b's table was freed and built again for its new endpoints (the moved share is measured on
    // publish); a's and c's were neither freed nor rebuilt.
    expect(built.map((r) => [r.ids, r.freed])).toEqual([
      ["a-1,a-2,a-3", false],
      ["b-1,b-2,b-3", true],
      ["c-1,c-2,c-3", false],
      ["b-1,b-2", false],
    ]);
    expect(pickOf("a")).toEqual(before.a);
    expect(pickOf("c")).toEqual(before.c);
    expect(built).toHaveLength(4);
    const page = (await metrics.render()).body;
    expect(page).toMatch(/^vipr_table_services 3$/m);
    expect(page).toMatch(/^vipr_table_endpoints 8$/m);
    expect(retained.at(-1)).toEqual(new Set(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080", "10.0.1.1:8080", "10.0.1.2:8080", "10.0.2.1:8080", "10.0.2.2:8080", "10.0.2.3:8080"]));
  });
});
