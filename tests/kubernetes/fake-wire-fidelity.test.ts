// Where a real API server's answers differ from a naive fake, the fake answers as the server does,
// each switchable where servers differ: a watch from a future resourceVersion (504 after the watch
// cache's 3 s), a re-watch after a 410 (410 again), the bookmark cadence (a minute, or none without
// the watch cache), sendInitialEvents, and short list pages. And vipr's KubernetesSource copes.
import { afterEach, describe, expect, test } from "vitest";
import type { Clock } from "../../adapters/kubernetes/clock.ts";
import { FakeKubeApi, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";
import type { KubeApiClient } from "../../adapters/kubernetes/kube-api-client.ts";
import { ListWatchLoop, type ListReason } from "../../adapters/kubernetes/list-watch-loop.ts";
import { ObjectStore, type KubeObject } from "../../adapters/kubernetes/object-store.ts";
import { watchedResources } from "../../adapters/kubernetes/watched-resources.ts";
import { endpointsOf, eventually, startHarness, type Harness } from "./support/sync-harness.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const base = "https://kube.fake.test";
const get = (fake: FakeKubeApi, path: string): Promise<Response> => fake.fetch(new Request(`${base}${path}`));

/** A clock that moves only when told: timers fire inside advance(), in order. */
class ManualClock implements Clock {
  #now = 1_700_000_000_000;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #ids = 0;
  now(): number {
    return this.#now;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#ids;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = [...this.#timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = until;
  }
}

/** Lets pending promise callbacks run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Reads a watch stream: `take(n)` waits for n more events; `queued()` is what already arrived. */
function events(response: Response): { take(count: number): Promise<any[]>; queued(): any[]; close(): Promise<void>; ended(): boolean } {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const arrived: any[] = [];
  let text = "";
  let done = false;
  const waiters: (() => void)[] = [];
  void (async () => {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      let newline: number;
      while ((newline = text.indexOf("\n")) !== -1) {
        arrived.push(JSON.parse(text.slice(0, newline)));
        text = text.slice(newline + 1);
      }
      for (const wake of waiters.splice(0)) wake();
    }
    done = true;
    for (const wake of waiters.splice(0)) wake();
  })();
  let taken = 0;
  return {
    async take(count) {
      while (arrived.length < taken + count && !done) await new Promise<void>((resolve) => waiters.push(resolve));
      const out = arrived.slice(taken, taken + count);
      taken += out.length;
      return out;
    },
    queued: () => arrived.slice(taken),
    ended: () => done,
    close: () => reader.cancel(),
  };
}

