// Slow start: the weight formula (Envoy's), the shares least-request and round robin give a new
// endpoint as it ramps, and when an endpoint counts as new (ServiceStates keeps each service's
// "ready since" across rebuilds; the first snapshot's endpoints are warm). Clock and random
// source are injected, so every figure repeats from run to run.
import { describe, expect, test } from "vitest";
import { DEFAULT_POLICY_CONFIG } from "../../router/balancing/policy-config.ts";
import type { ServiceBalancer } from "../../router/balancing/service-balancer.ts";
import { SLOW_START_REFRESH_MS, slowStartFactor, SlowStartWeights } from "../../router/balancing/slow-start.ts";
import type { SlowStartConfig } from "../../router/balancing/slow-start-config.ts";
import { ServiceStates } from "../../router/service-state.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { DEFAULT_ROUTER_TIMEOUTS } from "../../router/timeout-config.ts";
import { createReferenceCore } from "../../wasm/core-engine.ts";
import { picked, seededRandom, tally } from "./balancer-fixtures.ts";
import { manualClock, shareTolerance, WebTables, type ManualClock } from "./slow-start-fixtures.ts";

const TEN_SECONDS: SlowStartConfig = { windowMs: 10_000, aggression: 1, minWeightPercent: 10 };

describe("slowStartFactor: weight x max(min%, (age / window)^(1 / aggression))", () => {
  test.each<[string, number, SlowStartConfig, number]>([
    ["just ready: the minimum", 0, TEN_SECONDS, 0.1],
    ["below the minimum's age", 500, TEN_SECONDS, 0.1],
    ["at 1 s of 10 s: time factor 0.1 = the minimum", 1000, TEN_SECONDS, 0.1],
    ["halfway", 5000, TEN_SECONDS, 0.5],
    ["just before the end", 9990, TEN_SECONDS, 0.999],
    ["at the end of the window: full weight", 10_000, TEN_SECONDS, 1],
    ["long after", 3_600_000, TEN_SECONDS, 1],
    ["ready before the router started (age Infinity)", Number.POSITIVE_INFINITY, TEN_SECONDS, 1],
    ["a clock that went back counts as age 0", -250, TEN_SECONDS, 0.1],
    ["aggression 2 ramps faster early: sqrt(0.25)", 2500, { ...TEN_SECONDS, aggression: 2 }, 0.5],
    ["aggression 0.5 ramps slower: 0.5^2", 5000, { ...TEN_SECONDS, aggression: 0.5 }, 0.25],
    ["a minimum of 50%", 1000, { ...TEN_SECONDS, minWeightPercent: 50 }, 0.5],
    ["a minimum of 100% is no ramp", 0, { ...TEN_SECONDS, minWeightPercent: 100 }, 1],
  ])("%s", (_, age, config, factor) => {
    expect(slowStartFactor(age, config)).toBeCloseTo(factor, 12);
  });

  test("weights are recomputed at most every SLOW_START_REFRESH_MS, and say when every ramp is over", () => {
    // Endpoint 0 is warm (weight 2), endpoint 1 turned ready at t = 0.
    const weights = SlowStartWeights.start(TEN_SECONDS, [Number.NEGATIVE_INFINITY, 0], [2, 1], 2, 1000)!;
    expect(Array.from(weights.weights)).toEqual([2, 0.1]);
    const generation = weights.generation;
    expect(weights.refresh(1000 + SLOW_START_REFRESH_MS - 1)).toBe(true);
    expect(weights.generation).toBe(generation);
    expect(weights.refresh(5000)).toBe(true);
    expect(weights.generation).toBe(generation + 1);
    expect(Array.from(weights.weights)).toEqual([2, 0.5]);
    expect(weights.stateOf(1, 5000)).toEqual({ readyMs: 5000, weightPercent: 50 });
    expect(weights.stateOf(0, 5000)).toBeUndefined();
    expect(weights.refresh(10_000)).toBe(false);
    // Nobody within the window: no slow start at all.
    expect(SlowStartWeights.start(TEN_SECONDS, [Number.NEGATIVE_INFINITY, 0], undefined, 2, 10_000)).toBeUndefined();
  });
});

/** The router's per-service state over a hand-moved clock, publishing snapshots as ServiceRouter does. */
class Harness {
  readonly clock: ManualClock = manualClock();
  readonly log: string[] = [];
  readonly states: ServiceStates;
  #table: RoutingTable | undefined;

  constructor(seed = 7) {
    this.states = new ServiceStates({
      core: createReferenceCore(),
      defaultPolicy: DEFAULT_POLICY_CONFIG,
      defaultTimeouts: DEFAULT_ROUTER_TIMEOUTS,
      eligibility: {},
      now: this.clock.now,
      random: seededRandom(seed),
      outlierDetection: false,
      log: (line) => this.log.push(line),
    });
  }

