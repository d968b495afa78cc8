// `vipr serve --max-body-bytes N` (adapters/cli/serve-command.ts) as a process of this runtime:
// the flag reaches the traffic listener, and a bad value is a usage error (exit 2).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { killAll, runVipr, startVipr } from "../cli/vipr-process.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";
import { bodyBytes, bodySum, chunkedPost, eventually, startCountingPod, type CountingPod } from "./support/body-limit-router.ts";
import { parseResponses, rawExchange, runtime } from "./support/safety-router.ts";

let temp: string;
let pod: CountingPod;
let manifest: string;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-body-limit-"));
  pod = await startCountingPod("rcsise-cli");
  manifest = join(temp, "simpleservice.json");
  await writeFile(manifest, [seedService(), ...slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }])].map((o) => JSON.stringify(o)).join("\n---\n"));
});

afterAll(async () => {
  await killAll();
  await pod?.close();
  await rm(temp, { recursive: true, force: true });
});

describe(`vipr serve --max-body-bytes on ${runtime.name}`, () => {
  test("a chunked body past the limit gets 413 and the pod at most 1000 bytes; one within it passes", async () => {
    const vipr = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off", "--max-body-bytes", "1000"]);
    const port = Number((await vipr.waitFor(/^vipr: listening on http:\/\/127\.0\.0\.1:(\d+)$/m))[1]);
    await vipr.waitFor(/^vipr: table 1 from /m);

    const before = pod.requests.length;
    const over = await rawExchange(port, chunkedPost("/upload", bodyBytes(3000), 250), { gapMs: 10, waitMs: 3000 });
    const [refused] = parseResponses(over.text);
    expect(refused?.status, JSON.stringify({ ...over, text: over.text.slice(0, 200) })).toBe(413);
    expect(JSON.parse(refused!.body)).toEqual({ error: { status: 413, code: "body_too_large", message: "request body is larger than 1000 bytes", maxBodyBytes: 1000 } });
    await eventually(() => pod.requests.slice(before).every((r) => r.aborted || r.complete));
    for (const request of pod.requests.slice(before)) {
      expect(request.bytes).toBeLessThanOrEqual(1000);
      expect(request.complete).toBe(false);
    }

    const body = bodyBytes(900, 5);
    const ok = await rawExchange(port, chunkedPost("/upload", body, 300, "connection: close\r\n"));
    const [accepted] = parseResponses(ok.text);
    expect(accepted?.status).toBe(200);
    expect(JSON.parse(accepted!.body)).toMatchObject({ bodyBytes: 900, bodySum: bodySum(body) });
    vipr.signal("SIGTERM");
    expect((await vipr.exited).code).toBe(0);
  });

  test("--max-body-bytes must be a whole number of bytes", async () => {
    const fraction = await runVipr(["serve", "--source", `file:${manifest}`, "--max-body-bytes", "1.5"]);
    expect(fraction.code).toBe(2);
    expect(fraction.stderr).toContain('--max-body-bytes "1.5": expected a whole number of bytes');
    const negative = await runVipr(["serve", "--source", `file:${manifest}`, "--max-body-bytes=-1"]);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--max-body-bytes "-1": expected a number from 0 to');
  });
});
