// The balancer per policy, on the plain-TS reference engine and the WASM core alike: distribution
// within tolerance, the same endpoint for the same key, retries to other endpoints, bounded load's
// cap, stickiness when the endpoint set shrinks, no-endpoint failures, explain, and free().
import { describe, expect, test } from "vitest";
import type { CoreEngine } from "../../wasm/core-engine.ts";
import type { MaglevTable } from "../../wasm/maglev-table.ts";
import type { Pick } from "../../router/balancing/pick.ts";
import type { PolicyConfig } from "../../router/balancing/policy-config.ts";
import { balancer, engines, picked, pods, seededRandom, tally, webService } from "./balancer-fixtures.ts";

const byHeader = { from: "header", name: "x-user" } as const;
const maglev: Partial<PolicyConfig> = { policy: "maglev", hashKey: byHeader };
const bounded: Partial<PolicyConfig> = { policy: "bounded-load", hashKey: byHeader, loadFactor: 1.25 };

interface DistributionCase {
  name: string;
  config: Partial<PolicyConfig>;
  /** Pods in the service. */
  pods: number;
  requests: number;
  /** The hash key of request i; none: keyless. */
  key?: (i: number) => string;
  /** Keep each pick in flight (never released) instead of releasing it at once. */
  hold?: boolean;
  check: (counts: number[]) => void;
}

const within = (low: number, high: number) => (counts: number[]) => {
  for (const count of counts) {
    expect(count).toBeGreaterThanOrEqual(low);
    expect(count).toBeLessThanOrEqual(high);
  }
};

const distributionCases: DistributionCase[] = [
  { name: "round robin: exactly even", config: { policy: "round-robin" }, pods: 3, requests: 300, check: (c) => expect(c).toEqual([100, 100, 100]) },
  { name: "least-request, equal load: roughly even (±10%)", config: { policy: "least-request" }, pods: 3, requests: 3000, check: within(900, 1100) },
  {
    name: "least-request, requests held: two choices keep loads within 2 of each other",
    config: { policy: "least-request" },
    pods: 3,
    requests: 300,
    hold: true,
    check: (c) => expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(2),
  },
  { name: "maglev: 1000 keys over 3 endpoints (±15%)", config: maglev, pods: 3, requests: 1000, key: (i) => `user-${i}`, check: within(283, 384) },
  { name: "maglev: 5000 keys over 10 endpoints (±15%)", config: maglev, pods: 10, requests: 5000, key: (i) => `user-${i}`, check: within(425, 575) },
  { name: "bounded load, no load: 1000 keys over 3 endpoints (±15%)", config: bounded, pods: 3, requests: 1000, key: (i) => `user-${i}`, check: within(283, 384) },
  {
    name: "bounded load, one hot key held 100 times over 4 endpoints: ceil(1.25 x 100 / 4) = 32 at most",
    config: bounded,
    pods: 4,
    requests: 100,
    key: () => "hot",
    hold: true,
    check: (c) => expect(Math.max(...c)).toBe(32),
  },
];

