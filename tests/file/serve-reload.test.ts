// `vipr serve --source file:DIR` as a process on this runtime, with pods listening on loopback
// addresses, while its manifests are edited (issue 17): a reload counts only the services whose
// routing changed, the moved-keys gauge of a service an edit did not touch keeps its value, and a
// valid YAML edit with an invalid field is refused while the last good version keeps serving.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { closeNow } from "../support/seed-backends.ts";
import { get, killAll, startVipr, type ViprProcess } from "../cli/vipr-process.ts";

interface LocalPod {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly server: http.Server;
}

/** A pod on its own loopback address (127.0.0.0/8 all reaches this machine on Linux). */
function startLocalPod(name: string, address: string): Promise<LocalPod> {
  const server = http.createServer((_request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ pod: name }));
  });
  return new Promise((resolve) => server.listen(0, address, () => resolve({ name, address, port: (server.address() as AddressInfo).port, server })));
}

/** A Service hashing on x-user (Maglev), selecting its pods by label, and one ready Pod per pod. */
function manifest(service: string, pods: readonly LocalPod[], port = "80"): string {
  const head = `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${service}\n  annotations: {vipr.io/hash-key: "header:x-user"}\nspec:\n  selector: {app: ${service}}\n  ports: [{port: ${port}, targetPort: http}]\n`;
  const docs = pods.map(
    (pod) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${pod.name}\n  labels: {app: ${service}}\nspec:\n  containers: [{name: app, ports: [{name: http, containerPort: ${pod.port}}]}]\nstatus:\n  phase: Running\n  podIP: ${pod.address}\n  conditions: [{type: Ready, status: "True"}]\n`,
  );
  return [head, ...docs].join("---\n");
}

function request(port: number, host: string, user: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", agent: false, headers: { host, "x-user": user, connection: "close" } }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

let dir: string;
let alpha: LocalPod[];
let beta: LocalPod[];
let vipr: ViprProcess;
let trafficPort: number;
let adminPort: number;

/** Replaces a manifest in one step (write beside it, then rename), as editors save. */
async function save(name: string, text: string): Promise<void> {
  await writeFile(join(dir, `${name}.tmp`), text);
  await rename(join(dir, `${name}.tmp`), join(dir, name));
}

/** The moved-keys gauge per service, from /metrics. */
async function movedRatios(): Promise<Record<string, number>> {
  const { body } = await get(adminPort, "/metrics");
  const out: Record<string, number> = {};
  for (const match of body.matchAll(/^vipr_hash_keys_moved_ratio\{service="([^"]+)"\} (\S+)$/gm)) out[match[1]!] = Number(match[2]);
  return out;
}

/** Resolves with the first table line logged after `from` (an offset in stderr) that has `endpoints`. */
async function tableLine(from: number, endpoints?: number): Promise<string> {
  const pattern = new RegExp(`vipr: table \\d+ from [^\\n]*: 2 services, ${endpoints ?? "\\d+"} endpoints [^\\n]*`);
  await vipr.waitFor(new RegExp(`[\\s\\S]{${from}}[\\s\\S]*?${pattern.source}`));
  return vipr.stderr().slice(from).match(pattern)![0];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vipr-serve-reload-"));
  alpha = await Promise.all([21, 22, 23].map((n, i) => startLocalPod(`alpha-${i}`, `127.0.0.${n}`)));
  beta = await Promise.all([24, 25, 26].map((n, i) => startLocalPod(`beta-${i}`, `127.0.0.${n}`)));
  await writeFile(join(dir, "alpha.yaml"), manifest("alpha", alpha));
  await writeFile(join(dir, "beta.yaml"), manifest("beta", beta));
  vipr = startVipr(["serve", "--source", `file:${dir}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  trafficPort = Number((await vipr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, "stderr", 60_000))[1]);
  adminPort = Number((await vipr.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/, "stderr", 60_000))[1]);
  await vipr.waitFor(/vipr: table 1 from/, "stderr", 60_000);
}, 90_000);

afterAll(async () => {
  await killAll();
  await Promise.all([...(alpha ?? []), ...(beta ?? [])].map((pod) => closeNow(pod.server)));
  await rm(dir, { recursive: true, force: true });
});

test("a reload counts only services whose routing changed; an untouched service's moved-keys gauge keeps its value", async () => {
  // Traffic to both services builds their Maglev tables, which the gauge compares.
  for (const host of ["alpha", "beta"]) for (const user of ["u1", "u2", "u3"]) expect((await request(trafficPort, host, user)).status).toBe(200);

  // beta loses a pod. Both services share a namespace, and in Pods mode the builder rebuilds every
  // service of a namespace whose pods changed: alpha is rebuilt, but routes as before.
  let from = vipr.stderr().length;
  await save("beta.yaml", manifest("beta", beta.slice(0, 2)));
  expect(await tableLine(from, 5)).toMatch(/, 1 changed, 0 removed$/);
  const afterBeta = await movedRatios();
  expect(afterBeta["default/beta"]).toBeGreaterThan(0.2); // about a third of the keys: beta-2's
  expect(afterBeta["default/alpha"]).toBeUndefined();

  // Now alpha loses a pod: beta is rebuilt alike, and its gauge still says what its own last change moved.
  from = vipr.stderr().length;
  await save("alpha.yaml", manifest("alpha", alpha.slice(0, 2)));
  expect(await tableLine(from, 4)).toMatch(/, 1 changed, 0 removed$/);
  const afterAlpha = await movedRatios();
  expect(afterAlpha["default/alpha"]).toBeGreaterThan(0.2);
  expect(afterAlpha["default/beta"]).toBe(afterBeta["default/beta"]);
}, 60_000);

test('an edit with an invalid field (port: "eighty") is refused, logged by file, document and field, and the last good version keeps serving', async () => {
  const before = await request(trafficPort, "beta", "u1");
  expect(before.status).toBe(200);
  const from = vipr.stderr().length;
  await save("beta.yaml", manifest("beta", beta.slice(0, 2), '"eighty"'));
  const file = join(dir, "beta.yaml");
  await vipr.waitFor(new RegExp(`[\\s\\S]{${from}}[\\s\\S]*keeping this document's last good version`));
  const logged = vipr.stderr().slice(from);
  expect(logged).toContain(`vipr: ${file}: document 1: spec.ports[0].port: "eighty" is not a port number (1..65535); the document is not applied\n`);
  expect(logged).toContain(`vipr: ${file}: document 1: keeping this document's last good version until it is fixed\n`);
  expect(await tableLine(from)).toMatch(/, 0 changed, 0 removed$/);
  const after = await request(trafficPort, "beta", "u1");
  expect(after).toEqual(before); // the same pod answers, not 404 unknown_port
}, 60_000);
