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
    const inTable = (pod: Pod): boolean => cluster.router.table?.services.get("default/simpleservice")?.endpoints.some((e) => e.ports[0]?.port === pod.port) === true;
    publish();
    await eventually(() => old.every(inTable));

    const answers: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) answers.push(await cluster.get());
    })();

    for (let i = 0; i < old.length; i++) {
      const next = await cluster.startPod(`sise-v2-${"abc"[i]}`);
      serving.push({ pod: next });
      publish();
      await eventually(() => inTable(next));
      await new Promise((resolve) => setTimeout(resolve, 30));
      serving = serving.map((s) => (s.pod === old[i] ? { pod: s.pod, terminating: true } : s));
      publish();
      await new Promise((resolve) => setTimeout(resolve, 30));
      serving = serving.filter((s) => s.pod !== old[i]);
      publish();
      await eventually(() => !inTable(old[i]!));
      await old[i]!.close(); // the old pod exits only once no table routes to it
    }
    const during = answers.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    running = false;
    await load;

    expect(during).toBeGreaterThan(10);
    expect(answers.filter((a) => a.startsWith("<"))).toEqual([]);
    for (const answer of answers.slice(during)) expect(answer).toMatch(/^sise-v2-/);
  });
});