for (const [engine, core] of engines()) {
  describe(`ServiceBalancer on the ${engine} engine`, () => {
    test.each(distributionCases)("$name", ({ config, pods: count, requests, key, hold, check }) => {
      const lb = balancer(webService(pods(count)), config, core, { random: seededRandom(7) });
      const counts = new Array<number>(count).fill(0);
      for (let i = 0; i < requests; i++) {
        const pick = picked(lb.pick({ hashKey: key?.(i), clientIp: "" }));
        counts[pick.index]!++;
        lb.acquire(pick);
        if (!hold) lb.release(pick);
      }
      check(counts);
      lb.free();
    });

    test("round robin visits the endpoints in order, from a random start", () => {
      const sequence = (random: number) => {
        const lb = balancer(webService(pods(3)), { policy: "round-robin" }, core, { random: () => random });
        return Array.from({ length: 6 }, () => picked(lb.pick({ hashKey: undefined, clientIp: "" })).endpoint.identity);
      };
      expect(sequence(0)).toEqual(["pod-00", "pod-01", "pod-02", "pod-00", "pod-01", "pod-02"]);
      expect(sequence(0.5)).toEqual(["pod-01", "pod-02", "pod-00", "pod-01", "pod-02", "pod-00"]);
    });

    test("least-request never sends to the busiest endpoint while two others are idle", () => {
      const lb = balancer(webService(pods(3)), { policy: "least-request" }, core, { random: seededRandom(1) });
      const busy = picked(lb.pick({ hashKey: undefined, clientIp: "" }));
      for (let i = 0; i < 5; i++) lb.acquire(busy);
      const seen = new Set<number>();
      for (let i = 0; i < 200; i++) seen.add(picked(lb.pick({ hashKey: undefined, clientIp: "" })).index);
      expect(seen.has(busy.index)).toBe(false);
      expect(seen.size).toBe(2);
    });

    test("maglev: the same key reaches the same endpoint, and the pick reports hash and slot", () => {
      const lb = balancer(webService(pods(5)), maglev, core);
      const first = picked(lb.pick({ hashKey: "alice", clientIp: "10.1.0.1" }));
      for (let i = 0; i < 20; i++) {
        const again = picked(lb.pick({ hashKey: "alice", clientIp: `10.1.0.${i}` }));
        expect(again.endpoint).toBe(first.endpoint);
      }
      expect(first.policy).toBe("maglev");
      expect(first.hash).toBe(core.hashKey("alice"));
      expect(first.slot).toBe(core.hashKey("alice") % 65537);
      expect(first.reason).toBe("maglev: the endpoint of the key's slot");
      lb.free();
    });

    test("maglev retries walk the key's preference list: every attempt below n is a new endpoint", () => {
      const lb = balancer(webService(pods(4)), maglev, core);
      for (const key of ["alice", "bob", "carol"]) {
        const walk = [0, 1, 2, 3].map((attempt) => picked(lb.pick({ hashKey: key, clientIp: "", attempt })).index);
        expect(new Set(walk).size).toBe(4);
        expect(picked(lb.pick({ hashKey: key, clientIp: "", attempt: 4 })).index).toBe(walk[0]);
        expect(picked(lb.pick({ hashKey: key, clientIp: "", attempt: 1 })).reason).toBe("maglev: attempt 1 on the key's preference walk");
      }
      lb.free();
    });

    test("bounded load: a retry skips the key's own endpoint; without load it agrees with maglev", () => {
      const plain = balancer(webService(pods(4)), maglev, core);
      const lb = balancer(webService(pods(4)), bounded, core);
      for (let k = 0; k < 200; k++) {
        const key = `user-${k}`;
        expect(picked(lb.pick({ hashKey: key, clientIp: "" })).index).toBe(picked(plain.pick({ hashKey: key, clientIp: "" })).index);
        expect(picked(lb.pick({ hashKey: key, clientIp: "", attempt: 1 })).index).toBe(picked(plain.pick({ hashKey: key, clientIp: "", attempt: 1 })).index);
      }
      plain.free();
      lb.free();
    });

    test("bounded load counts requests that were in flight before its table was built", () => {
      const lb = balancer(webService(pods(4)), bounded, core, { random: seededRandom(3) });
      const loads = new Array<number>(4).fill(0);
      const hold = (pick: Pick) => {
        lb.acquire(pick);
        loads[pick.index]!++;
      };
      for (let i = 0; i < 8; i++) hold(picked(lb.pick({ hashKey: undefined, clientIp: "" }))); // least-request, no table yet
      for (let i = 0; i < 40; i++) {
        hold(picked(lb.pick({ hashKey: "hot", clientIp: "" })));
        const total = loads.reduce((a, b) => a + b, 0);
        expect(Math.max(...loads)).toBeLessThanOrEqual(Math.ceil((1.25 * total) / 4));
      }
      lb.free();
    });

    test("a request without the hash key falls back to least-request", () => {
      const lb = balancer(webService(pods(3)), maglev, core, { random: seededRandom(5) });
      const pick = picked(lb.pick({ hashKey: undefined, clientIp: "" }));
      expect(pick.policy).toBe("least-request");
      expect(pick.reason).toBe("least-request: the request has no hash key; the less loaded of two random endpoints");
      expect(pick.hash).toBeUndefined();
    });

    test("retries of least-request and round robin pass over endpoints already tried", () => {
      for (const policy of ["least-request", "round-robin"] as const) {
        const lb = balancer(webService(pods(3)), { policy }, core, { random: seededRandom(9) });
        for (let i = 0; i < 30; i++) {
          const first = picked(lb.pick({ hashKey: undefined, clientIp: "" }));
          const second = picked(lb.pick({ hashKey: undefined, clientIp: "", attempt: 1, tried: [first.index] }));
          const third = picked(lb.pick({ hashKey: undefined, clientIp: "", attempt: 2, tried: [first.index, second.index] }));
          expect(new Set([first.index, second.index, third.index]).size).toBe(3);
          // With every endpoint tried, a pick is still made.
          picked(lb.pick({ hashKey: undefined, clientIp: "", attempt: 3, tried: [0, 1, 2] }));
        }
      }
    });

    test("stickiness across a rebuild without one endpoint: keys of the others stay (< 2% move)", () => {
      const all = pods(20);
      const before = balancer(webService(all), maglev, core);
      const { "pod-07": _removed, ...rest } = all;
      const after = balancer(webService(rest), maglev, core);
      let survivors = 0;
      let moved = 0;
      for (let k = 0; k < 5000; k++) {
        const key = `user-${k}`;
        const was = picked(before.pick({ hashKey: key, clientIp: "" })).endpoint.identity;
        const now = picked(after.pick({ hashKey: key, clientIp: "" })).endpoint.identity;
        expect(now).not.toBe("pod-07");
        if (was === "pod-07") continue;
        survivors++;
        if (now !== was) moved++;
      }
      expect(survivors).toBeGreaterThan(4500);
      expect(moved / survivors).toBeLessThan(0.02);
      before.free();
      after.free();
    });

    test("a pod restarted at a new address keeps every key (the table hashes identities, not IPs)", () => {
      const before = balancer(webService({ a: {}, b: { ip: "10.0.0.2" }, c: {} }), maglev, core);
      const after = balancer(webService({ a: {}, b: { ip: "10.0.9.9" }, c: {} }), maglev, core);
      for (let k = 0; k < 500; k++) {
        const was = picked(before.pick({ hashKey: `user-${k}`, clientIp: "" }));
        const now = picked(after.pick({ hashKey: `user-${k}`, clientIp: "" }));
        expect(now.endpoint.identity).toBe(was.endpoint.identity);
        if (was.endpoint.identity === "b") expect(now.endpoint.address).toBe("10.0.9.9");
      }
      before.free();
      after.free();
    });

    test("no eligible endpoint: a failure naming the service, the port and why", () => {
      const lb = balancer(webService({ a: { ready: false, serving: false } }), maglev, core);
      expect(lb.pick({ hashKey: "alice", clientIp: "" })).toEqual({
        ok: false,
        reason: "no-eligible-endpoints",
        message: 'no eligible endpoint for default/web port "http": no ready or serving-terminating endpoints',
      });
      const empty = balancer(webService({}), { policy: "round-robin" }, core);
      expect(empty.pick({ hashKey: undefined, clientIp: "" })).toMatchObject({ ok: false, reason: "no-eligible-endpoints" });
    });

    test("explain: eligible set, policy, hash, slot and endpoint, as pick would choose", () => {
      const lb = balancer(webService(pods(3)), maglev, core);
      const pick = picked(lb.pick({ hashKey: "alice", clientIp: "" }));
      lb.acquire(pick);
      const explained = lb.explain({ hashKey: "alice", clientIp: "" });
      expect(JSON.parse(JSON.stringify(explained))).toEqual(explained); // plain data
      expect(explained).toMatchObject({
        service: "default/web",
        servicePort: { name: "http", port: 80 },
        policy: "maglev",
        hashKeySource: "header:x-user",
        hashKey: "alice",
        hash: core.hashKey("alice"),
        slot: core.hashKey("alice") % 65537,
        tableSize: 65537,
        result: { ok: true, identity: pick.endpoint.identity, address: pick.endpoint.address, port: 8080, policy: "maglev" },
      });
      expect(explained.eligible.reason).toBe("ready endpoints");
      expect(explained.eligible.endpoints.map((e) => [e.identity, e.inFlight])).toEqual(
        ["pod-00", "pod-01", "pod-02"].map((id) => [id, id === pick.endpoint.identity ? 1 : 0]),
      );
      lb.release(pick);
      lb.free();
    });

    test("explain takes no round-robin turn", () => {
      const lb = balancer(webService(pods(3)), { policy: "round-robin" }, core, { random: () => 0 });
      expect(lb.explain({ hashKey: undefined, clientIp: "" }).result).toMatchObject({ identity: "pod-00", reason: "round robin: the next endpoint in turn" });
      expect(lb.explain({ hashKey: undefined, clientIp: "" }).result).toMatchObject({ identity: "pod-00" });
      expect(picked(lb.pick({ hashKey: undefined, clientIp: "" })).endpoint.identity).toBe("pod-00");
      expect(lb.explain({ hashKey: undefined, clientIp: "" }).result).toMatchObject({ identity: "pod-01" });
    });
  });
}

