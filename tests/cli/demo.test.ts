// `vipr demo` as a process (stdout is a pipe, not a terminal, so the chart is printed as plain
// blocks): the tutorial's pods on 127.0.0.2 and 127.0.0.3 (on free ports, --pod-port 0, so the test
// runs whatever else holds 9876 on this machine), the scale-up from one replica to two, and the
// final chart with the traffic split between both pods.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { killAll, runVipr } from "./vipr-process.ts";

/** Listens on address:port (0: any free port); resolves with the server, or null if that is taken. */
function listenOn(address: string, port: number): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(null) : reject(error)));
    server.listen(port, address, () => resolve(server));
  });
}

const close = (server: net.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** The tutorial's manifests with other pod addresses and container port. */
function demoManifests(addresses: string, port: number): string {
  const seed = readFileSync(new URL("../../examples/simpleservice.yaml", import.meta.url), "utf8");
  return seed.replace("127.0.0.2, 127.0.0.3, 127.0.0.4", addresses).replaceAll("9876", String(port));
}

let temp: string;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-demo-"));
});
afterAll(async () => {
  await killAll();
  await rm(temp, { recursive: true, force: true });
});

describe.concurrent("vipr demo", () => {
  test("starts one pod, scales to two, and the final chart splits the traffic between both", { timeout: 90_000 }, async () => {
    const { code, stdout, stderr } = await runVipr(["demo", "--duration", "6", "--scale-after", "2", "--listen", "127.0.0.1:0", "--admin", "off", "--pod-port", "0"], 60_000);
    expect(stderr).toBe("");
    expect(code).toBe(0);

    // The two pods, on the tutorial's addresses (each on a port of its own), the first before the
    // scale-up; every request below reached one of them, so vipr routed to the ports they took.
    const started = [...stdout.matchAll(/^pod (rcsise-[a-z0-9]{5}) running on (127\.0\.0\.[23]):(\d+) \(labels app=sise\)$/gm)].map((m) => [m[1]!, m[2]!, m[3]!]);
    expect(started.map(([, address]) => address)).toEqual(["127.0.0.2", "127.0.0.3"]);
    const [first, second] = started.map(([name]) => name!);
    expect(first).not.toBe(second);
    expect(stdout.indexOf(`pod ${first} running`)).toBeLessThan(stdout.indexOf("$ kubectl scale --replicas=2 rc/rcsise"));
    expect(stdout.indexOf("$ kubectl scale --replicas=2 rc/rcsise")).toBeLessThan(stdout.indexOf(`pod ${second} running`));
    expect(stdout).toMatch(/^ {2}service simpleservice: port 80 -> 9876, selector app=sise, 1 endpoint\(s\)$/m);
    expect(stdout).toMatch(/^ {2}curl -H 'Host: simpleservice' http:\/\/127\.0\.0\.1:\d+\/info$/m);

    // The final chart: the requests after scaling, both pods with a share between 30% and 70%.
    const final = stdout.slice(stdout.lastIndexOf("simpleservice: the "));
    expect(final).toMatch(/^simpleservice: the \d+ requests after scaling to 2 replicas\n/);
    const rows = [...final.matchAll(/^ {2}(rcsise-\S+) +(127\.0\.0\.[23]:\d+) +█* *(\d+) \( *(\d+)%\)$/gm)].map((m) => ({ pod: m[1]!, address: m[2]!, count: Number(m[3]), share: Number(m[4]) }));
    expect(rows.map((row) => row.pod).sort()).toEqual([first, second].sort());
    expect(rows.map((row) => row.address).sort()).toEqual(started.map(([, address, port]) => `${address}:${port}`).sort());
    expect(started.every(([, , port]) => port !== "0")).toBe(true);
    for (const row of rows) {
      expect(row.share, final).toBeGreaterThanOrEqual(30);
      expect(row.share, final).toBeLessThanOrEqual(70);
    }
    // About 20 requests a second for the 4 seconds after the scale-up; none failed.
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThan(30);
    expect(final).not.toMatch(/errors:/);
  });

  test("--pod-port takes a port number from 0 to 65535", async () => {
    const { code, stderr } = await runVipr(["demo", "--pod-port", "http", "--duration", "1", "--listen", "127.0.0.1:0", "--admin", "off"]);
    expect(stderr).toMatch(/^vipr: --pod-port "http": expected a port number from 0 to 65535$/m);
    expect(code).toBe(2); // a usage error
  });

  test("a pod address that is taken at the start stops the demo with exit 1 and says which", async () => {
    const blocker = (await listenOn("127.0.0.9", 0))!;
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const manifests = join(temp, "taken-at-start.yaml");
      await writeFile(manifests, demoManifests("127.0.0.9", port));
      const { code, stderr } = await runVipr(["demo", "--manifests", manifests, "--duration", "2", "--listen", "127.0.0.1:0", "--admin", "off"]);
      expect(stderr).toMatch(new RegExp(`^vipr: pod rcsise-[a-z0-9]{5} cannot listen on 127\\.0\\.0\\.9:${port}: EADDRINUSE \\(is another vipr demo running\\?\\)$`, "m"));
      expect(code).toBe(1);
    } finally {
      await close(blocker);
    }
  });

  test("a second pod that cannot start after the scale-up is reported; the demo goes on with one", async () => {
    const blocker = (await listenOn("127.0.0.11", 0))!;
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const manifests = join(temp, "taken-at-scale.yaml");
      await writeFile(manifests, demoManifests("127.0.0.10, 127.0.0.11", port));
      const { code, stdout, stderr } = await runVipr(["demo", "--manifests", manifests, "--duration", "2.5", "--scale-after", "1", "--listen", "127.0.0.1:0", "--admin", "off"]);
      expect(stderr).toBe("");
      expect(stdout).toMatch(new RegExp(`^problem: pod rcsise-[a-z0-9]{5} cannot listen on 127\\.0\\.0\\.11:${port}: EADDRINUSE \\(is another vipr demo running\\?\\); vipr keeps routing by the previous table$`, "m"));
      const final = stdout.slice(stdout.lastIndexOf("simpleservice: the "));
      expect(final).toMatch(/^simpleservice: the \d+ requests so far\n {2}rcsise-\S+ +127\.0\.0\.10:\d+ +█+ +\d+ \(100%\)\n$/);
      expect(code).toBe(0);
    } finally {
      await close(blocker);
    }
  });
});
