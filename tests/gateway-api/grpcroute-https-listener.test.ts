// GRPCRoute on a Gateway HTTPS listener: a real @grpc/grpc-js client with TLS credentials (the
// test's own certificate as its only CA, HTTP/2 chosen by ALPN) calls vipr's TLS listener (as
// `vipr serve --listen-https` serves it: the Gateway listeners' certificates from a
// kubernetes.io/tls Secret, picked by SNI), and the GRPCRoute attached to the HTTPS listener sends
// the call to grpc-js pods over h2c. The same call in cleartext (h2c on vipr's plain port) is not
// matched by that route: a route of an HTTPS listener serves only calls that arrived over TLS.
// The same through `vipr serve --source file:DIR --listen-https` as a process, objects from files.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayApiObjectsOf } from "../../adapters/file/gateway-api-manifests.ts";
import { parseManifests } from "../../adapters/file/manifest-documents.ts";
import { GatewayCertificateStore } from "../../adapters/node/gateway-certificates.ts";
import { gatewaySinkWithTls } from "../../adapters/node/gateway-tls-sink.ts";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import { killAll, onDeno, startVipr } from "../cli/vipr-process.ts";
import { makeCertificate } from "../forward/tls-test-certs.ts";
import { callGrpcEcho, GRPC_ECHO, startGrpcEchoBackend } from "../support/grpc-echo-backend.ts";
import { INFRA } from "./gateway-harness.ts";
import { startGrpcGatewayHarness, type GrpcGatewayHarness } from "./grpc-gateway-harness.ts";
import { BASE_GATEWAY, gatewayYaml } from "./gateway-yaml.ts";

const runtimeName = onDeno ? "deno" : "node";
const HOST = "grpc.example.com";
let temp: string;
let gw: GrpcGatewayHarness;
let tlsServer: RunningServer;
let store: GatewayCertificateStore;
let tlsClient: grpc.Client;
let status: GatewayApiStatus;

async function objectsYaml(): Promise<string> {
  const b64 = async (file: string): Promise<string> => Buffer.from(await readFile(join(temp, file))).toString("base64");
  return `
---
apiVersion: v1
kind: Secret
metadata: { name: grpc-tls, namespace: ${INFRA} }
type: kubernetes.io/tls
data:
  tls.crt: ${await b64("grpc.crt")}
  tls.key: ${await b64("grpc.key")}
---
${gatewayYaml(INFRA, "grpc-https", `[{ name: https, port: 443, protocol: HTTPS, hostname: ${HOST}, allowedRoutes: { namespaces: { from: Same } }, tls: { certificateRefs: [{ name: grpc-tls }] } }, { name: http, port: 80, protocol: HTTP, hostname: ${HOST}, allowedRoutes: { namespaces: { from: Same } } }]`)}---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc-over-tls, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: grpc-https, sectionName: https }]
  hostnames: [${HOST}]
  rules:
  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`;
}

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-grpc-https-"));
  await makeCertificate(join(temp, "grpc.crt"), join(temp, "grpc.key"), [HOST]);
  const runtime = await loadRuntimeAdapter();
  gw = await startGrpcGatewayHarness({ requestIsTls: runtime.requestIsTls });
  store = new GatewayCertificateStore();
  tlsServer = await runtime.serve(gw.router.app, { tls: store, http2: {}, closeGraceMs: 200 });
  const sink = gatewaySinkWithTls(gw.router, store, true);
  const parsed = parseManifests(BASE_GATEWAY + (await objectsYaml()), "grpc-https.yaml");
  if (parsed.problems.length > 0) throw new Error(parsed.problems.map((p) => `${p.field}: ${p.message}`).join("\n"));
  status = sink.setGatewayObjects(gatewayApiObjectsOf(parsed.objects), { serviceExists: (key) => gw.router.table?.services.has(key) ?? true });
  // The channel's target is 127.0.0.1; the TLS name checked (and sent as SNI) and :authority are
  // the route's host, as a client resolving grpc.example.com to the gateway would send them.
  tlsClient = new grpc.Client(`127.0.0.1:${tlsServer.port}`, grpc.credentials.createSsl(await readFile(join(temp, "grpc.crt"))), { "grpc.ssl_target_name_override": HOST, "grpc.default_authority": HOST });
}, 60_000);

