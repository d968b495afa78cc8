// Who a request is from, end to end on this runtime: real requests from 127.0.0.x source
// addresses (every 127.0.0.0/8 address reaches this machine on Linux) through vipr's traffic
// listener to loopback pods, compared with /debug/explain?client= on the admin listener for the
// same address; and behind a trusted proxy, the forwarded fields appended and the client taken
// from the right of X-Forwarded-For (router/forward/forward-headers.ts).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startVipr, type RunningVipr } from "../../adapters/cli/start-vipr.ts";
import { startFileSource } from "../../adapters/file/file-source.ts";
import { runVipr } from "../cli/vipr-process.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

interface Answer {
  readonly status: number;
  readonly pod: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** One request to vipr's traffic listener from `localAddress`, on a connection of its own. */
function sendFrom(port: number, localAddress: string, host: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/echo", localAddress, agent: false, headers: { host, connection: "close", ...headers } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        const echo = JSON.parse(body) as { pod: string; headers: Answer["headers"] };
        resolve({ status: response.statusCode ?? 0, pod: echo.pod, headers: echo.headers });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

function get(port: number, path: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(body) }));
      })
      .on("error", reject);
  });
}

/** The pod /debug/explain names for a request to `host` from `client`. */
async function explained(vipr: RunningVipr, host: string, client: string): Promise<{ identity: string; hashKey?: string; sessionAffinity?: any }> {
  const { status, json } = await get(vipr.adminServer!.port, `/debug/explain?host=${host}&client=${encodeURIComponent(client)}`);
  expect(status).toBe(200);
  return { identity: json.result.identity, hashKey: json.hashKey, sessionAffinity: json.sessionAffinity };
}

