// A rolling update of every pod of a service, as a Deployment does it: a new pod becomes ready,
// an old one turns terminating (still serving), then leaves the slices, then exits. Requests run
// the whole time; not one may fail, and at the end every request reaches a new pod.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Pod } from "../support/seed-backends.ts";
import { startRoutedCluster, type RoutedCluster } from "./support/routed-cluster.ts";
import { eventually } from "./support/sync-harness.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
let cluster: RoutedCluster;

beforeAll(async () => {
  cluster = await startRoutedCluster();
});
afterAll(async () => {
  await cluster?.close();
});

describe(`rolling update on ${runtime}`, () => {
  test("every pod replaced one by one; no request fails; traffic ends on the new pods", async () => {
    const old: Pod[] = await Promise.all(["sise-v1-a", "sise-v1-b", "sise-v1-c"].map((name) => cluster.startPod(name)));
    let serving: { pod: Pod; terminating?: boolean }[] = old.map((pod) => ({ pod }));
    const publish = (): void =>
      cluster.fake.setEndpoints(
        "simpleservice",
        serving.map(({ pod, terminating }) => ({ address: "127.0.0.1", port: pod.port, pod: pod.name, ready: !terminating, serving: true, terminating: terminating === true })),
      );
    const entryOf = (pod: Pod) => cluster.router.table?.services.get("default/simpleservice")?.endpoints.find((e) => e.ports[0]?.port === pod.port);
    const inTable = (pod: Pod): boolean => entryOf(pod) !== undefined;
    publish();
    await eventually(() => old.every(inTable));

    // Each phase lasts until some requests have gone through it (the load's answers are the
    // events), not for a fixed time: on a busy machine a fixed 30 ms may see no request at all.
    const answers: string[] = [];
    const afterAnswer = new Set<() => void>();
    const answersUntil = (check: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        const listener = (): void => {
          if (!check()) return;
          afterAnswer.delete(listener);
          resolve();
        };
        afterAnswer.add(listener);
        listener();
      });
    let running = true;
    const load = (async () => {
      while (running) {
        answers.push(await cluster.get());
        for (const listener of [...afterAnswer]) listener();
      }
    })();

    for (let i = 0; i < old.length; i++) {
      const next = await cluster.startPod(`sise-v2-${"abc"[i]}`);
      serving.push({ pod: next });
      publish();
      await eventually(() => inTable(next));
      await answersUntil(() => next.hits.length > 0); // the new pod takes traffic
      serving = serving.map((s) => (s.pod === old[i] ? { pod: s.pod, terminating: true } : s));
      publish();
      await eventually(() => entryOf(old[i]!)?.terminating === true);
      const terminatingFrom = answers.length;
      await answersUntil(() => answers.length >= terminatingFrom + 5); // requests while it terminates
      serving = serving.filter((s) => s.pod !== old[i]);
      publish();
      await eventually(() => !inTable(old[i]!));
      await old[i]!.close(); // the old pod exits only once no table routes to it
    }
    const during = answers.length;
    await answersUntil(() => answers.length >= during + 10);
    running = false;
    await load;

    expect(during).toBeGreaterThan(10);
    expect(answers.filter((a) => a.startsWith("<"))).toEqual([]);
    for (const answer of answers.slice(during)) expect(answer).toMatch(/^sise-v2-/);
  });
});