afterAll(async () => {
  await killAll();
  tlsClient?.close();
  await tlsServer?.close();
  await gw?.close();
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

describe(`GRPCRoute on an HTTPS listener on ${runtimeName}`, () => {
  test("the route is accepted on the HTTPS listener, which counts it", () => {
    const route = status.grpcRoutes?.find((r) => r.name === "grpc-over-tls");
    expect(route?.parents[0]?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    const listeners = status.gateways.find((g) => g.name === "grpc-https")?.listeners.map((l) => [l.name, l.attachedRoutes]);
    expect(listeners).toEqual([
      ["https", 1],
      ["http", 0],
    ]);
  });

  test("a grpc-js client with TLS credentials reaches the h2c pod through the route; repeated calls on one channel too", async () => {
    for (let i = 0; i < 3; i++) {
      const result = await callGrpcEcho(tlsClient, `/${GRPC_ECHO}/Echo`, { "x-call": String(i) });
      expect([grpc.status[result.code], result.details, result.echo?.service, result.echo?.path, result.echo?.metadata["x-call"], result.echo?.metadata["x-forwarded-proto"]]).toEqual(["OK", "", "grpc-infra-backend-v1", `/${GRPC_ECHO}/Echo`, [String(i)], ["https"]]);
    }
  });

  test("a method the route does not match, over TLS, is UNIMPLEMENTED from vipr and reaches no pod", async () => {
    const result = await callGrpcEcho(tlsClient, `/${GRPC_ECHO}/EchoTwo`);
    expect([grpc.status[result.code], result.echo]).toEqual(["UNIMPLEMENTED", undefined]);
  });

  test("the same call in cleartext (h2c to vipr's plain port) is not matched by the HTTPS listener's route", async () => {
    const result = await gw.call(HOST, `/${GRPC_ECHO}/Echo`);
    expect([grpc.status[result.code], result.echo, result.viprError]).toEqual(["UNIMPLEMENTED", undefined, "unknown_host"]);
  });
});

describe(`vipr serve --listen-https with a GRPCRoute from files on ${runtimeName}`, () => {
  test("a grpc-js client with TLS credentials reaches the h2c pod through the GRPCRoute of the HTTPS listener; cleartext calls are not routed by it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vipr-grpc-https-serve-"));
    const backend = await startGrpcEchoBackend(INFRA, "grpc-infra-backend-v1");
    let client: grpc.Client | undefined;
    try {
      const { services, endpointSlices } = backend.objects();
      await writeFile(join(dir, "backend.yaml"), [...services, ...endpointSlices].map((o) => JSON.stringify(o)).join("\n---\n"));
      await writeFile(join(dir, "gateway.yaml"), BASE_GATEWAY + (await objectsYaml()));
      const vipr = startVipr(["serve", "--source", `file:${dir}`, "--listen", "127.0.0.1:0", "--listen-https", "127.0.0.1:0", "--admin", "off"]);
      const port = Number((await vipr.waitFor(/^vipr: listening on http:\/\/127\.0\.0\.1:(\d+)$/m, "stderr", 30_000))[1]);
      const httpsPort = Number((await vipr.waitFor(/^vipr: Gateway HTTPS listeners on https:\/\/127\.0\.0\.1:(\d+)$/m, "stderr", 30_000))[1]);
      await vipr.waitFor(/^vipr: gateway TLS: 1 HTTPS listener \(grpc\.example\.com\)$/m, "stderr", 30_000);
      client = new grpc.Client(`127.0.0.1:${httpsPort}`, grpc.credentials.createSsl(await readFile(join(temp, "grpc.crt"))), { "grpc.ssl_target_name_override": HOST, "grpc.default_authority": HOST });
      const result = await callGrpcEcho(client, `/${GRPC_ECHO}/Echo`);
      expect([grpc.status[result.code], result.details, result.echo?.service, result.echo?.metadata["x-forwarded-proto"]]).toEqual(["OK", "", "grpc-infra-backend-v1", ["https"]]);
      const plain = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_authority": HOST });
      try {
        const cleartext = await callGrpcEcho(plain, `/${GRPC_ECHO}/Echo`);
        expect([grpc.status[cleartext.code], cleartext.echo]).toEqual(["UNIMPLEMENTED", undefined]);
      } finally {
        plain.close();
      }
      expect(backend.received().length).toBe(1);
    } finally {
      client?.close();
      await killAll();
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
