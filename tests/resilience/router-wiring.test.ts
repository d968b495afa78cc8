// The router's safety rules, each checked through the whole router: objects in a fake API server,
// read by a KubernetesSource, routed by a ServiceRouter served on loopback, to loopback pods. Each
// rule also has a unit test of the function that holds it; these tests fail when the router stops
// giving that function the right inputs (the method and body to the retry rule, every retry to the
// budget, the serving-and-terminating endpoints to the picker, the eligible count to the ejection
// cap, the endpoints' weights to Maglev). One cluster per test, so a failure stays in its test.
import http from "node:http";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { fakeEndpointSlice, fakePod } from "../../adapters/kubernetes/fake-api/index.ts";
import { SERVICE, startCountingPod, startResilienceCluster, type ClusterOptions, type CountingPod, type ResilienceCluster } from "./support/resilience-cluster.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const KEY = `default/${SERVICE}`;

let cluster: ResilienceCluster | undefined;
let pods: CountingPod[] = [];

afterEach(async () => {
  await cluster?.close();
  await Promise.all(pods.map((pod) => pod.kill()));
  cluster = undefined;
  pods = [];
});

async function start(options: ClusterOptions, podOptions: Parameters<typeof startCountingPod>[1], count: number): Promise<ResilienceCluster> {
  cluster = await startResilienceCluster(options);
  pods = await Promise.all(Array.from({ length: count }, (_, i) => startCountingPod(`pod-${i}`, podOptions)));
  return cluster;
}

/** Publishes the pods and waits (on the source's tables, no polling) until the router routes to all. */
async function publish(c: ResilienceCluster, terminating = false): Promise<void> {
  c.publish(pods.map((pod) => ({ pod, terminating })));
  await c.tableWhere(() => pods.every((pod) => c.inTable(pod)), `${SERVICE} lists all ${pods.length} pods`);
}

interface Answer {
  readonly status: number;
  readonly json: { pod?: string; error?: { code: string; tries?: number; notRetried?: string; sent?: boolean } };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
afterAll(() => agent.destroy());

/** One request to the router with an x-request-id (and an x-key for hash policies). */
function send(port: number, method: string, id: string, options: { body?: string; key?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: SERVICE, "x-request-id": id };
    if (options.key !== undefined) headers["x-key"] = options.key;
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));
    const request = http.request({ host: "127.0.0.1", port, method, path: "/orders", headers, agent }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, json: text === "" ? {} : (JSON.parse(text) as Answer["json"]) }));
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

/** How many times the pods received the request with this id, all pods together. */
const receivedTimes = (id: string): number => pods.reduce((n, pod) => n + pod.received.filter((r) => r === id).length, 0);