/** 127.0.0.10 .. 127.0.0.(10+n-1) */
const loopbackClients = (n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${10 + i}`);

const podNames = ["web-a", "web-b", "web-c", "web-d"];
let pods: Pod[];
const accessLog: string[] = [];
let plain: RunningVipr;
let gateway: RunningVipr;

function table() {
  const endpoints = pods.map((pod) => ({ pod: pod.name, port: pod.port }));
  return buildRoutingTable({
    services: [
      { ...seedService({ "vipr.io/hash-key": "client-ip" }), metadata: { name: "byclient", namespace: "default", resourceVersion: "1", annotations: { "vipr.io/hash-key": "client-ip" } } },
      { ...seedService({}, { sessionAffinity: "ClientIP" }), metadata: { name: "sticky", namespace: "default", resourceVersion: "1" } },
    ],
    endpointSlices: [...slicesFor("byclient", endpoints), ...slicesFor("sticky", endpoints)],
  });
}

beforeAll(async () => {
  pods = await Promise.all(podNames.map((name) => startPod(name)));
  const loopback = { hostname: "127.0.0.1", port: 0 };
  plain = await startVipr({ listen: loopback, admin: loopback });
  plain.setTable(table());
  gateway = await startVipr({
    listen: loopback,
    admin: loopback,
    // 127.0.0.50 plays the cloud load balancer; 10.0.0.0/8 its own network (hops inside it).
    trustedProxies: ["127.0.0.50", "10.0.0.0/8", "2001:db8::/32"],
    accessLogSample: 1,
    accessLogWrite: (line) => accessLog.push(line),
  });
  gateway.setTable(table());
});

afterAll(async () => {
  await Promise.all([plain?.close(), gateway?.close()]);
  await Promise.all((pods ?? []).map((pod) => pod.close()));
});

describe("explain with a client address gives the pod real traffic from that address gets (issue 17)", () => {
  test("client-ip hashing: 24 source addresses, explain and traffic agree, and the key is the address", async () => {
    const seen = new Set<string>();
    for (const client of loopbackClients(24)) {
      const real = await sendFrom(plain.server!.port, client, "byclient");
      expect(real.status).toBe(200);
      const again = await sendFrom(plain.server!.port, client, "byclient");
      expect(again.pod).toBe(real.pod); // hashed: a fixed pod per address
      const answer = await explained(plain, "byclient", client);
      expect({ client, pod: answer.identity }).toEqual({ client, pod: real.pod });
      expect(answer.hashKey).toBe(client);
      seen.add(real.pod);
    }
    // The addresses spread over the pods: a comparison against one pod would prove nothing.
    expect(seen.size).toBeGreaterThan(1);
  });

  test("explain reads an IPv4-mapped IPv6 spelling as the IPv4 address a request has", async () => {
    const real = await sendFrom(plain.server!.port, "127.0.0.77", "byclient");
    expect((await explained(plain, "byclient", "::ffff:127.0.0.77")).identity).toBe(real.pod);
  });
});

describe("--trusted-proxies: behind a trusted load balancer (issue 17)", () => {
  const lb = "127.0.0.50";

  test("from a trusted peer, X-Forwarded-For and Forwarded are appended to and X-Forwarded-Proto kept", async () => {
    const real = await sendFrom(gateway.server!.port, lb, "byclient", {
      "x-forwarded-for": "198.51.100.1, 203.0.113.7, 10.1.1.1",
      "x-forwarded-proto": "https",
      forwarded: "for=203.0.113.7;proto=https",
    });
    expect(real.status).toBe(200);
    expect(real.headers["x-forwarded-for"]).toBe("198.51.100.1, 203.0.113.7, 10.1.1.1, 127.0.0.50");
    expect(real.headers["x-forwarded-proto"]).toBe("https");
    expect(real.headers["forwarded"]).toBe("for=203.0.113.7;proto=https, for=127.0.0.50;proto=http;host=byclient");
  });

  test("from an untrusted peer, the same fields are replaced, as without the flag", async () => {
    const real = await sendFrom(gateway.server!.port, "127.0.0.51", "byclient", {
      "x-forwarded-for": "198.51.100.1, 203.0.113.7, 10.1.1.1",
      "x-forwarded-proto": "https",
      forwarded: "for=203.0.113.7;proto=https",
    });
    expect(real.headers["x-forwarded-for"]).toBe("127.0.0.51");
    expect(real.headers["x-forwarded-proto"]).toBe("http");
    expect(real.headers["forwarded"]).toBe("for=127.0.0.51;proto=http;host=byclient");
    expect((await explained(gateway, "byclient", "127.0.0.51")).identity).toBe(real.pod);
  });

  test("client-ip hashing uses the right-most untrusted address: traffic through the balancer matches explain for that client", async () => {
    const seen = new Set<string>();
    for (let i = 1; i <= 24; i++) {
      const client = `203.0.113.${i}`;
      // A forged left-most entry and a trusted inner hop around the real client.
      const real = await sendFrom(gateway.server!.port, lb, "byclient", { "x-forwarded-for": `192.0.2.${i}, ${client}, 10.9.8.7` });
      const answer = await explained(gateway, "byclient", client);
      expect({ client, pod: answer.identity }).toEqual({ client, pod: real.pod });
      seen.add(real.pod);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  test("the access log names the client, and session affinity binds it", async () => {
    accessLog.length = 0;
    const real = await sendFrom(gateway.server!.port, lb, "sticky", { "x-forwarded-for": "2001:db8::7, 198.51.100.23, 2001:db8:1::9" });
    expect(accessLog.map((line) => JSON.parse(line).client)).toEqual(["198.51.100.23"]);
    const answer = await explained(gateway, "sticky", "198.51.100.23");
    expect(answer.sessionAffinity).toMatchObject({ clientIp: "198.51.100.23", boundTo: { identity: real.pod } });
  });
});

describe("vipr explain --client agrees with traffic (issue 17)", () => {
  test("from a manifest file: the CLI's answer for each address is the pod that address's requests reach", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vipr-explain-client-"));
    try {
      const file = join(dir, "byclient.yaml");
      const slices = slicesFor("byclient", pods.map((pod) => ({ pod: pod.name, port: pod.port })));
      const service = { ...seedService(), metadata: { name: "byclient", namespace: "default", annotations: { "vipr.io/hash-key": "client-ip" } } };
      await writeFile(file, [service, ...slices].map((object) => JSON.stringify(object)).join("\n---\n"));
      const source = await startFileSource({ path: file, watch: false, onTable: () => {} });
      const vipr = await startVipr({ listen: { hostname: "127.0.0.1", port: 0 }, admin: null });
      try {
        vipr.setTable(source.table);
        // Three addresses, one process each, one after the other: a CLI start takes seconds on a
        // busy machine. The key check makes a miss certain, not a matter of chance.
        const clients = ["127.0.1.10", "127.0.1.11", "127.0.1.12"];
        const real = await Promise.all(clients.map((client) => sendFrom(vipr.server!.port, client, "byclient")));
        const told: { hashKey: string | undefined; pod: string }[] = [];
        for (const client of clients) {
          const { code, stdout } = await runVipr(["explain", "byclient", "--source", `file:${file}`, "--client", client], 60_000);
          expect(code).toBe(0);
          const answer = JSON.parse(stdout) as { hashKey?: string; result: { identity: string } };
          told.push({ hashKey: answer.hashKey, pod: answer.result.identity });
        }
        expect(told).toEqual(clients.map((client, i) => ({ hashKey: client, pod: real[i]!.pod })));
      } finally {
        await vipr.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