  /** Publishes at `atMs`: incrementally (only the rebuilt services), or as a full snapshot. */
  publish(table: RoutingTable, atMs: number, incremental = true): void {
    this.clock.ms = atMs;
    const changed = incremental && this.#table !== undefined ? [...table.rebuilt, ...table.removed] : undefined;
    this.states.published(table, changed);
    this.#table = table;
  }

  balancer(): ServiceBalancer {
    const service = this.#table!.services.get("default/web")!;
    return this.states.balancer(service, service.ports[0]!);
  }

  /** The share of `n` picks each endpoint got at `atMs` (least-request picks are not acquired, so
   * every endpoint stays at 0 in flight and the first weighted choice wins). */
  shares(atMs: number, n: number): Record<string, number> {
    this.clock.ms = atMs;
    const balancer = this.balancer();
    const counts = tally(Array.from({ length: n }, () => picked(balancer.pick({ hashKey: undefined, clientIp: "" })).endpoint.identity));
    return Object.fromEntries(Object.entries(counts).map(([id, count]) => [id, count / n]));
  }

  counts(atMs: number, n: number): Record<string, number> {
    this.clock.ms = atMs;
    const balancer = this.balancer();
    return tally(Array.from({ length: n }, () => picked(balancer.pick({ hashKey: undefined, clientIp: "" })).endpoint.identity));
  }

  /** Each ramping endpoint's state in /debug/explain, by identity. */
  ramping(atMs: number): Record<string, unknown> {
    this.clock.ms = atMs;
    const explained = this.balancer().explain({ hashKey: undefined, clientIp: "" });
    return Object.fromEntries(explained.eligible.endpoints.filter((e) => e.slowStart !== undefined).map((e) => [e.identity, e.slowStart]));
  }
}

/** Two warm pods (the first snapshot) and web-c, ready from t = 0, with a 10 s window. */
function twoWarmOneNew(annotations: Record<string, string> = {}): Harness {
  const harness = new Harness();
  const tables = new WebTables({ "vipr.io/slow-start-window": "10s", ...annotations });
  harness.publish(tables.next(["web-a", "web-b"]), -60_000);
  harness.publish(tables.next(["web-a", "web-b", "web-c"]), 0);
  return harness;
}

describe("least-request: the new endpoint's share follows its effective weight", () => {
  const N = 20_000;

  test("2 warm + 1 new, window 10 s: ~4.8% at 1 s, ~20% at 5 s, a third after the window", () => {
    const harness = twoWarmOneNew();
    // t = 1 s: weights 1, 1, 0.1 -> 0.1 / 2.1 = 4.76% (the 10% minimum; Envoy's default).
    const at1 = harness.shares(1000, N);
    expect(Math.abs(at1["web-c"]! - 0.1 / 2.1)).toBeLessThan(shareTolerance(0.1 / 2.1, N));
    // t = 5 s: weights 1, 1, 0.5 -> 0.5 / 2.5 = 20%.
    const at5 = harness.shares(5000, N);
    expect(Math.abs(at5["web-c"]! - 0.2)).toBeLessThan(shareTolerance(0.2, N));
    // t = 10 s: the window is over, equal shares.
    const at10 = harness.shares(10_000, N);
    for (const id of ["web-a", "web-b", "web-c"]) expect(Math.abs(at10[id]! - 1 / 3)).toBeLessThan(shareTolerance(1 / 3, N));
    expect(harness.ramping(10_000)).toEqual({});
  });

  test("once every ramp is over, picks no longer read the clock; without slow start they never do", () => {
    const harness = twoWarmOneNew();
    harness.shares(10_000, 1); // the pick that finds the window over
    const reads = harness.clock.reads;
    harness.shares(12_000, 1000);
    expect(harness.clock.reads).toBe(reads);

    const plain = new Harness();
    const tables = new WebTables({});
    plain.publish(tables.next(["web-a", "web-b"]), 0);
    plain.publish(tables.next(["web-a", "web-b", "web-c"]), 1000);
    const before = plain.clock.reads;
    plain.shares(2000, 1000);
    expect(plain.clock.reads).toBe(before);
  });

  test("aggression 2: at 2.5 s the weight is sqrt(0.25) = 50%, a 20% share", () => {
    const harness = twoWarmOneNew({ "vipr.io/slow-start-aggression": "2" });
    const share = harness.shares(2500, N)["web-c"]!;
    expect(Math.abs(share - 0.2)).toBeLessThan(shareTolerance(0.2, N));
  });
});

describe("round robin: exact counts from the smooth weighted rotation", () => {
  test("2 warm + 1 new: 100 of 2100 at 1 s, 200 of 1000 at 5 s, equal after the window", () => {
    const harness = twoWarmOneNew({ "vipr.io/lb-policy": "round-robin" });
    // Weights 1, 1, 0.1: one cycle of 21 picks gives the new pod 1.
    expect(harness.counts(1000, 2100)).toEqual({ "web-a": 1000, "web-b": 1000, "web-c": 100 });
    // Weights 1, 1, 0.5: 2 of every 5 to each warm pod, 1 to the new one.
    expect(harness.counts(5000, 1000)).toEqual({ "web-a": 400, "web-b": 400, "web-c": 200 });
    expect(harness.counts(10_000, 999)).toEqual({ "web-a": 333, "web-b": 333, "web-c": 333 });
  });
});

