// The conformance suite of the picker contract (router/balancing/picker.ts): every picker runs
// these same cases, one test file per picker (least-request-picker.test.ts, ...), as Hono's routers
// share common.case.test.ts; and so does every layered combination the router builds (the layers
// stacked by router/balancing/picker-layers.ts: session-affinity-layer.test.ts, ...), with the
// cases about a layer added for the combinations that have it. A picker that does not promise what
// a case checks lists it in `skip` with the reason, and the case shows as skipped with that
// reason. Each case runs on the plain-TS reference core and on the WASM core (layered
// combinations: on the WASM core only, as the layers do not touch the core).
import { describe, expect, test } from "vitest";
import type { CoreEngine } from "../../wasm/core-engine.ts";
import { OutlierDetector } from "../../router/balancing/outlier-detection.ts";
import { endpointWeights, type Picker, type PickerChoice, type PickerInput, type PickView } from "../../router/balancing/picker.ts";
import { withLayers, type LayerSettings } from "../../router/balancing/picker-layers.ts";
import { SessionAffinityStore } from "../../router/balancing/session-affinity.ts";
import type { SlowStartConfig } from "../../router/balancing/slow-start-config.ts";
import type { EligibleEndpoint } from "../../router/table/eligible-endpoints.ts";
import { eligibleEndpoints } from "../../router/table/eligible-endpoints.ts";
import type { EndpointEntry } from "../../router/table/routing-table.ts";
import { engines, pods, seededRandom, webService } from "./balancer-fixtures.ts";

export type PickerCase =
  | "returns one of the candidates"
  | "a single candidate is always chosen"
  | "spreads keyed requests evenly over equal endpoints"
  | "spreads requests without a key evenly over equal endpoints"
  | "shares follow endpoint weights"
  | "shares follow the weights the view carries (slow start)"
  | "the same random seed gives the same picks"
  | "a key keeps its endpoint"
  | "a key's endpoint does not depend on the order of the endpoints"
  | "an endpoint leaving or joining moves few keys"
  | "acquire then release leaves no trace"
  | "keeps in-flight load within c times the average under one hot key"
  | "passes over ejected candidates, and takes them back once unejected"
  | "ejection moves only the ejected endpoint's keys"
  | "a retry goes to another endpoint"
  | "subsets: picks stay within each subset, and each spreads over its members"
  | "a pick without commit changes nothing and matches the next pick"
  | "keeps answering, the same way, after free"
  | "no candidate: no answer"
  | "every pick acquired and released once brings in-flight back to zero"
  | "endpoint churn: a picker over the new endpoint set picks only among them and spreads over them";

/** The layers a combination has (router/balancing/picker-layers.ts). */
export type LayerName = "session-affinity" | "slow-start" | "ejection";

export interface PickerSuiteOptions {
  /** Builds the policy's picker under test. */
  readonly newPicker: (input: PickerInput) => Picker;
  /** The layers stacked around it, as ServiceBalancer stacks them (withLayers); none: the
   * policy's picker alone. */
  readonly layers?: readonly LayerName[];
  /** Cases this picker does not promise, each with why. */
  readonly skip?: readonly { readonly case: PickerCase; readonly reason: string }[];
}

/** What the layers keep beyond one picker, as the router keeps it per service across rebuilds: a
 * clock the cases move, the outlier detector and the affinity store on it, and when each
 * endpoint turned ready. Two pickers built on one world share it, as two balancers of one
 * service before and after a rebuild do. */
class LayerWorld {
  ms = SLOW_START.windowMs / 2;
  readonly now = (): number => this.ms;
  readonly outliers = new OutlierDetector({ now: this.now });
  readonly affinity = new SessionAffinityStore({ now: this.now });
  /** By identity; 0 (every endpoint turned ready together at 0) when not set. */
  readonly readySince = new Map<string, number>();

