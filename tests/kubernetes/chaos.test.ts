// Chaos: random sequences of object changes and API faults (fast-check, seeded, bounded), then the
// source's table must equal a table built directly from the fake's final objects. A dropped event
// is only repaired by a re-list, so a run that dropped one ends with a forced re-list (410).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { fakePod, fakeService, type FakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubePod, KubeService } from "../../router/table/kubernetes-objects.ts";
import { eventually, startHarness } from "./support/sync-harness.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const names = ["a", "b", "c"];
const namespaces = ["default", "shop"];
const addresses = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];

type Step = { readonly label: string; run(fake: FakeKubeApi): void; readonly drops?: boolean };

const service = fc.record({ name: fc.constantFrom(...names), namespace: fc.constantFrom(...namespaces) });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.tuple(service, fc.constantFrom(80, 8080), fc.boolean()).map(([s, port, named]) => ({
    label: `apply service ${s.namespace}/${s.name}:${port}`,
    run: (fake: FakeKubeApi) => void fake.apply(fakeService(s.name, { namespace: s.namespace, ports: [{ ...(named ? { name: "http" } : {}), port, targetPort: 9000 }] })),
  })),
  service.map((s) => ({ label: `delete service ${s.namespace}/${s.name}`, run: (fake: FakeKubeApi) => void fake.delete("Service", s.namespace, s.name) })),
  fc.tuple(service, fc.subarray(addresses), fc.boolean()).map(([s, ips, ready]) => ({
    label: `endpoints ${s.namespace}/${s.name} = ${ips.join(",")}${ready ? "" : " (not ready)"}`,
    run: (fake: FakeKubeApi) => fake.setEndpoints(s, ips.map((ip, i) => ({ address: ip, pod: `${s.name}-${i}`, ready: ready || i > 0, port: 9000 + (i % 2) }))),
  })),
  fc.tuple(service, fc.constantFrom("canary", "stable")).map(([s, track]) => ({
    label: `pod ${s.namespace}/${s.name}-0 track=${track}`,
    run: (fake: FakeKubeApi) => void fake.apply(fakePod(`${s.name}-0`, { namespace: s.namespace, labels: { app: s.name, track } })),
  })),
  service.map((s) => ({ label: `delete pod ${s.namespace}/${s.name}-0`, run: (fake: FakeKubeApi) => void fake.delete("Pod", s.namespace, `${s.name}-0`) })),
  fc.constantFrom<Step>(
    { label: "expire watches (ERROR 410)", run: (fake) => fake.expireWatches() },
    { label: "end watches", run: (fake) => fake.endWatches() },
    { label: "break watches", run: (fake) => fake.breakWatches() },
    { label: "stall watches", run: (fake) => fake.stallWatches() },
    { label: "compact", run: (fake) => fake.compact() },
    { label: "garbage line", run: (fake) => fake.writeToWatches("{garbage") },
    { label: "network errors x2", run: (fake) => fake.faults.networkErrorNext({ times: 2 }) },
    { label: "drop next event", run: (fake) => fake.dropNextEvent(), drops: true },
    { label: "HTTP 410 on next list", run: (fake) => fake.faults.failNext({ status: 410, verb: "list" }) },
  ),
  fc.tuple(fc.constantFrom(403, 429, 500, 503), fc.integer({ min: 1, max: 3 }), fc.constantFrom<"list" | "watch">("list", "watch")).map(([status, times, verb]) => ({
    label: `${status} x${times} on ${verb}`,
    run: (fake: FakeKubeApi) => fake.faults.failNext({ status, times, verb }),
  })),
  fc.integer({ min: 1, max: 40 }).map((ms) => ({ label: `pause ${ms} ms`, run: () => {}, pause: ms })),
);

describe(`chaos on ${runtime}`, () => {
  test("after random changes and faults, the table equals one built from the fake's objects", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const harness = await startHarness({ watchPods: true });
        try {
          const { fake, source } = harness;
          await eventually(() => source.isReady(), 3000, "first sync");
          for (const s of steps) {
            s.run(fake);
            const pause = (s as { pause?: number }).pause;
            await new Promise((resolve) => setTimeout(resolve, pause ?? 1));
          }
          fake.faults.clear();
          if (steps.some((s) => s.drops === true)) fake.expireWatches();
          const expected = () =>
            buildRoutingTable({
              services: fake.objects("Service") as KubeService[],
              endpointSlices: fake.objects("EndpointSlice") as KubeEndpointSlice[],
              pods: fake.objects("Pod") as KubePod[],
            }).services;
          await eventually(() => expect(source.table!.services).toEqual(expected()), 4000, "convergence");
        } finally {
          await harness.close();
        }
      }),
      { seed: 0x5eed, numRuns: 12, endOnFailure: true },
    );
  });
});
