// A worked example for users of vipr/testing: unit-test your own routing (service annotations,
// readiness, scaling) with mocked endpoints, in vitest and msw, with no cluster and no sockets.
// The fake Kubernetes API server answers vipr's list and watch requests through msw; the router's
// explain() tells which endpoint a request would reach, without sending it.
//
// In your project the imports read:
//   import { FakeKubeApi, fakeKubeConfig, fakeKubeUrl, fakeService } from "vipr/testing";
import { http } from "msw";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { FakeKubeApi, fakeKubeConfig, fakeKubeUrl, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";
import { KubernetesSource } from "../../adapters/kubernetes/kubernetes-source.ts";
import { loadRuntimeAdapter } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";

// 1. The fake API server, mounted in msw: every request to fakeKubeUrl goes to its fetch handler.
const fake = new FakeKubeApi();
/** Called after each answer of the fake: a test can wait on the API traffic itself. */
const afterApiAnswer = new Set<() => void>();
const handlers = [
  http.all(`${fakeKubeUrl}/*`, async ({ request }) => {
    const response = await fake.fetch(request);
    for (const listener of [...afterApiAnswer]) listener();
    return response;
  }),
];

// msw's setupServer (msw/node) is the usual setup on Node. Deno's fetch is native and below
// setupServer's reach, so on Deno the same handlers go through msw's network API with the fetch
// interceptor that patches globalThis.fetch. Node-only projects need just the last three lines.
async function startMsw(): Promise<{ close(): void }> {
  if ("Deno" in globalThis) {
    const { defineNetwork, InterceptorSource } = await import("msw/experimental");
    const { FetchInterceptor } = await import("@mswjs/interceptors/fetch/web");
    // `as never`: the web build declares its Interceptor class in a .d.ts of its own, so TypeScript
    // sees two classes where the running code has one.
    const network = defineNetwork({ sources: [new InterceptorSource({ interceptors: [new FetchInterceptor() as never] })], handlers, context: { quiet: true } });
    network.enable();
    return { close: () => network.disable() };
  }
  const { setupServer } = await import("msw/node");
  const server = setupServer(...handlers);
  server.listen();
  return server;
}

// 2. The router under test, fed by vipr's Kubernetes source, which reads the fake through msw.
const runtime = await loadRuntimeAdapter();
const router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress });
let msw: { close(): void };
let source: KubernetesSource;

/** Called after each table the source hands the router. */
const afterTable = new Set<() => void>();

/** Resolves once `check` holds, checked now and then after each of `events`: no polling, no
 * fixed waits, so the test takes as long as vipr does and no longer. */
function when(events: Set<() => void>, check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      events.delete(listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const listener = (): void => {
      if (!check()) return;
      clearTimeout(timer);
      events.delete(listener);
      resolve();
    };
    events.add(listener);
  });
}

/** Resolves once the router has a table in which `check` holds. */
const tableWhere = (check: () => boolean): Promise<void> => when(afterTable, () => router.table !== undefined && check(), "the router's table");

/** The pod a request with this session cookie value would reach. */
function podFor(user: string): string | undefined {
  const answer = router.explain({ host: "checkout.shop", key: user });
  return answer.found && answer.result.ok ? answer.result.identity : undefined;
}

beforeAll(async () => {
  msw = await startMsw();
  // Your manifests, as the API server would hold them.
  fake.apply(
    fakeService("checkout", {
      namespace: "shop",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      annotations: { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "cookie:session" },
    }),
  );
  fake.setEndpoints({ name: "checkout", namespace: "shop" }, [
    { address: "10.1.0.1", pod: "checkout-1" },
    { address: "10.1.0.2", pod: "checkout-2" },
    { address: "10.1.0.3", pod: "checkout-3", ready: false },
  ]);
  source = new KubernetesSource({
    kubeConfig: fakeKubeConfig(),
    onTable: (table) => {
      router.setTable(table);
      for (const listener of [...afterTable]) listener();
    },
  });
  source.start();
  await tableWhere(() => source.isReady());
});

afterEach(() => fake.faults.clear());

afterAll(async () => {
  await source.stop();
  fake.close();
  msw.close();
  await router.close();
});

describe("checkout routing", () => {
  test("a not-ready pod gets no requests", () => {
    const pods = new Set(Array.from({ length: 200 }, (_, i) => podFor(`user-${i}`)));
    expect(pods).toEqual(new Set(["checkout-1", "checkout-2"]));
  });

  test("a session sticks to its pod, and scaling up moves only some sessions", async () => {
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const before = new Map(users.map((u) => [u, podFor(u)]));
    expect(podFor("user-7")).toBe(before.get("user-7")); // sticky

    // Scale up: the third pod becomes ready (Maglev moves about a third of the keys to it).
    fake.setEndpoints({ name: "checkout", namespace: "shop" }, [
      { address: "10.1.0.1", pod: "checkout-1" },
      { address: "10.1.0.2", pod: "checkout-2" },
      { address: "10.1.0.3", pod: "checkout-3" },
    ]);
    await tableWhere(() => router.table!.services.get("shop/checkout")!.endpoints.every((e) => e.ready));
    const moved = users.filter((u) => podFor(u) !== before.get(u));
    expect(moved.every((u) => podFor(u) === "checkout-3")).toBe(true); // only to the new pod
    expect(moved.length / users.length).toBeGreaterThan(0.2);
    expect(moved.length / users.length).toBeLessThan(0.45);
  });

  test("while the API server fails, the router keeps the endpoints it had", async () => {
    fake.faults.failNext({ status: 503, times: 5 });
    fake.breakWatches();
    // The source has met the outage: its next request (the watch again) was answered 503.
    await when(afterApiAnswer, () => fake.faults.pending < 5, "a failed API request");
    expect(podFor("user-1")).toMatch(/^checkout-/);
    expect(source.isReady()).toBe(true);
  });
});
