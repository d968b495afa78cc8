// `vipr serve` stopping as a pod does on SIGTERM (adapters/cli/serve-command.ts, start-vipr.ts
// drain): /readyz turns 503 at once, traffic is still served for --drain-delay, then the listener
// closes and requests in flight get --shutdown-grace to finish; a second signal stops at once.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";
import { get, killAll, rawRequest, startVipr, type ViprProcess } from "./vipr-process.ts";

let temp: string;
let pod: Pod;
let manifest: string;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-drain-"));
  pod = await startPod("rcsise-drain");
  manifest = join(temp, "simpleservice.json");
  await writeFile(manifest, [seedService(), ...slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }])].map((o) => JSON.stringify(o)).join("\n---\n"));
});
afterAll(async () => {
  await killAll();
  await pod.close();
  await rm(temp, { recursive: true, force: true });
});

async function serve(flags: readonly string[]): Promise<{ vipr: ViprProcess; port: number; adminPort: number }> {
  const vipr = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", ...flags]);
  const port = Number((await vipr.waitFor(/^vipr: listening on http:\/\/127\.0\.0\.1:(\d+)$/m))[1]);
  const adminPort = Number((await vipr.waitFor(/^vipr: admin on http:\/\/127\.0\.0\.1:(\d+) /m))[1]);
  await vipr.waitFor(/^vipr: table 1 from /m);
  return { vipr, port, adminPort };
}

/** Resolves with the error code once a new connection to `port` is refused. */
async function refused(port: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await rawRequest(port, "GET /info HTTP/1.1", "simpleservice", 1000);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ECONNREFUSED" || code === "ECONNRESET") return code;
    }
    if (Date.now() > deadline) throw new Error(`port ${port} still accepted connections after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("vipr serve on SIGTERM", () => {
  test("readyz 503 at once, traffic served through --drain-delay, then no new connections; the request in flight finishes; exit 0", async () => {
    const { vipr, port, adminPort } = await serve(["--drain-delay", "1500", "--shutdown-grace", "5000"]);
    expect((await get(adminPort, "/readyz")).status).toBe(200);
    const slow = rawRequest(port, "GET /delay?ms=3000 HTTP/1.1", "simpleservice", 8000);
    const hitsBefore = pod.hits.length;
    while (pod.hits.length === hitsBefore) await new Promise((resolve) => setTimeout(resolve, 10));

    const signalled = Date.now();
    vipr.signal("SIGTERM");
    await vipr.waitFor(/^vipr: SIGTERM: draining and stopping \(\/readyz 503; listener closes in 1500 ms, then requests in flight get 5000 ms\)$/m);
    const readyz = await get(adminPort, "/readyz");
    expect(readyz.status).toBe(503);
    expect(readyz.body).toContain("draining: vipr is shutting down");
    // Within the drain delay a new request is still routed.
    const during = await rawRequest(port, "GET /info HTTP/1.1", "simpleservice");
    expect(during.status).toBe(200);
    expect(Date.now() - signalled).toBeLessThan(1500);

    // Then the listener closes while the slow request is still at the pod.
    await refused(port, 3000);
    const closedAfterMs = Date.now() - signalled;
    const answer = await slow;
    const { code } = await vipr.exited;
    console.log(`SIGTERM drain: listener closed ${closedAfterMs} ms after the signal; the request in flight answered ${answer.status}; exit ${code} after ${Date.now() - signalled} ms`);
    expect(closedAfterMs).toBeGreaterThanOrEqual(1500);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ pod: pod.name, path: "/delay?ms=3000" });
    expect(vipr.stderr()).toMatch(/^vipr: drained, exiting$/m);
    expect(code).toBe(0);
  });

  test("a request longer than --shutdown-grace is cut and vipr exits on time", async () => {
    const { vipr, port } = await serve(["--shutdown-grace", "300"]);
    const slow = rawRequest(port, "GET /delay?ms=8000 HTTP/1.1", "simpleservice", 10_000).then(
      (response) => `status ${response.status}`,
      (error: Error) => `cut: ${error.message}`,
    );
    const hitsBefore = pod.hits.length;
    while (pod.hits.length === hitsBefore) await new Promise((resolve) => setTimeout(resolve, 10));
    const signalled = Date.now();
    vipr.signal("SIGTERM");
    const { code } = await vipr.exited;
    const exitedAfterMs = Date.now() - signalled;
    const outcome = await slow;
    console.log(`SIGTERM with a request longer than the grace: exit ${code} after ${exitedAfterMs} ms; the client saw ${outcome}`);
    expect(code).toBe(0);
    expect(exitedAfterMs).toBeLessThan(4000);
    expect(outcome).not.toMatch(/^status 200/);
  });

  test("a second signal stops at once (exit 1)", async () => {
    const { vipr } = await serve(["--drain-delay", "30000"]);
    vipr.signal("SIGTERM");
    await vipr.waitFor(/^vipr: SIGTERM: draining and stopping/m);
    const second = Date.now();
    vipr.signal("SIGINT");
    const { code } = await vipr.exited;
    expect(vipr.stderr()).toMatch(/^vipr: SIGINT again: stopping now, requests in flight are cut$/m);
    expect(code).toBe(1);
    expect(Date.now() - second).toBeLessThan(3000);
  });
});
