// `vipr serve --source kube` as a process of this runtime, against the fake Kubernetes API served on
// a loopback port (vipr/testing) with a kubeconfig pointing at it: the first sync makes /readyz
// ready, an EndpointSlice change reaches traffic, and routing goes on while the API is gone.
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { FakeKubeApi, fakeEndpointSlice, fakeKubeConfigYaml, fakeService, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { startPod, type Pod } from "../support/seed-backends.ts";
import { killAll, startVipr, type ViprProcess } from "./vipr-process.ts";

let api: FakeKubeApi;
let served: ServedFakeKubeApi;
let pods: Pod[];
let vipr: ViprProcess;
let port: number;
let adminPort: number;

function get(host: string, path = "/info", toPort = port): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(toPort, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(data.split(" ")[1]), body: data.slice(data.indexOf("\r\n\r\n") + 4) }));
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  pods = await Promise.all(["rcsise-k8s01", "rcsise-k8s02"].map((name) => startPod(name)));
  api = new FakeKubeApi();
  api.apply(fakeService("simpleservice", { selector: { app: "sise" }, ports: [{ port: 80, targetPort: 9876 }] }));
  api.apply(fakeEndpointSlice("simpleservice-a", "simpleservice", [{ address: "127.0.0.1", pod: pods[0]!.name }], { ports: [{ port: pods[0]!.port }] }));
  served = await serveFakeKubeApi(api, { closeGraceMs: 100 });
  const folder = mkdtempSync(join(tmpdir(), "vipr-kube-"));
  const kubeconfig = join(folder, "config");
  writeFileSync(kubeconfig, fakeKubeConfigYaml(served.url));
  vipr = startVipr(["serve", "--source", "kube", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  port = Number((await vipr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  adminPort = Number((await vipr.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  await vipr.waitFor(/synced from the Kubernetes API: 1 services, 1 endpoints/);
}, 30_000);

afterAll(async () => {
  await killAll();
  await served?.close();
  await Promise.all(pods.map((p) => p.close()));
});

test("after the first sync /readyz is ready and simpleservice routes to its pod", async () => {
  expect((await get("x", "/readyz", adminPort)).status).toBe(200);
  const response = await get("simpleservice");
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body).pod).toBe("rcsise-k8s01");
});

test("an EndpointSlice added through the API reaches traffic", async () => {
  api.apply(fakeEndpointSlice("simpleservice-b", "simpleservice", [{ address: "127.0.0.1", pod: pods[1]!.name }], { ports: [{ port: pods[1]!.port }] }));
  await eventually(async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(JSON.parse((await get("simpleservice")).body).pod);
    return seen.size === 2;
  });
});

test("with the API server gone, the last table keeps routing and /readyz stays ready", async () => {
  await served.close();
  for (let i = 0; i < 10; i++) expect((await get("simpleservice")).status).toBe(200);
  expect((await get("x", "/readyz", adminPort)).status).toBe(200);
  const metrics = await get("x", "/metrics", adminPort);
  expect(metrics.body).toMatch(/vipr_kube_/);
});
