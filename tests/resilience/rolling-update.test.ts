// A rolling update under load, as a Deployment does it: a new pod starts and turns ready, an old
// one turns terminating (ready false, serving true), then leaves the slices, then exits (idle
// keep-alive connections closed first). GETs and POSTs run the whole time. No GET may fail; a POST
// may fail only with the router's JSON error, and no pod may receive one request id twice.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { moreResults, startCountingPod, startLoad, startResilienceCluster, until, type CountingPod, type PublishedEndpoint, type ResilienceCluster } from "./support/resilience-cluster.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
let cluster: ResilienceCluster;
const pods: CountingPod[] = [];

beforeAll(async () => {
  cluster = await startResilienceCluster();
});
afterAll(async () => {
  await cluster?.close();
  await Promise.all(pods.map((pod) => pod.close()));
});

describe(`rolling update under load on ${runtime}`, () => {
  test("every pod of three replaced one by one: no GET fails, no POST is sent twice", async () => {
    const start = async (name: string): Promise<CountingPod> => {
      const pod = await startCountingPod(name);
      pods.push(pod);
      return pod;
    };
    const old = await Promise.all(["sise-v1-a", "sise-v1-b", "sise-v1-c"].map(start));
    let endpoints: PublishedEndpoint[] = old.map((pod) => ({ pod }));
    cluster.publish(endpoints);
    await until(() => old.every((pod) => cluster.inTable(pod)), "the first three pods in the table");

    // One POST in four.
    const load = startLoad({ port: cluster.port, loops: 4, prefix: "roll", request: (i) => ({ method: i % 4 === 3 ? "POST" : "GET" }) });
    await moreResults(load.results, 0, 40);
    for (const [i, retiring] of old.entries()) {
      const next = await start(`sise-v2-${"abc"[i]}`);
      endpoints = [...endpoints, { pod: next }];
      cluster.publish(endpoints);
      await until(() => cluster.inTable(next), `${next.name} in the table`);
      await moreResults(load.results, load.results.length, 20);
      endpoints = endpoints.map((e) => (e.pod === retiring ? { pod: e.pod, terminating: true } : e));
      cluster.publish(endpoints);
      await moreResults(load.results, load.results.length, 20);
      endpoints = endpoints.filter((e) => e.pod !== retiring);
      cluster.publish(endpoints);
      await until(() => !cluster.inTable(retiring), `${retiring.name} out of the table`);
      await retiring.close();
    }
    const during = load.results.length;
    await moreResults(load.results, during, 40);
    const results = await load.stop();

    const gets = results.filter((r) => r.method === "GET");
    const posts = results.filter((r) => r.method === "POST");
    const failedPosts = posts.filter((r) => r.status !== 200);
    const received = pods.flatMap((pod) => pod.received);
    const twice = received.filter((id, i) => received.indexOf(id) !== i);
    const retried = [...cluster.tries.values()].filter((n) => n > 1).length;
    console.log(`rolling update on ${runtime}: sent ${results.length} (${gets.length} GET, ${posts.length} POST), failed GET ${gets.filter((r) => r.status !== 200).length}, failed POST ${failedPosts.length}, retried ${retried}`);

    expect(during).toBeGreaterThan(100);
    expect(gets.filter((r) => r.status !== 200)).toEqual([]);
    // A POST that failed failed with a clear error from the router, never a broken connection.
    for (const failed of failedPosts) {
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(failed.error).toMatch(/^upstream_/);
    }
    expect(twice).toEqual([]);
    // Every successful answer came from a pod that received that request id exactly once.
    for (const r of results.filter((r) => r.status === 200)) expect(pods.find((p) => p.name === r.pod)?.received).toContain(r.id);
    // Traffic ends on the new pods.
    for (const r of results.slice(during + 8)) expect(r.pod).toMatch(/^sise-v2-/);
  });
});