  /** The layer settings for `endpoints`, with the layers in `layers`. */
  settings(endpoints: readonly EligibleEndpoint[], layers: readonly LayerName[]): LayerSettings {
    return {
      endpoints,
      eligibleCount: endpoints.length,
      weights: endpointWeights(endpoints),
      now: this.now,
      affinity: layers.includes("session-affinity") ? { store: this.affinity, timeoutSeconds: AFFINITY_TIMEOUT_SECONDS } : undefined,
      slowStart: layers.includes("slow-start") ? { config: SLOW_START, readySince: { sinceOf: (e: EndpointEntry) => this.readySince.get(e.identity) ?? 0 } } : undefined,
      outliers: layers.includes("ejection") ? this.outliers : undefined,
    };
  }

  /** Ejects `endpoint` by reporting failed tries until the detector ejects it. */
  eject(endpoint: EndpointEntry, eligibleCount: number): void {
    for (let i = 1; i <= this.outliers.consecutiveFailures; i++) {
      expect(this.outliers.recordFailure(endpoint.identity, endpoint.address, eligibleCount)).toBe(i === this.outliers.consecutiveFailures);
    }
  }
}

/** Slow start in the layered combinations: with every endpoint ready since 0 and the clock at
 * half the window, each runs at half its weight, so shares are as without slow start. */
const SLOW_START: SlowStartConfig = Object.freeze({ windowMs: 10_000, aggression: 1, minWeightPercent: 10 });
const AFFINITY_TIMEOUT_SECONDS = 60;

/** A picker (with its layers) and the in-flight counts its caller keeps, as ServiceBalancer
 * keeps them. */
class Harness {
  readonly endpoints: readonly EligibleEndpoint[];
  readonly inFlight: Uint32Array;
  readonly picker: Picker;
  readonly world: LayerWorld;
  readonly #all: readonly number[];

  constructor(options: PickerSuiteOptions, endpoints: readonly EligibleEndpoint[], core: CoreEngine, seed = 1, world = new LayerWorld()) {
    this.endpoints = endpoints;
    this.world = world;
    this.inFlight = new Uint32Array(endpoints.length);
    this.#all = endpoints.map((_, i) => i);
    const policy = options.newPicker({ endpoints, weights: endpointWeights(endpoints), inFlight: this.inFlight, random: seededRandom(seed), core, loadFactor: 1.25 });
    this.picker = withLayers(policy, world.settings(endpoints, options.layers ?? [])).picker;
  }

  view(view: Partial<PickView> = {}): PickView {
    return {
      key: undefined,
      clientIp: "",
      attempt: 0,
      candidates: this.#all,
      members: undefined,
      ejected: undefined,
      tried: [],
      weights: endpointWeights(this.endpoints),
      weightsGeneration: 0,
      commit: true,
      ...view,
    };
  }

  choose(view: Partial<PickView> = {}): PickerChoice {
    const choice = this.picker.pick(this.view(view));
    if (choice === undefined) throw new Error(`no choice for a view with candidates ${JSON.stringify(this.view(view).candidates)}`);
    return choice;
  }

  pick(view: Partial<PickView> = {}): number {
    return this.choose(view).index;
  }

  identity(view: Partial<PickView> = {}): string {
    return this.endpoints[this.pick(view)]!.endpoint.identity;
  }

  acquire(index: number): void {
    this.inFlight[index]!++;
    this.picker.acquire(index);
  }

  release(index: number): void {
    this.inFlight[index]!--;
    this.picker.release(index);
  }
}

/** The eligible endpoints of `count` ready pods (pod-00, pod-01, ...), with `weights` if given. */
function endpointsOf(count: number, weights?: readonly number[]): EligibleEndpoint[] {
  const service = webService(pods(count));
  const endpoints = eligibleEndpoints(service, service.ports[0]!).endpoints;
  if (weights === undefined) return [...endpoints];
  return endpoints.map((e, i) => ({ endpoint: { ...e.endpoint, weight: weights[i]! }, port: e.port }));
}

