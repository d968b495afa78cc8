// The API server gone under load: its open watches break and every later request fails as an
// unreachable server would. Routing goes on with the last table, without one failure; once the
// server is back, the source lists and watches again and a change made meanwhile applies.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { moreResults, startCountingPod, startLoad, startResilienceCluster, type CountingPod, type ResilienceCluster } from "./support/resilience-cluster.ts";

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

describe(`API server gone under load on ${runtime}`, () => {
  test("routing continues on the last table; a change made while it was gone applies once it is back", async () => {
    pods.push(...(await Promise.all(["sise-a", "sise-b", "sise-c"].map((name) => startCountingPod(name)))));
    const [a, b, c] = pods;
    cluster.publish([{ pod: a! }, { pod: b! }]);
    await cluster.tableWhere(() => cluster.inTable(a!) && cluster.inTable(b!), "a and b are in it");

    const load = startLoad({ port: cluster.port, loops: 4, prefix: "api", request: (i) => ({ method: i % 5 === 4 ? "POST" : "GET" }) });
    await moreResults(load.results, 0, 40);
    const table = cluster.router.table;
    cluster.apiDown = true;
    cluster.fake.breakWatches();
    const goneAt = load.results.length;
    // Gone long enough for several failed re-lists of each collection (backoff 5..50 ms): counted
    // as the source's refused requests, not guessed as a time.
    await cluster.apiRefused(8);
    await moreResults(load.results, load.results.length, 100);
    // A change while the server is gone: the fake holds it, nobody can read it yet.
    cluster.publish([{ pod: a! }, { pod: c! }]);
    await moreResults(load.results, load.results.length, 40);
    const backAt = load.results.length;
    expect(cluster.router.table).toBe(table);
    expect(cluster.inTable(c!)).toBe(false);

    cluster.apiDown = false;
    await cluster.tableWhere(() => cluster.inTable(c!) && !cluster.inTable(b!), "the change made while the API server was gone applies");
    const appliedAt = load.results.length;
    await moreResults(load.results, appliedAt, 60);
    const results = await load.stop();

    const failed = results.filter((r) => r.status !== 200);
    console.log(`API server gone on ${runtime}: sent ${results.length} (${backAt - goneAt} while gone), failed ${failed.length}, retried ${[...cluster.tries.values()].filter((n) => n > 1).length}`);
    expect(backAt - goneAt).toBeGreaterThan(100);
    expect(failed).toEqual([]);
    for (const r of results.slice(goneAt, backAt)) expect([a!.name, b!.name]).toContain(r.pod);
    for (const r of results.slice(appliedAt + 4)) expect([a!.name, c!.name]).toContain(r.pod);
  });
});