describe(`the router's safety rules, through the router, on ${runtime}`, () => {
  test("a POST whose body reached a pod that then reset is answered 502 and never sent again", async () => {
    const c = await start({}, { resetAfterBody: true }, 3);
    await publish(c);
    const post = await send(c.port, "POST", "order-1", { body: JSON.stringify({ order: 1, amount: 100 }) });
    expect(post.status).toBe(502);
    expect(post.json.error).toMatchObject({ code: "upstream_reset", sent: true, tries: 1, notRetried: "not_safe_to_retry" });
    expect(receivedTimes("order-1")).toBe(1);
    expect(c.tries.get("order-1")).toBe(1);
    // The same failure on a GET without a body is safe to repeat: tried on each of the three pods.
    // This control shows the pods and the router do retry, so the POST's single try is the rule.
    const get = await send(c.port, "GET", "read-1");
    expect(get.status).toBe(502);
    expect(get.json.error).toMatchObject({ code: "upstream_reset", tries: 3, notRetried: "max_retries" });
    expect(receivedTimes("read-1")).toBe(3);
  });

  test("GET retries stop at the retry budget, and the answer says so", async () => {
    // A budget of exactly 2 retries over a 16 s window (0.125 per second x 16 s, no share of the
    // requests): the first GET spends both, the second may not retry at all.
    const c = await start({ retries: { maxRetries: 2, retryRatio: 0, minRetriesPerSecond: 0.125, ttlMs: 16_000 } }, { resetAfterBody: true }, 3);
    await publish(c);
    const first = await send(c.port, "GET", "read-1");
    expect(first.status).toBe(502);
    expect(first.json.error).toMatchObject({ code: "upstream_reset", tries: 3, notRetried: "max_retries" });
    const second = await send(c.port, "GET", "read-2");
    expect(second.status).toBe(502);
    expect(second.json.error).toMatchObject({ code: "upstream_reset", tries: 1, notRetried: "retry_budget" });
    expect(receivedTimes("read-2")).toBe(1);
  });

  test("endpoints that are all serving and terminating (none ready) still serve", async () => {
    const c = await start({}, {}, 2);
    await publish(c, true);
    const service = c.router.table!.services.get(KEY)!;
    expect(service.endpoints.map((e) => [e.ready, e.serving, e.terminating])).toEqual([
      [false, true, true],
      [false, true, true],
    ]);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(c.port, "GET", `drain-${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.json.pod))).toEqual(new Set(pods.map((pod) => pod.name)));
  });

  test("a burst of failures never ejects more than half of a service's endpoints", async () => {
    // Four pods that all answer 503: each fails far more than 5 times in a row, but only 2 (50%)
    // may be out at once; the other two keep their traffic.
    const c = await start({ outlierDetection: { consecutiveFailures: 5, maxEjectionPercent: 50 } }, { status: 503 }, 4);
    await publish(c);
    const loops = Array.from({ length: 8 }, async (_, loop) => {
      for (let i = 0; i < 10; i++) expect((await send(c.port, "GET", `burst-${loop}-${i}`)).status).toBe(503);
    });
    await Promise.all(loops);
    const ejected = (c.router.endpointHealth().get(KEY) ?? []).filter((e) => e.ejectedUntil !== null).map((e) => e.identity);
    expect(ejected).toHaveLength(2);
    // Through the router: the next requests reach exactly the two endpoints that are not ejected.
    const before = pods.map((pod) => pod.received.length);
    for (let i = 0; i < 20; i++) await send(c.port, "GET", `after-${i}`);
    const reached = pods.filter((pod, i) => pod.received.length > before[i]!).map((pod) => pod.name);
    expect(reached.sort()).toEqual(pods.map((pod) => pod.name).filter((name) => !ejected.includes(name)).sort());
  });

  test("vipr.io/weight on the Pods reaches Maglev: a weight-3 pod gets about 3 keys in 4", async () => {
    const c = await start({ watchPods: true, annotations: { "vipr.io/hash-key": "header:x-key" } }, {}, 2);
    const [heavy, light] = pods as [CountingPod, CountingPod];
    for (const [pod, weight] of [[heavy, "3"], [light, "1"]] as const) {
      const object = fakePod(pod.name, { labels: { app: "sise" }, ip: "127.0.0.1" });
      object.metadata!.annotations = { "vipr.io/weight": weight };
      c.fake.apply(object);
    }
    await publish(c);
    await c.tableWhere(
      (table) => table.services.get(KEY)?.endpoints.map((e) => `${e.identity}=${e.weight}`).join() === `${heavy.name}=3,${light.name}=1`,
      "the pods' weights are in the table",
    );
    const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
    const answers: Answer[] = [];
    for (let i = 0; i < keys.length; i += 16) {
      answers.push(...(await Promise.all(keys.slice(i, i + 16).map((key) => send(c.port, "GET", key, { key })))));
    }
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Maglev gives a weight-3 endpoint 3/4 of the table's slots; 400 keys land within a few points
    // of that (equal weights would give about 1/2, far outside the range).
    const share = answers.filter((a) => a.json.pod === heavy.name).length / answers.length;
    expect(share).toBeGreaterThan(0.68);
    expect(share).toBeLessThan(0.82);
    // The same key always reaches the same pod: the weights changed the table, not the hashing.
    const again = await send(c.port, "GET", "again", { key: keys[0]! });
    expect(again.json.pod).toBe(answers[0]!.json.pod);
  });

  test("vipr.io/weight on an EndpointSlice reaches round robin: 3 requests in 4 to its endpoint", async () => {
    // No Pods watched: the slice's annotation is the only source (hand-written slices, or a
    // controller splitting a backend's share). Smooth weighted round robin is exact: 30 and 10.
    const c = await start({ annotations: { "vipr.io/lb-policy": "round-robin" } }, {}, 2);
    const [heavy, light] = pods as [CountingPod, CountingPod];
    for (const [pod, weight] of [[heavy, "3"], [light, "1"]] as const) {
      c.fake.apply(fakeEndpointSlice(`${SERVICE}-${pod.name}`, SERVICE, [{ address: "127.0.0.1", pod: pod.name }], { ports: [{ port: pod.port }], annotations: { "vipr.io/weight": weight } }));
    }
    await c.tableWhere((table) => table.services.get(KEY)?.endpoints.map((e) => e.weight).join() === "3,1", "the slices' weights are in the table");
    const reached: string[] = [];
    for (let i = 0; i < 40; i++) reached.push((await send(c.port, "GET", `rr-${i}`)).json.pod ?? "?");
    expect(reached.filter((pod) => pod === heavy.name)).toHaveLength(30);
    expect(reached.filter((pod) => pod === light.name)).toHaveLength(10);
  });
});