/** Picks per endpoint index over `requests` views. */
function counts(harness: Harness, requests: number, view: (i: number) => Partial<PickView>): number[] {
  const out: number[] = harness.endpoints.map(() => 0);
  for (let i = 0; i < requests; i++) out[harness.pick(view(i))]!++;
  return out;
}

/** Each count's share of the total is within `tolerance` (relative) of its expected share. */
function expectShares(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  const total = actual.reduce((a, b) => a + b, 0);
  const sum = expected.reduce((a, b) => a + b, 0);
  actual.forEach((count, i) => {
    const want = (expected[i]! / sum) * total;
    expect(Math.abs(count - want), `endpoint ${i}: ${count} picks, expected about ${want.toFixed(0)} (${actual.join(", ")})`).toBeLessThanOrEqual(want * tolerance);
  });
}

const key = (i: number): string => `user-${i}`;

export function runPickerConformance(name: string, options: PickerSuiteOptions): void {
  const layers = options.layers ?? [];
  const skipped = new Map((options.skip ?? []).map((s) => [s.case, s.reason] as const));
  if (layers.includes("slow-start")) {
    skipped.set("shares follow the weights the view carries (slow start)", "the slow start layer sets the view's weights itself; its own case checks the ramp");
  }
  const keyStable = !skipped.has("a key keeps its endpoint");
  const all = engines();

  describe.each(layers.length === 0 ? all : [all[1]])(`picker conformance: ${name} (%s core)`, (_engine, core) => {
    const harness = (endpoints: readonly EligibleEndpoint[], seed = 1, world?: LayerWorld): Harness => new Harness(options, endpoints, core, seed, world);
    const check = (title: PickerCase, body: () => void): void => {
      const reason = skipped.get(title);
      if (reason === undefined) test(title, body);
      else test.skip(`${title} (skipped: ${reason})`, body);
    };

    check("returns one of the candidates", () => {
      const h = harness(endpointsOf(7));
      const candidates = [1, 4, 6];
      for (let i = 0; i < 200; i++) {
        expect(candidates).toContain(h.pick({ key: key(i), candidates, members: marks(7, candidates) }));
        expect(h.pick({ key: i % 2 === 0 ? key(i) : undefined })).toBeLessThan(7);
      }
    });

    check("a single candidate is always chosen", () => {
      const h = harness(endpointsOf(1));
      for (let i = 0; i < 20; i++) expect(h.pick({ key: key(i), attempt: i % 3 })).toBe(0);
    });

    check("spreads keyed requests evenly over equal endpoints", () => {
      const h = harness(endpointsOf(10));
      expectShares(counts(h, 20_000, (i) => ({ key: key(i) })), Array(10).fill(1), 0.15);
    });

    check("spreads requests without a key evenly over equal endpoints", () => {
      const h = harness(endpointsOf(10));
      expectShares(counts(h, 20_000, () => ({})), Array(10).fill(1), 0.15);
    });

    check("shares follow endpoint weights", () => {
      const weights = [1, 1, 2, 4];
      const h = harness(endpointsOf(4, weights));
      expectShares(counts(h, 20_000, (i) => ({ key: key(i) })), weights, 0.15);
      expectShares(counts(h, 20_000, () => ({})), weights, 0.15);
    });

    check("shares follow the weights the view carries (slow start)", () => {
      const h = harness(endpointsOf(4));
      // Picks on the plain weights first: a picker that keeps state must take the new weights up.
      counts(h, 100, (i) => ({ key: key(i) }));
      const ramped = Float64Array.from([0.25, 1, 1, 1]);
      expectShares(counts(h, 20_000, (i) => ({ key: key(i), weights: ramped, weightsGeneration: 1 })), [0.25, 1, 1, 1], 0.15);
    });

    check("the same random seed gives the same picks", () => {
      const a = harness(endpointsOf(6), 7);
      const b = harness(endpointsOf(6), 7);
      for (let i = 0; i < 300; i++) {
        const view = { key: i % 3 === 0 ? undefined : key(i) };
        const picked = a.pick(view);
        expect(b.pick(view)).toBe(picked);
        if (i % 2 === 0) {
          a.acquire(picked);
          b.acquire(picked);
        }
      }
    });

    check("a key keeps its endpoint", () => {
      const h = harness(endpointsOf(8));
      const first = Array.from({ length: 500 }, (_, i) => h.pick({ key: key(i) }));
      for (let i = 0; i < 500; i++) expect(h.pick({ key: key(i) })).toBe(first[i]);
    });

    check("a key's endpoint does not depend on the order of the endpoints", () => {
      const endpoints = endpointsOf(9, [1, 2, 1, 3, 1, 1, 2, 1, 1]);
      const a = harness(endpoints);
      const b = harness(shuffled(endpoints, 42));
      for (let i = 0; i < 500; i++) expect(b.identity({ key: key(i) })).toBe(a.identity({ key: key(i) }));
    });

    check("an endpoint leaving or joining moves few keys", () => {
      // Maglev's disruption (NSDI 2016 section 3.4, figure 11): a change moves about the changed
      // endpoint's own share of keys, plus a few percent of the others'.
      const ten = endpointsOf(10);
      const nine = ten.filter((e) => e.endpoint.identity !== "pod-03");
      const before = harness(ten);
      const after = harness(nine);
      let kept = 0;
      let others = 0;
      let joined = 0;
      for (let i = 0; i < 10_000; i++) {
        const was = before.identity({ key: key(i) });
        const now = after.identity({ key: key(i) });
        if (was === "pod-03") continue;
        others++;
        if (now === was) kept++;
      }
      expect(kept / others).toBeGreaterThan(0.95);
      // The other way round: pod-03 joins nine endpoints and takes keys from them, about 1/10.
      for (let i = 0; i < 10_000; i++) {
        const was = after.identity({ key: key(i) });
        const now = before.identity({ key: key(i) });
        if (now !== was && now !== "pod-03") joined++;
      }
      expect(joined / 10_000).toBeLessThan(0.05);
    });

    check("acquire then release leaves no trace", () => {
      const a = harness(endpointsOf(5), 3);
      const b = harness(endpointsOf(5), 3);
      // One pick each first, so a table built on first use exists before the loads change.
      expect(b.pick({ key: "warm" })).toBe(a.pick({ key: "warm" }));
      for (let i = 0; i < 5; i++) for (let k = 0; k <= i * 3; k++) b.acquire(i);
      for (let i = 0; i < 5; i++) for (let k = 0; k <= i * 3; k++) b.release(i);
      expect([...b.inFlight]).toEqual([0, 0, 0, 0, 0]);
      for (let i = 0; i < 300; i++) {
        const view = { key: i % 4 === 0 ? undefined : "hot" };
        expect(b.pick(view)).toBe(a.pick(view));
      }
    });

    check("keeps in-flight load within c times the average under one hot key", () => {
      // Mirrokni et al. (2016), section 2: no endpoint above ceil(c x (total + 1) / n) with c 1.25.
      const h = harness(endpointsOf(4));
      for (let total = 0; total < 400; total++) {
        const index = h.pick({ key: "hot" });
        expect(h.inFlight[index]! + 1).toBeLessThanOrEqual(Math.ceil((1.25 * (total + 1)) / 4));
        h.acquire(index);
      }
    });

    check("passes over ejected candidates, and takes them back once unejected", () => {
      const h = harness(endpointsOf(6));
      const ejected = marks(6, [2, 5]);
      const seen = new Set<number>();
      for (let i = 0; i < 600; i++) {
        const index = h.pick({ key: i % 2 === 0 ? key(i) : undefined, ejected });
        expect(index === 2 || index === 5, `picked ejected endpoint ${index}`).toBe(false);
        h.acquire(index);
        if (i % 3 === 0) h.release(index);
      }
      for (let i = 0; i < 600; i++) seen.add(h.pick({ key: key(i) }));
      expect(seen.has(2) && seen.has(5)).toBe(true);
    });

    check("ejection moves only the ejected endpoint's keys", () => {
      const h = harness(endpointsOf(6));
      const ejected = marks(6, [3]);
      for (let i = 0; i < 2000; i++) {
        const home = h.pick({ key: key(i) });
        const now = h.pick({ key: key(i), ejected });
        if (home !== 3) expect(now).toBe(home);
        else expect(now).not.toBe(3);
      }
    });

    check("a retry goes to another endpoint", () => {
      const h = harness(endpointsOf(5));
      for (let i = 0; i < 300; i++) {
        const view = { key: i % 2 === 0 ? key(i) : undefined };
        const first = h.pick(view);
        expect(h.pick({ ...view, attempt: 1, tried: [first] })).not.toBe(first);
      }
    });

    check("subsets: picks stay within each subset, and each spreads over its members", () => {
      const h = harness(endpointsOf(8));
      const even = [0, 2, 4, 6];
      const odd = [1, 3, 5, 7];
      const evenMarks = marks(8, even);
      const oddMarks = marks(8, odd);
      const tally = Array(8).fill(0) as number[];
      for (let i = 0; i < 8000; i++) {
        const [candidates, members] = i % 2 === 0 ? [even, evenMarks] : [odd, oddMarks];
        const index = h.pick({ key: i % 4 < 2 ? key(i) : undefined, candidates, members });
        expect(candidates).toContain(index);
        tally[index]!++;
      }
      expectShares(tally, Array(8).fill(1), 0.2);
    });

    check("a pick without commit changes nothing and matches the next pick", () => {
      const h = harness(endpointsOf(5));
      for (let i = 0; i < 100; i++) {
        const view = { key: key(i % 7) };
        const peeked = h.pick({ ...view, commit: false });
        expect(h.pick({ ...view, commit: false })).toBe(peeked);
        const index = h.pick(view);
        expect(index).toBe(peeked);
        h.acquire(index);
      }
    });

    check("keeps answering, the same way, after free", () => {
      const h = harness(endpointsOf(6));
      const before = Array.from({ length: 200 }, (_, i) => h.pick({ key: key(i) }));
      h.picker.free();
      const after = Array.from({ length: 200 }, (_, i) => h.pick({ key: key(i) }));
      for (const index of after) expect(index).toBeLessThan(6);
      if (keyStable) expect(after).toEqual(before);
    });

    check("no candidate: no answer", () => {
      const h = harness(endpointsOf(4));
      expect(h.picker.pick(h.view({ candidates: [], key: key(1) }))).toBeUndefined();
      expect(h.picker.pick(h.view({ candidates: [], members: marks(4, []) }))).toBeUndefined();
      expect(h.pick({ key: key(1) })).toBeLessThan(4); // and it keeps answering when there are
    });

    check("every pick acquired and released once brings in-flight back to zero", () => {
      const h = harness(endpointsOf(6), 5);
      const fresh = harness(endpointsOf(6), 5);
      const random = seededRandom(11);
      const held: number[] = [];
      for (let i = 0; i < 3000; i++) {
        // Keyed and keyless requests, from bound clients and anonymous ones, some retried.
        const view = { key: i % 3 === 0 ? undefined : key(i % 40), clientIp: i % 4 === 0 ? `10.2.0.${i % 25}` : "" };
        const first = h.pick(view);
        h.acquire(first);
        held.push(first);
        if (i % 7 === 0) {
          const retry = h.pick({ ...view, attempt: 1, tried: [first] });
          h.acquire(retry);
          held.push(retry);
        }
        // Requests end in another order than they started.
        while (held.length > 50) h.release(held.splice(Math.floor(random() * held.length), 1)[0]!);
      }
      while (held.length > 0) h.release(held.pop()!);
      expect([...h.inFlight]).toEqual([0, 0, 0, 0, 0, 0]);
      if (!keyStable) return;
      // What the picker keeps of the loads (a Maglev table's) is back to zero too: a hot key held
      // in flight walks as it does on a picker that never had a request.
      for (let i = 0; i < 30; i++) {
        const index = h.pick({ key: "hot" });
        expect(index).toBe(fresh.pick({ key: "hot" }));
        h.acquire(index);
        fresh.acquire(index);
      }
    });

    check("endpoint churn: a picker over the new endpoint set picks only among them and spreads over them", () => {
      // A rebuild, as the router makes one when a service's endpoints change: pod-02 leaves,
      // pod-06 joins; the new picker shares what the router keeps per service (the world).
      const world = new LayerWorld();
      const before = harness(endpointsOf(6), 1, world);
      for (let i = 0; i < 500; i++) before.pick({ key: key(i), clientIp: `10.3.0.${i % 100}` });
      const seven = endpointsOf(7);
      const next = seven.filter((e) => e.endpoint.identity !== "pod-02");
      const after = harness(next, 1, world);
      const names = new Set(next.map((e) => e.endpoint.identity));
      const tally = next.map(() => 0);
      for (let i = 0; i < 12_000; i++) {
        const index = after.pick({ key: i % 2 === 0 ? key(i) : undefined });
        expect(names.has(after.endpoints[index]!.endpoint.identity)).toBe(true);
        tally[index]!++;
        after.acquire(index);
        after.release(index);
      }
      expectShares(tally, Array(6).fill(1), 0.2);
      expect([...after.inFlight]).toEqual([0, 0, 0, 0, 0, 0]);
    });

    if (layers.includes("ejection")) {
      test("ejection layer: endpoints the detector ejected are passed over until their ejection ends", () => {
        const h = harness(endpointsOf(6));
        const homes = Array.from({ length: 600 }, (_, i) => h.pick({ key: key(i) }));
        h.world.eject(h.endpoints[2]!.endpoint, 6);
        for (let i = 0; i < 600; i++) {
          const index = h.pick({ key: i % 3 === 0 ? undefined : key(i) });
          expect(index, "picked the ejected endpoint").not.toBe(2);
          h.acquire(index);
          h.release(index);
          if (keyStable && i % 3 !== 0 && homes[i] !== 2 && !skipped.has("ejection moves only the ejected endpoint's keys")) expect(index).toBe(homes[i]);
        }
        h.world.ms += h.world.outliers.baseEjectionMs;
        const seen = new Set(Array.from({ length: 600 }, (_, i) => h.pick({ key: key(i) })));
        expect(seen.has(2)).toBe(true);
        if (keyStable) expect(Array.from({ length: 600 }, (_, i) => h.pick({ key: key(i) }))).toEqual(homes);
      });

      test("ejection layer: a subset whose every candidate is ejected is served anyway", () => {
        const h = harness(endpointsOf(6));
        h.world.eject(h.endpoints[2]!.endpoint, 6);
        h.world.eject(h.endpoints[3]!.endpoint, 6);
        const candidates = [2, 3];
        const seen = new Set<number>();
        for (let i = 0; i < 200; i++) seen.add(h.pick({ key: i % 2 === 0 ? key(i) : undefined, candidates, members: marks(6, candidates) }));
        expect([...seen].every((index) => candidates.includes(index))).toBe(true);
        // And with one candidate left unejected, that one takes every request.
        expect(new Set(Array.from({ length: 100 }, (_, i) => h.pick({ key: key(i), candidates: [2, 3, 4], members: marks(6, [2, 3, 4]) })))).toEqual(new Set([4]));
      });
    }

    if (layers.includes("slow-start")) {
      test("slow start layer: an endpoint that just turned ready gets a share that ramps up over the window", () => {
        // pod-00 turns ready at 5 s beside three warm endpoints; Envoy's formula with aggression 1
        // and a 10% floor: a factor of 0.1 one second in, 0.5 at half the window, 1 after it.
        const world = new LayerWorld();
        for (let i = 1; i < 4; i++) world.readySince.set(`pod-0${i}`, Number.NEGATIVE_INFINITY);
        world.readySince.set("pod-00", world.ms);
        const h = harness(endpointsOf(4), 1, world);
        const start = world.ms;
        for (const [age, factor] of [
          [1_000, 0.1],
          [5_000, 0.5],
          [SLOW_START.windowMs, 1],
        ] as const) {
          world.ms = start + age;
          expectShares(counts(h, 20_000, () => ({})), [factor, 1, 1, 1], 0.15);
        }
      });
    }

    if (layers.includes("session-affinity")) {
      test("session affinity layer: a client keeps its endpoint until timeoutSeconds of silence; retries neither use nor change it", () => {
        const h = harness(endpointsOf(6));
        const client = "10.1.1.1";
        const first = h.choose({ clientIp: client, key: key(0) });
        expect(first.policy).not.toBe("session-affinity");
        for (let i = 1; i <= 20; i++) {
          h.world.ms += (AFFINITY_TIMEOUT_SECONDS - 1) * 1000; // silence counts from the last request
          expect(h.choose({ clientIp: client, key: key(i) })).toMatchObject({ index: first.index, policy: "session-affinity" });
        }
        const retry = h.choose({ clientIp: client, key: key(0), attempt: 1, tried: [first.index] });
        expect(retry.policy).not.toBe("session-affinity");
        expect(retry.index).not.toBe(first.index);
        expect(h.pick({ clientIp: client })).toBe(first.index); // the retry did not rebind
        h.world.ms += (AFFINITY_TIMEOUT_SECONDS - 1) * 1000;
        expect(h.choose({ clientIp: client, commit: false })).toMatchObject({ index: first.index, policy: "session-affinity" });
        h.world.ms += 2000; // a peek is no request: 61 s of silence now
        expect(h.choose({ clientIp: client }).policy).not.toBe("session-affinity");
      });

      test("session affinity layer: a binding holds over a rebuild while its endpoint stays, gives way when it leaves or is outside the subset, and answers with no candidate", () => {
        const world = new LayerWorld();
        const before = harness(endpointsOf(6), 1, world);
        const clients = Array.from({ length: 60 }, (_, i) => `10.4.0.${i}`);
        const bound = clients.map((clientIp) => before.identity({ clientIp }));
        expect(new Set(bound).has("pod-03")).toBe(true);
        const after = harness(endpointsOf(6).filter((e) => e.endpoint.identity !== "pod-03"), 2, world);
        clients.forEach((clientIp, i) => {
          const choice = after.choose({ clientIp });
          const identity = after.endpoints[choice.index]!.endpoint.identity;
          if (bound[i] === "pod-03") expect(choice.policy).not.toBe("session-affinity");
          else expect({ identity, policy: choice.policy }).toEqual({ identity: bound[i], policy: "session-affinity" });
        });
        // A subset without the bound endpoint: the policy picks within the subset.
        const home = after.pick({ clientIp: clients[0]! });
        const others = after.endpoints.map((_, i) => i).filter((i) => i !== home);
        const inSubset = after.choose({ clientIp: clients[0]!, candidates: others, members: marks(5, others) });
        expect(others).toContain(inSubset.index);
        expect(inSubset.policy).not.toBe("session-affinity");
        // No candidate (the service's endpoints all terminate): a bound client still gets its own.
        const bare = after.choose({ clientIp: clients[1]!, candidates: [] });
        expect(bare.policy).toBe("session-affinity");
      });
    }
  });
}

/** 1 at each of `indices`, over `length` endpoints. */
function marks(length: number, indices: readonly number[]): Uint8Array {
  const out = new Uint8Array(length);
  for (const i of indices) out[i] = 1;
  return out;
}

/** A seeded Fisher-Yates shuffle (the order changes, the set does not). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
