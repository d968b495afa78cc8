// Issue 13: metrics know the protocol. vipr_requests_by_protocol_total counts each request by the
// protocol it came in on (curl over HTTP/1.1 and h2c with prior knowledge, on one plain port) and
// the one vipr spoke to the pod (http/1.1 here; "-" for an answer vipr gave itself), on Node and
// on Deno.
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { nodeRequestProtocol } from "../../adapters/node/protocol-of.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { parsePrometheusText, seriesKey } from "../observability/prometheus-text.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";
import { run } from "./tls-test-certs.ts";

let pod: Pod;
let router: ServiceRouter;
let server: NodeServer;
const metrics = new RouterMetrics();

beforeAll(async () => {
  pod = await startPod("sise-0");
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    requestProtocol: nodeRequestProtocol,
    metrics,
  });
  router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }]) }));
  server = await serveNode(router.app, { upgrades: router, http2: {}, closeGraceMs: 200 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await router?.close();
  await pod?.close();
});

async function curl(flags: readonly string[], host: string): Promise<string> {
  const result = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", ...flags, "-H", `host: ${host}`, `http://127.0.0.1:${server.port}/info`]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

test("requests are counted by client protocol and upstream protocol", async () => {
  expect(await curl(["--http1.1"], "simpleservice")).toBe("200 1.1");
  expect(await curl(["--http2-prior-knowledge"], "simpleservice")).toBe("200 2");
  expect(await curl(["--http2-prior-knowledge"], "simpleservice")).toBe("200 2");
  // A name that is not in the table: vipr answers itself, nothing reaches a pod.
  expect(await curl(["--http2-prior-knowledge"], "nosuchservice")).toBe("404 2");

  const { samples } = parsePrometheusText((await metrics.render()).body);
  const count = (protocol: string, upstream: string): number | undefined => samples.get(seriesKey("vipr_requests_by_protocol_total", { protocol, upstream_protocol: upstream }));
  expect(count("http/1.1", "http/1.1")).toBe(1);
  expect(count("h2c", "http/1.1")).toBe(2);
  expect(count("h2c", "-")).toBe(1);
});
