// sessionAffinity: ClientIP with an injected clock: sticky until timeoutSeconds of silence, expired
// after, kept across endpoint set changes, kept on a terminating endpoint that still serves
// (draining), given up when the endpoint is gone; and the store's own bounds.
import { describe, expect, test } from "vitest";
import { SessionAffinityStore } from "../../router/balancing/session-affinity.ts";
import type { PolicyConfig } from "../../router/balancing/policy-config.ts";
import type { ServiceEntry } from "../../router/table/routing-table.ts";
import { balancer, engines, picked, webService, type PodSpec } from "./balancer-fixtures.ts";

const [[, core]] = engines();
const roundRobin: Partial<PolicyConfig> = { policy: "round-robin" };

/** A clock the test moves, a store on it, and a balancer factory sharing the store (as the router
 * shares one store per service across rebuilds). Round robin starts at the first endpoint. */
function setup(timeoutSeconds = 60) {
  const clock = { now: 1_000_000 };
  const store = new SessionAffinityStore({ now: () => clock.now });
  const build = (pods: Record<string, PodSpec>, config: Partial<PolicyConfig> = roundRobin) =>
    balancer(webService(pods, { affinityTimeout: timeoutSeconds }), config, core, { affinity: store, random: () => 0 });
  return { clock, store, build };
}

const client = "10.1.1.1";
const pickFor = (lb: ReturnType<ReturnType<typeof setup>["build"]>, clientIp: string, extra: { hashKey?: string; attempt?: number } = {}) =>
  picked(lb.pick({ hashKey: extra.hashKey, clientIp, ...(extra.attempt === undefined ? {} : { attempt: extra.attempt }) }));

describe("sessionAffinity ClientIP in the balancer", () => {
  test("sticky while the client is silent for less than the timeout; expired after", () => {
    const { clock, build } = setup(60);
    const lb = build({ a: {}, b: {}, c: {} });
    expect(pickFor(lb, client)).toMatchObject({ endpoint: { identity: "a" }, policy: "round-robin" });
    expect(pickFor(lb, "10.1.1.2").endpoint.identity).toBe("b"); // round robin moved on
    for (let i = 0; i < 5; i++) {
      clock.now += 59_999; // silence is counted from the last request, not the first
      expect(pickFor(lb, client)).toMatchObject({
        endpoint: { identity: "a" },
        policy: "session-affinity",
        reason: "session affinity: the endpoint this client used last",
      });
    }
    clock.now += 60_000;
    const after = pickFor(lb, client);
    expect(after.policy).toBe("round-robin");
    expect(after.endpoint.identity).toBe("c");
    expect(pickFor(lb, client).endpoint.identity).toBe("c"); // bound anew
  });

  test("takes precedence over the hash key; retries and unknown clients are not bound", () => {
    const { build } = setup();
    const lb = build({ a: {}, b: {}, c: {} }, { policy: "maglev", hashKey: { from: "header", name: "x-user" } });
    const keys = Array.from({ length: 50 }, (_, k) => `user-${k}`);
    const home = pickFor(lb, client, { hashKey: keys[0]! }).endpoint;
    for (const key of keys) expect(pickFor(lb, client, { hashKey: key }).endpoint).toBe(home);
    const retry = pickFor(lb, client, { hashKey: keys[0]!, attempt: 1 });
    expect(retry.policy).toBe("maglev");
    expect(retry.endpoint).not.toBe(home);
    expect(pickFor(lb, client, { hashKey: "someone-else" }).endpoint).toBe(home); // the retry did not rebind
    const anonymous = new Set(keys.map((key) => pickFor(lb, "", { hashKey: key }).endpoint.identity));
    expect(anonymous.size).toBe(3);
  });

  test("survives a change of the endpoint set while its endpoint stays eligible", () => {
    const { build } = setup();
    const before = build({ a: {}, b: {}, c: {} });
    pickFor(before, "10.1.1.0"); // a
    expect(pickFor(before, client).endpoint.identity).toBe("b");
    const after = build({ b: { ip: "10.0.0.2" }, d: {}, e: {} }); // b keeps its address
    for (let i = 0; i < 3; i++) expect(pickFor(after, client)).toMatchObject({ endpoint: { identity: "b" }, policy: "session-affinity" });
  });

  test("follows a terminating endpoint that still serves, which gets no new clients", () => {
    const { build } = setup();
    const before = build({ a: {}, b: {}, c: {} });
    pickFor(before, "10.1.1.0"); // a
    expect(pickFor(before, client).endpoint.identity).toBe("b");
    const draining = build({ a: {}, b: { ready: false, serving: true, terminating: true }, c: {} });
    expect(draining.eligibleCount).toBe(2);
    const pick = pickFor(draining, client);
    expect(pick).toMatchObject({
      endpoint: { identity: "b", terminating: true },
      port: 8080,
      policy: "session-affinity",
      reason: "session affinity: the endpoint this client used last, terminating but still serving (draining)",
    });
    draining.acquire(pick);
    expect(draining.inFlight(pick.index)).toBe(1);
    draining.release(pick);
    for (let i = 0; i < 50; i++) expect(pickFor(draining, `10.2.0.${i}`).endpoint.identity).not.toBe("b");
    expect(draining.explain({ hashKey: undefined, clientIp: client }).eligible.endpoints.map((e) => [e.identity, e.eligible])).toEqual([
      ["a", true],
      ["c", true],
      ["b", false],
    ]);
  });

  test.each<[string, Record<string, PodSpec>]>([
    ["removed", { a: {}, c: {} }],
    ["not ready and not serving", { a: {}, b: { ready: false, serving: false, terminating: true }, c: {} }],
    ["not ready (failing its probe)", { a: {}, b: { ready: false }, c: {} }],
    ["restarted at a new address", { a: {}, b: { ip: "10.0.9.9" }, c: {} }],
  ])("gives up when its endpoint is %s, and binds the client anew", (_, pods) => {
    const { build, clock } = setup();
    const before = build({ a: {}, b: {}, c: {} });
    pickFor(before, "10.1.1.0"); // a
    expect(pickFor(before, client).endpoint.address).toBe("10.0.0.2");
    const after = build(pods);
    const moved = pickFor(after, client);
    expect(moved.policy).toBe("round-robin");
    expect(moved.endpoint.address).not.toBe("10.0.0.2");
    clock.now += 1000;
    expect(pickFor(after, client)).toMatchObject({ endpoint: moved.endpoint, policy: "session-affinity" });
  });

  test("explain shows the binding without refreshing it", () => {
    const { build, clock } = setup(60);
    const lb = build({ a: {}, b: {} });
    pickFor(lb, client);
    clock.now += 30_000;
    expect(lb.explain({ hashKey: undefined, clientIp: client }).sessionAffinity).toEqual({
      clientIp: client,
      timeoutSeconds: 60,
      boundTo: { identity: "a", address: "10.0.0.1", silentSeconds: 30 },
    });
    clock.now += 30_000;
    expect(pickFor(lb, client).policy).toBe("round-robin"); // 60 s of silence: explain did not count
  });

  test("a balancer given no store makes its own, on the injected clock; None affinity binds nothing", () => {
    let now = 0;
    const service: ServiceEntry = webService({ a: {}, b: {} }, { affinityTimeout: 10 });
    const lb = balancer(service, roundRobin, core, { random: () => 0, now: () => now });
    expect(pickFor(lb, client).endpoint.identity).toBe("a");
    now += 9_000;
    expect(pickFor(lb, client).policy).toBe("session-affinity");
    now += 10_000;
    expect(pickFor(lb, client).policy).toBe("round-robin");
    const none = balancer(webService({ a: {}, b: {} }), roundRobin, core, { random: () => 0 });
    expect([0, 1].map(() => pickFor(none, client).endpoint.identity)).toEqual(["a", "b"]);
  });
});