describe("ServiceBalancer and its WASM tables", () => {
  /** An engine that counts the Maglev tables it builds and frees. */
  function counting(core: CoreEngine) {
    const stats = { built: 0, freed: 0 };
    const engine: CoreEngine = {
      ...core,
      buildMaglev(endpoints, options) {
        const table = core.buildMaglev(endpoints, options);
        stats.built++;
        // A proxy, not a subclass: the WASM table keeps its state in #private fields.
        return new Proxy(table, {
          get(target, property) {
            if (property === "free") return () => (stats.freed++, target.free());
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }) satisfies MaglevTable;
      },
    };
    return { engine, stats };
  }

  test("tables are built on the first hash pick, not before", () => {
    const [, [, wasm]] = engines();
    const { engine, stats } = counting(wasm);
    const lb = balancer(webService(pods(3)), maglev, engine);
    picked(lb.pick({ hashKey: undefined, clientIp: "" }));
    expect(stats.built).toBe(0);
    picked(lb.pick({ hashKey: "alice", clientIp: "" }));
    picked(lb.pick({ hashKey: "bob", clientIp: "" }));
    expect(stats.built).toBe(1);
    lb.free();
    expect(stats.freed).toBe(1);
  });

  test("free() waits for requests in flight; later picks answer the same without WASM memory", () => {
    const [, [, wasm]] = engines();
    const { engine, stats } = counting(wasm);
    const lb = balancer(webService(pods(4)), maglev, engine);
    const first = picked(lb.pick({ hashKey: "alice", clientIp: "" }));
    lb.acquire(first);
    lb.free();
    expect(stats.freed).toBe(0);
    const retry = picked(lb.pick({ hashKey: "alice", clientIp: "", attempt: 1 }));
    expect(retry.index).not.toBe(first.index);
    lb.release(first);
    expect(stats.freed).toBe(1);
    // A late retry: answered by the reference engine's table, which the garbage collector frees.
    expect(picked(lb.pick({ hashKey: "alice", clientIp: "", attempt: 1 })).index).toBe(retry.index);
    expect(picked(lb.pick({ hashKey: "alice", clientIp: "" })).index).toBe(first.index);
    expect(stats.built).toBe(1);
  });

  test("acquire and release ignore a pick made by another balancer", () => {
    const [[, core]] = engines();
    const one = balancer(webService(pods(2)), { policy: "least-request" }, core);
    const other = balancer(webService(pods(2)), { policy: "least-request" }, core);
    const pick = picked(other.pick({ hashKey: undefined, clientIp: "" }));
    one.acquire(pick);
    expect([one.inFlight(0), one.inFlight(1)]).toEqual([0, 0]);
    other.acquire(pick);
    other.release(pick);
    other.release(pick); // a second release does not go below zero
    expect(other.inFlight(pick.index)).toBe(0);
  });

  test("the reference and WASM engines pick the same endpoints", () => {
    const [[, reference], [, wasm]] = engines();
    const service = webService(pods(7));
    for (const config of [maglev, bounded]) {
      const a = balancer(service, config, reference);
      const b = balancer(service, config, wasm);
      const picks = (lb: typeof a) => Array.from({ length: 300 }, (_, k) => picked(lb.pick({ hashKey: `k${k % 50}`, clientIp: "", attempt: k % 3 })));
      const left = picks(a);
      const right = picks(b);
      expect(right.map((p) => [p.index, p.hash, p.slot])).toEqual(left.map((p) => [p.index, p.hash, p.slot]));
      expect(tally(left.map((p) => p.endpoint.identity))).toEqual(tally(right.map((p) => p.endpoint.identity)));
      a.free();
      b.free();
    }
  });
});
