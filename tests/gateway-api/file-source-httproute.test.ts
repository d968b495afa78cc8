// `vipr serve --source file:DIR` takes Gateway API YAML beside the Services and EndpointSlices: a
// GatewayClass of vipr's controllerName, a Gateway and HTTPRoutes route requests to echo backends;
// an edit to a route applies; a route with a field the CRD refuses is reported by file, document
// and field while its last good version keeps routing; a route that does not attach is logged
// with its status reason.
import http from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { killAll, type ViprProcess } from "../cli/vipr-process.ts";
import { startEchoBackend, type EchoBackend } from "../support/echo-backend.ts";
import { backendsYaml, viprGatewayYaml } from "./gateway-yaml.ts";
import { serveFromFiles, type FileServe } from "./serve-from-files.ts";

let serve: FileServe;
let dir: string;
let v1: EchoBackend;
let v2: EchoBackend;
let vipr: ViprProcess;
let port: number;

const gateway = viprGatewayYaml("shop", "web", '[{ name: http, port: 80, protocol: HTTP, hostname: "*.example.com" }]');

function routeYaml(apiBackend: string, pathValue = "/api"): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: shop }
spec:
  parentRefs: [{ name: web }]
  hostnames: [shop.example.com]
  rules:
  - matches: [{ path: { type: PathPrefix, value: ${JSON.stringify(pathValue)} } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]
    backendRefs: [{ name: ${apiBackend}, port: 8080 }]
  - backendRefs: [{ name: web-v1, port: 8080 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: lost, namespace: shop }
spec:
  parentRefs: [{ name: web, sectionName: https }]
  rules: [{ backendRefs: [{ name: web-v1, port: 8080 }] }]
`;
}

function request(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false, headers: { host, connection: "close" } }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** Which backend answered, once the answer is the wanted one (an edit applies within a second). */
async function eventually(host: string, path: string, wanted: string): Promise<string> {
  let last = "";
  for (let i = 0; i < 200 && last !== wanted; i++) {
    const answer = await request(host, path);
    last = answer.status === 200 ? `${JSON.parse(answer.body).service} ${JSON.parse(answer.body).path}` : String(answer.status);
    if (last !== wanted) await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

beforeAll(async () => {
  v1 = await startEchoBackend("shop", "web-v1");
  v2 = await startEchoBackend("shop", "api-v2");
  serve = await serveFromFiles("vipr-gateway-api-", { "backends.yaml": `${backendsYaml(v1, v2)}\n`, "gateway.yaml": gateway, "routes.yaml": routeYaml("api-v2") });
  ({ dir, vipr, port } = serve);
  await vipr.waitFor(/vipr: table 1 from/, "stderr", 60_000);
}, 90_000);

afterAll(async () => {
  await killAll();
  await Promise.all([v1?.close(), v2?.close()]);
  await serve?.remove();
});

test("HTTPRoutes from files route by host and path, with their filters; a route that does not attach is logged with its reason", async () => {
  expect(await eventually("shop.example.com", "/api/items?id=7", "api-v2 /items?id=7")).toBe("api-v2 /items?id=7");
  expect(await eventually("shop.example.com", "/", "web-v1 /")).toBe("web-v1 /");
  expect((await request("other.example.com", "/")).status).toBe(404);
  await vipr.waitFor(/HTTPRoute shop\/lost on Gateway shop\/web: Accepted False NoMatchingParent: Gateway shop\/web has no listener with sectionName "https"/);
}, 60_000);

test("an edited route applies; a refused edit is reported by file, document and field and the last good version keeps routing", async () => {
  await serve.save("routes.yaml", routeYaml("web-v1"));
  expect(await eventually("shop.example.com", "/api/items", "web-v1 /items")).toBe("web-v1 /items");
  const from = vipr.stderr().length;
  await serve.save("routes.yaml", routeYaml("api-v2", "no-slash"));
  await vipr.waitFor(new RegExp(`[\\s\\S]{${from}}[\\s\\S]*keeping this document's last good version`));
  expect(vipr.stderr().slice(from)).toContain(`vipr: ${join(dir, "routes.yaml")}: document 1: spec.rules[0].matches[0].path.value: "no-slash" must start with "/"\n`);
  expect((await request("shop.example.com", "/api/items")).body).toContain('"service":"web-v1"');
}, 60_000);
