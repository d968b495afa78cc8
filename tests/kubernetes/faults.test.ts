// Each fault of the fake API server, against the source on a real HTTP watch, with the router
// serving loopback pods: the router keeps serving the last table throughout, the loop recovers
// the way client-go's reflector would (re-list on 410, back off and watch again otherwise), and
// the table converges to the fake's objects afterwards.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Pod } from "../support/seed-backends.ts";
import { startRoutedCluster, type RoutedCluster } from "./support/routed-cluster.ts";
import { eventually } from "./support/sync-harness.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
let cluster: RoutedCluster;
let pods: Pod[];
let current: Pod;

// One cluster per test: a fault left behind (a stalled watch, pending failures) cannot leak into
// the next test, and one failure does not turn the rest into timeouts.
beforeEach(async () => {
  cluster = await startRoutedCluster();
  pods = await Promise.all(["sise-a", "sise-b"].map((name) => cluster.startPod(name)));
  current = pods[0]!;
  cluster.route([current]);
  await eventually(() => cluster.source.isReady());
});

afterEach(async () => {
  await cluster?.close();
});

/** Every request, spread over `ms`, reaches the pod the table had before the fault. */
async function keepsServing(ms = 150): Promise<void> {
  const answers: string[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    answers.push(await cluster.get());
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(new Set(answers)).toEqual(new Set([current.name]));
  expect(cluster.source.isReady()).toBe(true);
}

/** Moves the service to the other pod and waits until the router sends traffic there. */
async function converges(timeoutMs = 3000): Promise<void> {
  const next = current === pods[0] ? pods[1]! : pods[0]!;
  cluster.route([next]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await cluster.get()) === next.name) break;
    if (Date.now() > deadline) throw new Error(`the router did not move to ${next.name} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  current = next;
}

async function metric(pattern: RegExp): Promise<number> {
  const text = await cluster.registry.metrics();
  let sum = 0;
  for (const line of text.split("\n")) if (pattern.test(line)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

const relists = (reason: string): Promise<number> => metric(new RegExp(`^vipr_kube_relists_total\\{resource="endpointslices",.*reason="${reason}"`));
const restarts = (reason: string): Promise<number> => metric(new RegExp(`^vipr_kube_watch_restarts_total\\{resource="endpointslices",.*reason="${reason}"`));
const watchesOpen = (): Promise<void> => eventually(() => cluster.fake.openWatches() === 2, 3000, "both watches open");

describe(`faults on ${runtime}`, () => {
  test("ERROR 410 on the watch: re-list, then watch again", async () => {
    await watchesOpen();
    const before = await relists("expired");
    cluster.fake.expireWatches();
    await keepsServing();
    await converges();
    expect(await relists("expired")).toBe(before + 1);
  });

  test("a watch from a compacted resourceVersion: 410 at once, re-list", async () => {
    await watchesOpen();
    const before = await relists("expired");
    // The watch misses a change, the history is compacted past it, the connection breaks: the new
    // watch (from the last resourceVersion the loop saw) is too old, and only a re-list catches up.
    cluster.fake.stallWatches("EndpointSlice");
    const converged = converges();
    cluster.fake.compact();
    cluster.fake.breakWatches("EndpointSlice");
    await converged;
    expect(await relists("expired")).toBe(before + 1);
  });

  test("HTTP 410 on a list: the list is taken again", async () => {
    await watchesOpen();
    cluster.fake.faults.failNext({ status: 410, verb: "list", resource: "endpointslices" });
    cluster.fake.expireWatches("EndpointSlice");
    await keepsServing();
    await converges();
    expect(cluster.fake.faults.pending).toBe(0);
  });

  test.each([429, 500, 503, 403])("HTTP %i on watch and list: back off, then recover", async (status) => {
    await watchesOpen();
    const failures = await metric(new RegExp(`^vipr_kube_request_failures_total\\{.*code="${status}"`));
    cluster.fake.faults.failNext({ status, times: 4, ...(status === 429 ? { retryAfterSeconds: 0 } : {}) });
    cluster.fake.breakWatches();
    await keepsServing();
    await converges();
    expect(await metric(new RegExp(`^vipr_kube_request_failures_total\\{.*code="${status}"`))).toBe(failures + 4);
  });

  test("network errors: the watch breaks and new connections fail for a while", async () => {
    await watchesOpen();
    cluster.fake.faults.networkErrorNext({ times: 4 });
    cluster.fake.breakWatches();
    await keepsServing();
    await converges();
  });

  test("a watch that stalls without closing: the watchdog restarts it, no change is lost", async () => {
    await watchesOpen();
    const before = await restarts("stalled");
    cluster.fake.stallWatches();
    // A change made while the watch is silent arrives once the watchdog has restarted it (the new
    // watch replays from the last resourceVersion): no re-list needed.
    const relistsBefore = await relists("expired");
    await converges(3000);
    expect(await restarts("stalled")).toBeGreaterThan(before);
    expect(await relists("expired")).toBe(relistsBefore);
  });

  test("a dropped event: the table keeps the old endpoints until the next re-list, then converges", async () => {
    await watchesOpen();
    const target = current === pods[0] ? pods[1]! : pods[0]!;
    cluster.fake.dropNextEvent("EndpointSlice");
    cluster.route([current, target]); // one change: the target's slice is added
    await keepsServing(200); // the change never came: the old pod only
    const before = await relists("expired");
    cluster.fake.expireWatches("EndpointSlice");
    const deadline = Date.now() + 3000;
    while ((await cluster.get()) !== target.name) {
      if (Date.now() > deadline) throw new Error("no convergence after one re-list");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await relists("expired")).toBe(before + 1); // within one re-list
    await converges();
  });

  test("a clean end of the stream: watch again from the last resourceVersion, no re-list", async () => {
    await watchesOpen();
    // A change through the watch first: a watch that ends with no event within shortWatchMs of
    // opening counts as failed (watch-once.ts), and a fresh cluster's watch may be that young.
    await converges();
    const before = (await relists("expired")) + (await relists("undecodable"));
    const timeouts = await restarts("timeout");
    cluster.fake.endWatches();
    await keepsServing();
    await converges();
    expect(await restarts("timeout")).toBeGreaterThan(timeouts);
    expect((await relists("expired")) + (await relists("undecodable"))).toBe(before);
  });

  test("a line that is not an event is reported, not dropped, and forces a re-list", async () => {
    await watchesOpen();
    const before = await relists("undecodable");
    cluster.fake.writeToWatches('{"type":"MODIFIED","object":{"metadata"', "EndpointSlice");
    await keepsServing();
    await converges();
    expect(await relists("undecodable")).toBe(before + 1);
    expect(await metric(/^vipr_kube_undecodable_lines_total\{resource="endpointslices"/)).toBeGreaterThanOrEqual(1);
    expect(cluster.logs.some((line) => line.includes("not a watch event") || line.includes("not JSON"))).toBe(true);
  });

  test("the API server down for a while: the last table serves, readiness stays", async () => {
    await watchesOpen();
    cluster.fake.faults.failNext({ status: 503, times: 30 });
    cluster.fake.breakWatches();
    await keepsServing(400);
    cluster.fake.faults.clear();
    await converges(3000);
  });

  test("stop and start: never two watches per collection", async () => {
    await watchesOpen();
    const { source, fake } = cluster;
    const stopped = source.stop();
    source.start(); // before stop() has finished: waits for the old loops
    await stopped;
    const restartedAt = fake.requests.length;
    source.start();
    await watchesOpen();
    await keepsServing();
    await converges();
    // A second loop would have started with the first and listed at once; by now a change has gone
    // all the way through the watch to the router, so both its list and its watch would show here
    // (checked after that work, not after a fixed wait).
    expect(fake.openWatches("Service")).toBe(1);
    expect(fake.openWatches("EndpointSlice")).toBe(1);
    const firstPages = fake.requests.slice(restartedAt).filter((r) => r.verb === "list" && r.params["continue"] === undefined);
    expect(firstPages.map((r) => r.path).sort()).toEqual(["/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices"]);
  });
});
