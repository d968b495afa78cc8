// Scale 3 -> 1 -> 3 under load with Maglev on a header key: no GET fails, and the keys of the pod
// that survives the scale-down stay on it: while the others drain and leave, and, for the keys it
// still owns once the new pods have joined, during the scale-up too.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { moreResults, startCountingPod, startLoad, startResilienceCluster, until, type CountingPod, type LoadResult, type ResilienceCluster } from "./support/resilience-cluster.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const KEYS = Array.from({ length: 60 }, (_, i) => `user-${i}`);
let cluster: ResilienceCluster;
const pods: CountingPod[] = [];

beforeAll(async () => {
  cluster = await startResilienceCluster({ annotations: { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-key" } });
});
afterAll(async () => {
  await cluster?.close();
  await Promise.all(pods.map((pod) => pod.close()));
});

/** The pod each key was answered by in `results`, requiring one pod per key. */
function owners(results: readonly LoadResult[]): Map<string, string> {
  const owner = new Map<string, string>();
  for (const r of results) {
    const seen = owner.get(r.key!);
    if (seen !== undefined && seen !== r.pod) throw new Error(`key ${r.key} answered by ${seen} and ${r.pod} in one steady phase`);
    owner.set(r.key!, r.pod!);
  }
  return owner;
}

describe(`scale 3 -> 1 -> 3 under load on ${runtime}`, () => {
  test("no GET fails; the surviving pod keeps its keys", async () => {
    const start = async (name: string): Promise<CountingPod> => {
      const pod = await startCountingPod(name);
      pods.push(pod);
      return pod;
    };
    const [a, b, c] = await Promise.all(["sise-a", "sise-b", "sise-c"].map(start));
    cluster.publish([{ pod: a! }, { pod: b! }, { pod: c! }]);
    await until(() => [a!, b!, c!].every((pod) => cluster.inTable(pod)), "three pods in the table");

    const load = startLoad({ port: cluster.port, loops: 4, prefix: "scale", request: (i) => ({ method: "GET", key: KEYS[i % KEYS.length]! }) });
    await moreResults(load.results, 0, 3 * KEYS.length);
    const atThree = owners(load.results);
    const keysOfA = KEYS.filter((key) => atThree.get(key) === a!.name);
    expect(keysOfA.length).toBeGreaterThan(5);

    // Down to one: b and c drain (terminating), leave the slices, exit.
    const downFrom = load.results.length;
    cluster.publish([{ pod: a! }, { pod: b!, terminating: true }, { pod: c!, terminating: true }]);
    await moreResults(load.results, load.results.length, 30);
    cluster.publish([{ pod: a! }]);
    await until(() => !cluster.inTable(b!) && !cluster.inTable(c!), "b and c out of the table");
    await Promise.all([b!.close(), c!.close()]);
    await moreResults(load.results, load.results.length, 2 * KEYS.length);
    const downTo = load.results.length;

    // Back to three with two new pods.
    const [d, e] = await Promise.all(["sise-d", "sise-e"].map(start));
    cluster.publish([{ pod: a! }, { pod: d! }, { pod: e! }]);
    await until(() => cluster.inTable(d!) && cluster.inTable(e!), "d and e in the table");
    await moreResults(load.results, load.results.length, 30);
    const settled = load.results.length;
    await moreResults(load.results, settled, 3 * KEYS.length);
    const results = await load.stop();
    const atThreeAgain = owners(results.slice(settled));

    const failed = results.filter((r) => r.status !== 200);
    console.log(`scale 3 -> 1 -> 3 on ${runtime}: sent ${results.length}, failed ${failed.length}, retried ${[...cluster.tries.values()].filter((n) => n > 1).length}, keys on the survivor ${keysOfA.length}/${KEYS.length}, still its own after scale-up ${KEYS.filter((k) => atThreeAgain.get(k) === a!.name).length}`);
    expect(failed).toEqual([]);
    // Scale-down: a's keys were answered by a at every moment.
    for (const r of results.slice(downFrom, downTo)) if (keysOfA.includes(r.key!)) expect(r.pod, r.key).toBe(a!.name);
    // At one pod every key is a's.
    for (const r of results.slice(downTo - KEYS.length, downTo)) expect(r.pod).toBe(a!.name);
    // Scale-up: a key a keeps at three pods was never answered elsewhere on the way.
    const keptByA = KEYS.filter((key) => keysOfA.includes(key) && atThreeAgain.get(key) === a!.name);
    expect(keptByA.length).toBeGreaterThan(0);
    for (const r of results.slice(downTo)) if (keptByA.includes(r.key!)) expect(r.pod, r.key).toBe(a!.name);
  });
});
