// A pod killed mid-load: its server destroys every socket and stops listening while the table
// still routes to it (nobody told the API server). GETs it never answered are retried on another
// pod (a refused connection sent nothing, so any method may be retried); passive health ejects it
// after a few failures, and from then on it is not even tried.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { moreResults, startCountingPod, startLoad, startResilienceCluster, until, type CountingPod, type ResilienceCluster } from "./support/resilience-cluster.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
let cluster: ResilienceCluster;
const pods: CountingPod[] = [];

beforeAll(async () => {
  // Ejection long enough that the dead pod stays out for the rest of the test.
  cluster = await startResilienceCluster({ outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 60_000 } });
});
afterAll(async () => {
  await cluster?.close();
  await Promise.all(pods.map((pod) => pod.close()));
});

describe(`a pod killed under load on ${runtime}`, () => {
  test("its requests are retried elsewhere; it is ejected; no request fails", async () => {
    pods.push(...(await Promise.all(["sise-a", "sise-b", "sise-c"].map((name) => startCountingPod(name)))));
    const [a, b, c] = pods;
    cluster.publish(pods.map((pod) => ({ pod })));
    await until(() => pods.every((pod) => cluster.inTable(pod)), "three pods in the table");

    const load = startLoad({ port: cluster.port, loops: 4, prefix: "kill", request: () => ({ method: "GET" }) });
    await moreResults(load.results, 0, 60);
    const killedAt = load.results.length;
    await b!.kill();
    const ejected = (): boolean => cluster.router.endpointHealth().get("default/simpleservice")?.some((e) => (e.identity === b!.name || e.address.endsWith(`:${b!.port}`)) && e.ejectedUntil !== null) === true;
    await until(ejected, "the killed pod ejected");
    const ejectedAt = load.results.length;
    const triesAtEjection = new Map(cluster.tries);
    await moreResults(load.results, ejectedAt, 150);
    const results = await load.stop();

    // Retried: answered with 200 after more than one try (the first on the dead pod).
    const retried = results.filter((r) => r.status === 200 && (cluster.tries.get(r.id) ?? 0) > 1);
    const failedBefore = results.slice(0, ejectedAt).filter((r) => r.status !== 200);
    const failedAfter = results.slice(ejectedAt).filter((r) => r.status !== 200);
    const triedAfter = results.slice(ejectedAt + 4).filter((r) => (cluster.tries.get(r.id) ?? 0) > (triesAtEjection.get(r.id) ?? 0) + 1);
    console.log(
      `pod killed on ${runtime}: sent ${results.length} (${ejectedAt - killedAt} between kill and ejection), retried ${retried.length}, failed before ejection ${failedBefore.length}, failed after ${failedAfter.length}, ejected ${ejected() ? 1 : 0}`,
    );
    expect(failedBefore).toEqual([]);
    expect(failedAfter).toEqual([]);
    expect(retried.length).toBeGreaterThan(0);
    // Once ejected, the dead pod is not tried: every later request took one try.
    expect(triedAfter).toEqual([]);
    for (const r of results.slice(ejectedAt)) expect([a!.name, c!.name]).toContain(r.pod);
  });
});