describe("SessionAffinityStore", () => {
  const target = (identity: string) => ({ identity, address: `10.0.0.${identity.length}` });

  test("holds at most maxEntries, dropping the client silent the longest", () => {
    let now = 0;
    const store = new SessionAffinityStore({ now: () => now, maxEntries: 3 });
    for (const ip of ["c1", "c2", "c3"]) {
      store.remember(ip, target("a"), 100);
      now += 1000;
    }
    expect(store.lookup("c1", 100)?.target.identity).toBe("a"); // c1 is now the most recent
    store.remember("c4", target("b"), 100);
    expect(store.size).toBe(3);
    expect(store.peek("c2", 100)).toBeUndefined();
    expect(["c1", "c3", "c4"].map((ip) => store.peek(ip, 100)?.target.identity)).toEqual(["a", "a", "b"]);
  });

  test("expires lazily: on lookup, a few at a time on remember, all on sweep", () => {
    let now = 0;
    const store = new SessionAffinityStore({ now: () => now });
    for (let i = 0; i < 20; i++) store.remember(`c${i}`, target("a"), 10);
    now = 10_000;
    expect(store.peek("c0", 10)).toBeUndefined();
    expect(store.size).toBe(20); // peek drops nothing
    expect(store.lookup("c0", 10)).toBeUndefined();
    expect(store.size).toBe(19);
    store.remember("fresh", target("b"), 10);
    expect(store.size).toBe(20 - 8); // 19 left, "fresh" added, the 8 silent the longest dropped
    store.sweep(10);
    expect(store.size).toBe(1);
    store.forget("fresh");
    expect(store.size).toBe(0);
  });

  test("refuses a cap that is not a positive integer", () => {
    expect(() => new SessionAffinityStore({ maxEntries: 0 })).toThrow("session affinity maxEntries must be a positive integer, got 0");
  });
});
