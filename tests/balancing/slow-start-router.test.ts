// Slow start through ServiceRouter: requests go through the router's Hono app to a transport
// that answers at once and records which pod it was asked to dial. Snapshots are built from the
// last one (updateRoutingTable), as the Kubernetes source builds them, and published with
// setTable at times an injected clock gives.
import { describe, expect, test } from "vitest";
import type { UpstreamTransport } from "../../router/forward/upstream-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { createReferenceCore } from "../../wasm/core-engine.ts";
import { seededRandom, tally } from "./balancer-fixtures.ts";
import { manualClock, WebTables } from "./slow-start-fixtures.ts";

/** Answers 200 at once; records the identity of each target. */
function answeringTransport(dialled: string[]): UpstreamTransport {
  return {
    forward: (_c, target, call) => {
      dialled.push(target.identity);
      call.onResponse?.(200);
      queueMicrotask(() => call.onEnd?.({ ok: true, bytesOut: 2 }));
      return Promise.resolve(new Response("ok"));
    },
    retain: () => {},
    close: () => Promise.resolve(),
  };
}

describe("slow start through ServiceRouter", () => {
  test("a pod added by a rebuild ramps up by round robin; the first snapshot's pods do not", async () => {
    const clock = manualClock(Date.UTC(2025, 0, 1));
    const start = clock.ms;
    const dialled: string[] = [];
    const router = new ServiceRouter({
      core: createReferenceCore(),
      transport: answeringTransport(dialled),
      clientAddress: () => "10.9.9.9",
      now: clock.now,
      random: seededRandom(3),
      outlierDetection: false,
    });
    const tables = new WebTables({ "vipr.io/lb-policy": "round-robin", "vipr.io/slow-start-window": "10s" });
    const send = async (n: number): Promise<Record<string, number>> => {
      dialled.length = 0;
      for (let i = 0; i < n; i++) {
        const response = await router.app.request(new Request("http://web.default/info", { headers: { host: "web.default" } }));
        expect(response.status).toBe(200);
      }
      return tally(dialled);
    };

    router.setTable(tables.next(["web-a", "web-b"]));
    clock.ms = start + 1000;
    expect(await send(100)).toEqual({ "web-a": 50, "web-b": 50 });

    // web-c turns ready at 2 s; at 7 s it is 5 s into its 10 s window: weight 0.5.
    clock.ms = start + 2000;
    const next = tables.next(["web-a", "web-b", "web-c"]);
    expect(next.rebuilt).toEqual(["default/web"]);
    router.setTable(next);
    clock.ms = start + 7000;
    expect(await send(500)).toEqual({ "web-a": 200, "web-b": 200, "web-c": 100 });
    expect(router.explain({ host: "web.default", key: "" })).toMatchObject({
      found: true,
      slowStart: { windowMs: 10_000, aggression: 1, minWeightPercent: 10 },
      eligible: { endpoints: [{ identity: "web-a" }, { identity: "web-b" }, { identity: "web-c", slowStart: { readyMs: 5000, weightPercent: 50 } }] },
    });

    // After the window: a third each.
    clock.ms = start + 12_000;
    expect(await send(300)).toEqual({ "web-a": 100, "web-b": 100, "web-c": 100 });
    await router.close();
  });
});
