// Graceful drain of an endpoint that turns terminating (router/dialable-targets.ts): it gets no
// new request while another pod is ready, the request it is serving finishes, and vipr closes its
// pooled keep-alive connections itself, well before the pool's idle timeout (4 s), while the pod
// still listens. A pod that closes an idle connection the router is about to reuse is the classic
// source of resets in a rollout; a router that closes first never meets it.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SERVICE, startCountingPod, startLoad, startResilienceCluster, until, type CountingPod, type ResilienceCluster } from "./support/resilience-cluster.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
let cluster: ResilienceCluster;
const pods: CountingPod[] = [];

beforeAll(async () => {
  cluster = await startResilienceCluster({ annotations: { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-key" } });
});
afterAll(async () => {
  await cluster?.close();
  await Promise.all(pods.map((pod) => pod.close()));
});

/** One GET through the router on a connection of its own, answered after `delayMs` by the pod. */
function slowGet(port: number, key: string, delayMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: "/slow", headers: { host: SERVICE, "x-key": key, "x-delay-ms": String(delayMs), "x-request-id": "slow" }, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

describe(`an endpoint turning terminating on ${runtime}`, () => {
  test("gets no new request, finishes the one in flight, and its idle pooled connections are closed by vipr", async () => {
    pods.push(...(await Promise.all(["sise-a", "sise-b"].map((name) => startCountingPod(name)))));
    const [a, b] = pods as [CountingPod, CountingPod];
    cluster.publish([{ pod: a }, { pod: b }]);
    await until(() => cluster.inTable(a) && cluster.inTable(b), "both pods in the table");
    const podOf = (key: string): string | undefined => {
      const answer = cluster.router.explain({ host: SERVICE, key });
      return answer.found && answer.result.ok ? answer.result.identity : undefined;
    };
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const keyOfA = keys.find((key) => podOf(key) === a.name)!;
    expect(keyOfA).toBeDefined();

    // Warm: keep-alive connections to both pods, several to a.
    const warm = startLoad({ port: cluster.port, loops: 4, prefix: "warm", maxRequests: 80, request: (i) => ({ method: "GET", key: keys[i % keys.length]! }) });
    await until(() => warm.results.length >= 80, "the warm-up responses");
    expect((await warm.stop()).every((r) => r.status === 200)).toBe(true);
    const pooledToA = a.openConnections;
    expect(pooledToA).toBeGreaterThan(0);

    // A slow request in flight on a, then a turns terminating (ready false, serving true).
    const slow = slowGet(cluster.port, keyOfA, 600);
    await until(() => a.received.includes("slow"), "the slow request at pod a");
    const receivedBefore = a.received.length;
    cluster.publish([{ pod: a, terminating: true }, { pod: b }]);
    await until(() => cluster.router.table?.services.get(`default/${SERVICE}`)?.endpoints.some((e) => e.identity === a.name && e.terminating) === true, "a terminating in the table");

    // New requests, a's keys included, all go to b while a drains.
    const during = startLoad({ port: cluster.port, loops: 4, prefix: "drain", maxRequests: 120, request: (i) => ({ method: i % 5 === 0 ? "POST" : "GET", key: keys[i % keys.length]! }) });
    await until(() => during.results.length >= 120, "the requests during the drain");
    const results = await during.stop();
    const answer = await slow;

    // vipr closes a's connections; the pod, still listening, never closed one.
    const closeStarted = Date.now();
    await until(() => a.openConnections === 0, "vipr to close its connections to pod a", 1_500);
    const closedAfterMs = Date.now() - closeStarted;
    console.log(
      `terminating drain on ${runtime}: ${pooledToA} pooled connections to a before, slow request ${answer.status}, ${results.length} requests during the drain (${results.filter((r) => r.pod === b.name).length} to b), a's connections closed ${closedAfterMs} ms after its last response`,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ pod: a.name, id: "slow" });
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.every((r) => r.pod === b.name)).toBe(true);
    expect(a.received.length).toBe(receivedBefore);

    // a is still in the table (terminating) and its server still accepts: nothing but vipr closed them.
    expect(cluster.inTable(a)).toBe(true);
    const direct = await new Promise<number>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port: a.port, path: "/", agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on("error", reject);
    });
    expect(direct).toBe(200);
  });
});
