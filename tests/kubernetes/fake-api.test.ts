// The fake API server speaks the API server's wire format (shared DESIGN.md, "Kubernetes wire
// facts"): typed lists paged at one resourceVersion, watch lines, 410 as an ERROR event, bookmarks,
// selectors applied to transitions, Status bodies.
import { describe, expect, test } from "vitest";
import { FakeKubeApi, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";

const base = "https://kube.fake.test";
const get = (fake: FakeKubeApi, path: string, signal?: AbortSignal): Promise<Response> => fake.fetch(new Request(`${base}${path}`, signal === undefined ? {} : { signal }));

/** Reads watch lines until `count` arrived or the stream ended. */
async function lines(response: Response, count: number): Promise<{ lines: any[]; ended: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const out: any[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { lines: out, ended: true };
    text += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = text.indexOf("\n")) !== -1) {
      out.push(JSON.parse(text.slice(0, newline)));
      text = text.slice(newline + 1);
    }
    if (out.length >= count) {
      await reader.cancel();
      return { lines: out, ended: false };
    }
  }
}

describe("fake API server wire format", () => {
  test("a typed list, paged with limit/continue, every page at the first page's resourceVersion", async () => {
    const fake = new FakeKubeApi();
    fake.apply(fakeService("a"), fakeService("b"), fakeService("c"));
    const first = await (await get(fake, "/api/v1/services?limit=2")).json();
    expect(first.kind).toBe("ServiceList");
    expect(first.apiVersion).toBe("v1");
    expect(first.items.map((i: any) => i.metadata.name)).toEqual(["a", "b"]);
    expect(first.items[0].kind).toBeUndefined(); // items of a typed list carry no kind
    expect(first.metadata.remainingItemCount).toBe(1);
    fake.apply(fakeService("d")); // after the first page: not in this list
    const second = await (await get(fake, `/api/v1/services?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`)).json();
    expect(second.items.map((i: any) => i.metadata.name)).toEqual(["c"]);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(second.metadata.continue).toBeUndefined();

    fake.compact();
    const expired = await get(fake, `/api/v1/services?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`);
    expect(expired.status).toBe(410);
    expect(await expired.json()).toMatchObject({ kind: "Status", status: "Failure", reason: "Expired", code: 410 });
  });

  test("watch without a resourceVersion: a synthetic ADDED per object, then changes with increasing resourceVersions", async () => {
    const fake = new FakeKubeApi();
    fake.apply(fakeService("a"));
    const response = await get(fake, "/api/v1/services?watch=true");
    expect(response.status).toBe(200);
    fake.apply(fakeService("a", { labels: { x: "y" } }));
    fake.delete("Service", "default", "a");
    const { lines: events } = await lines(response, 3);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(events[0].object).toMatchObject({ kind: "Service", apiVersion: "v1", metadata: { name: "a", namespace: "default" } });
    const versions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(3);
  });

  test("watch from a resourceVersion replays what came after it; too old: ERROR 410, then the end", async () => {
    const fake = new FakeKubeApi({ historyLimit: 2 });
    fake.apply(fakeService("a"));
    const rv = fake.resourceVersion;
    fake.apply(fakeService("b"));
    const replay = await lines(await get(fake, `/api/v1/services?watch=true&resourceVersion=${rv}`), 1);
    expect(replay.lines.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED b"]);
    fake.apply(fakeService("c"), fakeService("d")); // the history (2) no longer reaches rv
    const tooOld = await lines(await get(fake, `/api/v1/services?watch=true&resourceVersion=${rv}`), 5);
    expect(tooOld.ended).toBe(true);
    expect(tooOld.lines).toEqual([
      { type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/), reason: "Expired", code: 410 } },
    ]);
  });

  test("bookmarks carry only the resourceVersion; timeoutSeconds ends the stream without an ERROR", async () => {
    const fake = new FakeKubeApi({ bookmarkIntervalMs: 20 });
    fake.apply(fakeService("a"));
    const { lines: events } = await lines(await get(fake, `/api/v1/services?watch=true&allowWatchBookmarks=true&resourceVersion=${fake.resourceVersion}`), 1);
    expect(events[0]).toEqual({ type: "BOOKMARK", object: { kind: "Service", apiVersion: "v1", metadata: { resourceVersion: String(fake.resourceVersion) } } });
    const ended = await lines(await get(fake, `/api/v1/services?watch=true&resourceVersion=${fake.resourceVersion}&timeoutSeconds=1`), 10);
    expect(ended).toEqual({ lines: [], ended: true });
  });

  test("a label selector applies to transitions: starts matching is ADDED, stops matching is DELETED", async () => {
    const fake = new FakeKubeApi();
    const response = await get(fake, `/api/v1/services?watch=true&resourceVersion=${fake.resourceVersion}&labelSelector=${encodeURIComponent("tier in (web),!legacy")}`);
    fake.apply(fakeService("a", { labels: { tier: "db" } }));
    fake.apply(fakeService("a", { labels: { tier: "web" } }));
    fake.apply(fakeService("a", { labels: { tier: "web", team: "x" } }));
    fake.apply(fakeService("a", { labels: { tier: "web", legacy: "" } }));
    const { lines: events } = await lines(response, 3);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
  });

  test("namespaced paths, get, and Status answers for unknown paths and methods", async () => {
    const fake = new FakeKubeApi();
    fake.apply(fakeService("a", { namespace: "shop" }), fakeService("b"));
    const list = await (await get(fake, "/api/v1/namespaces/shop/services")).json();
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(["a"]);
    expect((await (await get(fake, "/api/v1/namespaces/shop/services/a")).json()).kind).toBe("Service");
    expect((await get(fake, "/api/v1/namespaces/shop/services/zz")).status).toBe(404);
    expect((await get(fake, "/api/v1/configmaps")).status).toBe(404);
    const post = await fake.fetch(new Request(`${base}/api/v1/services`, { method: "POST", body: "{}" }));
    expect(post.status).toBe(405);
    expect((await get(fake, "/api/v1/services?labelSelector=a%20in%20(")).status).toBe(400);
  });

  test("request faults: a status with Retry-After, then normal answers; apply never changes its input", async () => {
    const fake = new FakeKubeApi();
    const input = fakeService("a");
    const copy = structuredClone(input);
    fake.apply(input);
    expect(input).toEqual(copy);
    fake.faults.failNext({ status: 429, retryAfterSeconds: 2, verb: "list" });
    const limited = await get(fake, "/api/v1/services");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect((await limited.json()).reason).toBe("TooManyRequests");
    expect((await get(fake, "/api/v1/services")).status).toBe(200);
    fake.faults.networkErrorNext();
    expect((await get(fake, "/api/v1/services")).type).toBe("error");
  });
});
