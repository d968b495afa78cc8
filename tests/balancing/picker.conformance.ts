// The conformance suite of the picker contract (router/balancing/picker.ts): every picker runs
// these same cases, one test file per picker (least-request-picker.test.ts, ...), as Hono's routers
// share common.case.test.ts. A picker that does not promise what a case checks lists it in `skip`
// with the reason, and the case shows as skipped with that reason. Each case runs on the
// plain-TS reference core and on the WASM core.
import { describe, expect, test } from "vitest";
import type { CoreEngine } from "../../wasm/core-engine.ts";
import { endpointWeights, type Picker, type PickerChoice, type PickerInput, type PickView } from "../../router/balancing/picker.ts";
import type { EligibleEndpoint } from "../../router/table/eligible-endpoints.ts";
import { eligibleEndpoints } from "../../router/table/eligible-endpoints.ts";
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
  | "keeps answering, the same way, after free";

export interface PickerSuiteOptions {
  /** Builds the picker under test. */
  readonly newPicker: (input: PickerInput) => Picker;
  /** Cases this picker does not promise, each with why. */
  readonly skip?: readonly { readonly case: PickerCase; readonly reason: string }[];
}

/** A picker and the in-flight counts its caller keeps, as ServiceBalancer keeps them. */
class Harness {
  readonly endpoints: readonly EligibleEndpoint[];
  readonly inFlight: Uint32Array;
  readonly picker: Picker;
  readonly #all: readonly number[];

  constructor(newPicker: (input: PickerInput) => Picker, endpoints: readonly EligibleEndpoint[], core: CoreEngine, seed = 1, loadFactor = 1.25) {
    this.endpoints = endpoints;
    this.inFlight = new Uint32Array(endpoints.length);
    this.#all = endpoints.map((_, i) => i);
    this.picker = newPicker({ endpoints, weights: endpointWeights(endpoints), inFlight: this.inFlight, random: seededRandom(seed), core, loadFactor });
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
  const skipped = new Map((options.skip ?? []).map((s) => [s.case, s.reason] as const));
  const newPicker = options.newPicker;

  describe.each(engines())(`picker conformance: ${name} (%s core)`, (_engine, core) => {
    const harness = (endpoints: readonly EligibleEndpoint[], seed = 1): Harness => new Harness(newPicker, endpoints, core, seed);
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
      if (!skipped.has("a key keeps its endpoint")) expect(after).toEqual(before);
    });
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