const summary = (event: any): string => `${event.type} ${event.object.metadata.name ?? event.object.metadata.resourceVersion}`;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe(`fake API server wire fidelity on ${runtime}`, () => {
  test("a watch from a future resourceVersion: the watch cache waits 3 s, then 504 Too large resource version", async () => {
    const clock = new ManualClock();
    const fake = new FakeKubeApi({ clock });
    fake.apply(fakeService("a"));
    const current = fake.resourceVersion;
    let answered: Response | undefined;
    void get(fake, `/api/v1/services?watch=true&resourceVersion=${current + 5}`).then((r) => (answered = r));
    await settle();
    clock.advance(2999);
    await settle();
    expect(answered).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(answered?.status).toBe(504);
    expect(answered?.headers.get("retry-after")).toBe("1");
    expect(await answered!.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `Timeout: Too large resource version: ${current + 5}, current: ${current}`,
      reason: "Timeout",
      details: { causes: [{ type: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 },
      code: 504,
    });

    // Reached within the wait: the watch opens, with what comes after that resourceVersion only.
    const pending = get(fake, `/api/v1/services?watch=true&resourceVersion=${current + 1}`);
    fake.apply(fakeService("b"));
    const watch = events(await pending);
    fake.apply(fakeService("c"));
    expect((await watch.take(1)).map(summary)).toEqual(["ADDED c"]);
    await watch.close();
    fake.close();
  });

  test("vipr's loop holding a resourceVersion the server never reached (etcd restored from a backup): 504, then it re-lists", async () => {
    const before = new FakeKubeApi({ initialResourceVersion: 5000 });
    before.apply(fakeService("old"));
    const restored = new FakeKubeApi({ initialResourceVersion: 1000, tooLargeResourceVersionWaitMs: 0 });
    restored.apply(fakeService("kept"));
    let server = before;
    const client: KubeApiClient = { server: base, get: (path, signal) => server.fetch(new Request(`${base}${path}`, { signal })), close: async () => {} };
    const store = new ObjectStore<KubeObject>();
    const lists: ListReason[] = [];
    const loop = new ListWatchLoop<KubeObject>({
      client,
      resource: watchedResources.find((r) => r.kind === "Service")!,
      sink: { replace: (objects) => store.replace(objects), upsert: (object) => store.upsert(object), remove: (object) => store.remove(object) },
      observer: { listed: ({ reason }) => lists.push(reason) },
      timing: { minWatchTimeoutSeconds: 1, watchSilenceMs: 300, shortWatchMs: 0, backoff: { initialMs: 1, maxMs: 5 } },
    });
    loop.start();
    try {
      await eventually(() => before.openWatches() === 1, 3000, "the first watch");
      server = restored;
      before.breakWatches();
      await eventually(() => expect([...store.keys()]).toEqual(["default/kept"]), 3000, "a re-list from the restored server");
      expect(lists).toEqual(["initial", "too-large"]);
      const watches = restored.requests.filter((r) => r.verb === "watch").map((r) => r.params["resourceVersion"]);
      expect(watches[0]).toBe("5001"); // the one 504
    } finally {
      await loop.stop();
      before.close();
      restored.close();
    }
  });

  test("without the watch cache a future resourceVersion is accepted and waits (an etcd watch); the wait is an option", async () => {
    const fake = new FakeKubeApi({ watchCache: false });
    const watch = events(await get(fake, `/api/v1/services?watch=true&resourceVersion=${fake.resourceVersion + 1}`));
    fake.apply(fakeService("a"), fakeService("b"));
    expect((await watch.take(1)).map(summary)).toEqual(["ADDED b"]);
    await watch.close();

    const quick = new FakeKubeApi({ tooLargeResourceVersionWaitMs: 0 });
    expect((await get(quick, `/api/v1/services?watch=true&resourceVersion=${quick.resourceVersion + 1}`)).status).toBe(504);
  });

  test("after expireWatches a watch again from the old resourceVersion is 410 again; from a re-list's it is not", async () => {
    const fake = new FakeKubeApi();
    fake.apply(fakeService("a"));
    const old = fake.resourceVersion;
    const first = events(await get(fake, `/api/v1/services?watch=true&resourceVersion=${old}`));
    const pods = events(await get(fake, `/api/v1/pods?watch=true&resourceVersion=${old}`));
    fake.apply(fakeService("b"));
    expect((await first.take(1)).map(summary)).toEqual(["ADDED b"]);
    fake.expireWatches("Service");
    expect((await first.take(1)).map((e) => `${e.type} ${e.object.code} ${e.object.reason}`)).toEqual(["ERROR 410 Expired"]);

    const naive = events(await get(fake, `/api/v1/services?watch=true&resourceVersion=${old}`));
    const again = await naive.take(2);
    expect(again.map((e) => `${e.type} ${e.object.code} ${e.object.reason}`)).toEqual(["ERROR 410 Expired"]);
    expect(again[0].object.message).toBe(`too old resource version: ${old} (${fake.resourceVersion + 1})`);
    expect(naive.ended()).toBe(true);

    const listed = (await (await get(fake, "/api/v1/services")).json()).metadata.resourceVersion;
    const fresh = events(await get(fake, `/api/v1/services?watch=true&resourceVersion=${listed}`));
    fake.apply(fakeService("c"));
    expect((await fresh.take(1)).map(summary)).toEqual(["ADDED c"]);
    // Another resource's window did not move: its watch from the old resourceVersion still works.
    const podsAgain = events(await get(fake, `/api/v1/pods?watch=true&resourceVersion=${old}`));
    expect(podsAgain.ended()).toBe(false);
    for (const w of [fresh, pods, podsAgain]) await w.close();
    fake.close();
  });

  test("vipr after an expiry with a missed change: it re-lists, never re-watches from the expired resourceVersion, and its table is right", async () => {
    harness = await startHarness({
      seed: (fake) => {
        fake.apply(fakeService("web"));
        fake.setEndpoints("web", ["10.0.0.1"]);
      },
    });
    const { fake, source } = harness;
    await eventually(() => source.isReady() && fake.openWatches() === 2, 3000, "ready, both watches open");
    fake.dropNextEvent("EndpointSlice");
    fake.setEndpoints("web", ["10.0.0.2"]);
    const compactedAt = fake.resourceVersion;
    const seen = fake.requests.length;
    fake.expireWatches();
    await eventually(() => expect(endpointsOf(source.table, "default/web")).toEqual(["10.0.0.2:80"]), 3000, "the missed change after a re-list");
    await eventually(() => fake.openWatches() === 2, 3000, "both watches open again");
    const watches = fake.requests.slice(seen).filter((r) => r.verb === "watch");
    expect(watches.length).toBeGreaterThan(0);
    for (const w of watches) expect(Number(w.params["resourceVersion"])).toBeGreaterThanOrEqual(compactedAt);
  });

  test("bookmarks: about once a minute by default; none with bookmarkIntervalMs false or without the watch cache", async () => {
    const clock = new ManualClock();
    const fake = new FakeKubeApi({ clock });
    const watch = events(await get(fake, `/api/v1/services?watch=true&allowWatchBookmarks=true&resourceVersion=${fake.resourceVersion}`));
    clock.advance(59_999);
    await settle();
    expect(watch.queued()).toEqual([]);
    clock.advance(1);
    expect((await watch.take(1)).map((e) => e.type)).toEqual(["BOOKMARK"]);
    await watch.close();

    // And one 2 s before the watch's deadline, when that comes before the next heartbeat.
    const short = events(await get(fake, `/api/v1/services?watch=true&allowWatchBookmarks=true&resourceVersion=${fake.resourceVersion}&timeoutSeconds=10`));
    clock.advance(7_999);
    await settle();
    expect(short.queued()).toEqual([]);
    clock.advance(1);
    expect((await short.take(1)).map((e) => e.type)).toEqual(["BOOKMARK"]);
    clock.advance(2_000);
    expect(await short.take(1)).toEqual([]);
    expect(short.ended()).toBe(true);

    for (const options of [{ bookmarkIntervalMs: false as const }, { bookmarkIntervalMs: 0 }, { watchCache: false }]) {
      const quiet = new FakeKubeApi({ clock, ...options });
      const silent = events(await get(quiet, `/api/v1/services?watch=true&allowWatchBookmarks=true&resourceVersion=${quiet.resourceVersion}&timeoutSeconds=600`));
      clock.advance(599_000);
      await settle();
      expect(silent.queued()).toEqual([]);
      expect(silent.ended()).toBe(false);
      await silent.close();
    }
  });

  test("vipr with no bookmarks at all still syncs and follows changes (its watchdog restarts quiet watches)", async () => {
    harness = await startHarness({ fake: { bookmarkIntervalMs: false }, seed: (fake) => fake.apply(fakeService("web")) });
    const { fake, source } = harness;
    await eventually(() => source.isReady(), 3000, "ready");
    fake.setEndpoints("web", ["10.0.0.7"]);
    await eventually(() => expect(endpointsOf(source.table, "default/web")).toEqual(["10.0.0.7:80"]), 3000, "the change");
    expect(fake.requests.some((r) => r.verb === "watch")).toBe(true);
  });

  test("sendInitialEvents=true: an ADDED per object, the initial-events-end BOOKMARK, then changes", async () => {
    const fake = new FakeKubeApi();
    fake.apply(fakeService("a"), fakeService("b"));
    const query = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan";
    const watch = events(await get(fake, `/api/v1/services?${query}&allowWatchBookmarks=true`));
    const initial = await watch.take(3);
    expect(initial.map((e) => e.type)).toEqual(["ADDED", "ADDED", "BOOKMARK"]);
    expect(initial[2].object).toEqual({ kind: "Service", apiVersion: "v1", metadata: { resourceVersion: String(fake.resourceVersion), annotations: { "k8s.io/initial-events-end": "true" } } });
    fake.apply(fakeService("a", { labels: { x: "y" } }));
    expect((await watch.take(1)).map(summary)).toEqual(["MODIFIED a"]);
    await watch.close();

    // Without allowWatchBookmarks the watch cache sends the initial events but no end bookmark.
    const plain = events(await get(fake, `/api/v1/services?${query}&resourceVersion=${fake.resourceVersion}`));
    fake.apply(fakeService("c"));
    expect((await plain.take(3)).map(summary)).toEqual(["ADDED a", "ADDED b", "ADDED c"]);
    await plain.close();

    // sendInitialEvents=false from no resourceVersion: only what changes from now on.
    const fromNow = events(await get(fake, "/api/v1/services?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan"));
    fake.apply(fakeService("d"));
    expect((await fromNow.take(1)).map(summary)).toEqual(["ADDED d"]);
    await fromNow.close();
    fake.close();
  });

  test("sendInitialEvents rules: NotOlderThan required, resourceVersionMatch needs it on a watch, forbidden on a list (422)", async () => {
    const fake = new FakeKubeApi();
    const cases = [
      ["watch=true&sendInitialEvents=true&allowWatchBookmarks=true", "resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"],
      ["watch=true&resourceVersionMatch=NotOlderThan", "resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"],
      ["sendInitialEvents=true", "sendInitialEvents", "sendInitialEvents is forbidden for list"],
    ] as const;
    for (const [query, field, detail] of cases) {
      const response = await get(fake, `/api/v1/services?${query}`);
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({
        reason: "Invalid",
        message: `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${detail}`,
        details: { group: "meta.k8s.io", kind: "ListOptions", causes: [{ reason: "FieldValueForbidden", field }] },
        code: 422,
      });
    }
  });

  test("short pages: fewer items than limit, continue still leads through one snapshot; an expired continue is 410 Expired", async () => {
    const fake = new FakeKubeApi({ maxPageItems: 2 });
    fake.apply(...["a", "b", "c", "d", "e"].map((name) => fakeService(name)));
    const names: string[] = [];
    const versions = new Set<string>();
    let token = "";
    let pages = 0;
    let first = "";
    do {
      const page = await (await get(fake, `/api/v1/services?limit=5${token === "" ? "" : `&continue=${encodeURIComponent(token)}`}`)).json();
      if (first === "") first = page.metadata.continue;
      expect(page.items.length).toBeLessThanOrEqual(2);
      names.push(...page.items.map((i: any) => i.metadata.name));
      versions.add(page.metadata.resourceVersion);
      token = page.metadata.continue ?? "";
      pages++;
      if (pages === 1) fake.apply(fakeService("f")); // after the first page: not in this list
    } while (token !== "");
    expect(names).toEqual(["a", "b", "c", "d", "e"]);
    expect(pages).toBe(3);
    expect(versions.size).toBe(1);

    fake.compact();
    const expired = await get(fake, `/api/v1/services?limit=5&continue=${encodeURIComponent(first)}`);
    expect(expired.status).toBe(410);
    const status = await expired.json();
    expect(status).toMatchObject({ kind: "Status", status: "Failure", reason: "Expired", code: 410 });
    // Its inconsistent continue token resumes after the last item served, from the current state.
    fake.delete("Service", "default", "d");
    const rest = await (await get(fake, `/api/v1/services?limit=5&continue=${encodeURIComponent(status.metadata.continue)}`)).json();
    expect(rest.items.map((i: any) => i.metadata.name)).toEqual(["c", "e"]);
    expect(rest.metadata.resourceVersion).toBe(String(fake.resourceVersion));
    expect(rest.metadata.continue).toBeTruthy(); // pages of 2: "f" is left
  });

  test("vipr lists through short pages and gets every service", async () => {
    harness = await startHarness({
      fake: { maxPageItems: 1 },
      seed: (fake) => {
        for (const name of ["a", "b", "c", "d", "e"]) fake.apply(fakeService(name));
      },
    });
    const { fake, source } = harness;
    await eventually(() => source.isReady(), 3000, "ready");
    expect([...source.table!.services.keys()].sort()).toEqual(["a", "b", "c", "d", "e"].map((n) => `default/${n}`));
    expect(fake.requests.filter((r) => r.verb === "list" && r.path === "/api/v1/services").length).toBe(5);
  });
});