describe("which endpoints are new", () => {
  test("endpoints of the first snapshot are warm: equal shares at once, nothing ramping", () => {
    const harness = new Harness();
    harness.publish(new WebTables({ "vipr.io/slow-start-window": "10s" }).next(["web-a", "web-b", "web-c"]), 0);
    expect(harness.ramping(100)).toEqual({});
    const shares = harness.shares(100, 20_000);
    for (const id of ["web-a", "web-b", "web-c"]) expect(Math.abs(shares[id]! - 1 / 3)).toBeLessThan(shareTolerance(1 / 3, 20_000));
  });

  test("a rebuild that adds another endpoint keeps the ramp of the one before", () => {
    const harness = new Harness();
    const tables = new WebTables({ "vipr.io/slow-start-window": "10s" });
    harness.publish(tables.next(["web-a", "web-b"]), 0);
    harness.publish(tables.next(["web-a", "web-b", "web-c"]), 2000);
    expect(harness.ramping(3000)).toEqual({ "web-c": { readyMs: 1000, weightPercent: 10 } });
    harness.publish(tables.next(["web-a", "web-b", "web-c", "web-d"]), 6000);
    expect(harness.ramping(6000)).toEqual({ "web-c": { readyMs: 4000, weightPercent: 40 }, "web-d": { readyMs: 0, weightPercent: 10 } });
    // The same on a full snapshot (not built from the last one): web-d keeps its time.
    harness.publish(tables.next(["web-a", "web-b", "web-c", "web-d", "web-e"]), 8000, false);
    expect(harness.ramping(8000)).toEqual({
      "web-c": { readyMs: 6000, weightPercent: 60 },
      "web-d": { readyMs: 2000, weightPercent: 20 },
      "web-e": { readyMs: 0, weightPercent: 10 },
    });
  });

  test("an endpoint that stops being ready, leaves, or comes back at another address starts over", () => {
    const harness = new Harness();
    const tables = new WebTables({ "vipr.io/slow-start-window": "10s" });
    harness.publish(tables.next(["web-a", "web-b", "web-c"]), 0);
    // web-a's readiness probe fails, web-b leaves, web-c is a new pod of the same name.
    harness.publish(tables.next([{ name: "web-a", ready: false }, { name: "web-c", ip: "10.0.0.9" }]), 1000);
    harness.publish(tables.next(["web-a", "web-b", { name: "web-c", ip: "10.0.0.9" }]), 3000);
    expect(harness.ramping(4000)).toEqual({
      "web-a": { readyMs: 1000, weightPercent: 10 },
      "web-b": { readyMs: 1000, weightPercent: 10 },
      "web-c": { readyMs: 3000, weightPercent: 30 },
    });
  });

  test("turning slow start on later: what served before is warm, only later endpoints ramp", () => {
    const harness = new Harness();
    const tables = new WebTables({});
    harness.publish(tables.next(["web-a", "web-b"]), 0);
    tables.annotate({ "vipr.io/slow-start-window": "10s" });
    harness.publish(tables.next(["web-a", "web-b", "web-c"]), 5000);
    expect(harness.ramping(6000)).toEqual({ "web-c": { readyMs: 1000, weightPercent: 10 } });
  });

  test("explain shows the settings and each ramping endpoint", () => {
    const harness = twoWarmOneNew({ "vipr.io/slow-start-min-weight-percent": "25" });
    harness.clock.ms = 1000;
    const explained = harness.balancer().explain({ hashKey: undefined, clientIp: "" });
    expect(explained.slowStart).toEqual({ windowMs: 10_000, aggression: 1, minWeightPercent: 25 });
    expect(explained.eligible.endpoints.map((e) => [e.identity, e.slowStart])).toEqual([
      ["web-a", undefined],
      ["web-b", undefined],
      ["web-c", { readyMs: 1000, weightPercent: 25 }],
    ]);
  });

  test("maglev ignores slow start (keys would move as weights ramp), and says so once", () => {
    const harness = new Harness();
    const tables = new WebTables({ "vipr.io/slow-start-window": "10s", "vipr.io/hash-key": "header:x-user" });
    harness.publish(tables.next(["web-a", "web-b"]), 0);
    harness.publish(tables.next(["web-a", "web-b", "web-c"]), 1000);
    const balancer = harness.balancer();
    expect(balancer.config.slowStart).toBeUndefined();
    expect(harness.ramping(1000)).toEqual({});
    expect(harness.log).toEqual(['service default/web: vipr.io/slow-start-window: "10s" has no effect with policy maglev; it applies to least-request and round-robin']);
  });
});
