// The retry budget (router/retry-policy.ts) runs on the router's injected clock: a budget of 2
// retries over a 16 s window is spent by one request to a service whose three pods all refuse
// connections (a refused connection is always safe to retry), the next request may not retry,
// and once the router's clock has moved a whole window on, the retries are there again. No wall
// time passes in between: a budget on the runtime's own clock would still be spent.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { listenOnLoopback, seedService, slicesFor } from "../support/seed-backends.ts";
import { serveRouter, type ServedRouter } from "../support/served-router.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const clock = { ms: Date.UTC(2025, 0, 1) };
const TTL_MS = 16_000;
let served: ServedRouter;

/** A loopback port nothing listens on: one that was free a moment ago. */
async function refusedPort(): Promise<number> {
  const server = http.createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

beforeAll(async () => {
  served = await serveRouter({
    now: () => clock.ms,
    outlierDetection: false,
    timeouts: { connectMs: 2000 },
    retries: { maxRetries: 2, retryRatio: 0, minRetriesPerSecond: 2 / (TTL_MS / 1000), ttlMs: TTL_MS },
  });
  const ports = [await refusedPort(), await refusedPort(), await refusedPort()];
  served.router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", ports.map((port, i) => ({ pod: `gone-${i}`, port }))) }));
});

afterAll(async () => {
  await served?.close();
});

/** The error of one request to the service: how many tries it made and why it made no more. */
async function triesOf(): Promise<{ status: number; tries: unknown; notRetried: unknown }> {
  const answer = await served.send("simpleservice", { path: "/info" });
  const error = (answer.json as { error?: { tries?: unknown; notRetried?: unknown } } | undefined)?.error;
  return { status: answer.status, tries: error?.tries, notRetried: error?.notRetried };
}

describe(`the retry budget on the router's clock, on ${runtime}`, () => {
  test("retries spent in a window come back when the router's clock has moved a window on", async () => {
    expect(await triesOf()).toEqual({ status: 502, tries: 3, notRetried: "max_retries" });
    expect(await triesOf()).toEqual({ status: 502, tries: 1, notRetried: "retry_budget" });
    clock.ms += TTL_MS / 2; // the spent retries are still in the window
    expect(await triesOf()).toEqual({ status: 502, tries: 1, notRetried: "retry_budget" });
    clock.ms += TTL_MS / 2;
    expect(await triesOf()).toEqual({ status: 502, tries: 3, notRetried: "max_retries" });
  });
});
