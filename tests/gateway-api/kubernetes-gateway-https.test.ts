// Gateway HTTPS listeners from the API server (the fake): the Gateway API source lists and watches
// Secrets with fieldSelector type=kubernetes.io/tls, so a listener's certificate arrives, and
// changes, through the watch; status is written back through the status subresource (ResolvedRefs
// InvalidCertificateRef until the Secret exists, then Programmed; Conflicted for HTTP and HTTPS on
// one port), and the TLS listener serves the Secret's certificate from the next handshake after an
// update. Secrets are written with @kubernetes/client-node, as a user's tooling would.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FakeKubeApi, fakeKubeConfig, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { startGatewayApiFromKube } from "../../adapters/kubernetes/gateway-api-kube.ts";
import { GatewayCertificateStore } from "../../adapters/node/gateway-certificates.ts";
import { gatewaySinkWithTls } from "../../adapters/node/gateway-tls-sink.ts";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { onDeno } from "../cli/vipr-process.ts";
import { makeCertificate, sClient } from "../forward/tls-test-certs.ts";
import { startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";

const G = "gateway.networking.k8s.io";
const NS = "gateway-conformance-infra";
const runtimeName = onDeno ? "deno" : "node";
let temp: string;
let fake: FakeKubeApi;
let served: ServedFakeKubeApi;
let kc: KubeConfig;
let api: CustomObjectsApi;
let core: CoreV1Api;
let gw: GatewayHarness;
let tlsServer: RunningServer;
let stop: () => Promise<void>;
const pem: Record<string, { cert: string; key: string; fingerprint: string }> = {};

type Obj = Record<string, any>;
const conditions = (list: Obj[] | undefined): string[] => (list ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
const listeners = async (name: string): Promise<string[]> => {
  const gateway = (await api.getNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "gateways", name })) as Obj;
  return ((gateway.status?.listeners ?? []) as Obj[]).map((l) => `${l.name}: ${conditions(l.conditions).join(" ")}`);
};

function tlsSecret(name: string, which: string, type = "kubernetes.io/tls"): Obj {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: NS }, type, data: { "tls.crt": Buffer.from(pem[which]!.cert).toString("base64"), "tls.key": Buffer.from(pem[which]!.key).toString("base64") } };
}

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-gw-kube-https-"));
  for (const name of ["one", "two"]) {
    const fingerprint = await makeCertificate(join(temp, `${name}.crt`), join(temp, `${name}.key`), ["secure.example.org"]);
    pem[name] = { cert: await readFile(join(temp, `${name}.crt`), "utf8"), key: await readFile(join(temp, `${name}.key`), "utf8"), fingerprint };
  }
  const runtime = await loadRuntimeAdapter();
  gw = await startGatewayHarness({ requestIsTls: runtime.requestIsTls });
  const store = new GatewayCertificateStore();
  tlsServer = await runtime.serve(gw.router.app, { tls: store });
  fake = new FakeKubeApi();
  served = await serveFakeKubeApi(fake);
  kc = fakeKubeConfig(served.url);
  api = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  fake.apply({ kind: "Namespace", metadata: { name: NS } });
  await api.createClusterCustomObject({ group: G, version: "v1", plural: "gatewayclasses", body: { apiVersion: `${G}/v1`, kind: "GatewayClass", metadata: { name: "vipr" }, spec: { controllerName: "vipr.io/gateway-controller" } } });
  const https = (name: string, port: number, secret: string) => ({ name, port, protocol: "HTTPS", hostname: "secure.example.org", tls: { certificateRefs: [{ name: secret }] } });
  await api.createNamespacedCustomObject({
    group: G, version: "v1", namespace: NS, plural: "gateways",
    body: { apiVersion: `${G}/v1`, kind: "Gateway", metadata: { name: "secure", namespace: NS }, spec: { gatewayClassName: "vipr", listeners: [https("https", 443, "secure-tls"), https("opaque", 8443, "opaque")] } },
  });
  await api.createNamespacedCustomObject({
    group: G, version: "v1", namespace: NS, plural: "gateways",
    body: { apiVersion: `${G}/v1`, kind: "Gateway", metadata: { name: "conflicted", namespace: NS }, spec: { gatewayClassName: "vipr", listeners: [{ name: "http", port: 443, protocol: "HTTP" }, https("https", 443, "secure-tls")] } },
  });
  // An Opaque Secret with the same keys: never listed (the source's field selector), so never used.
  await core.createNamespacedSecret({ namespace: NS, body: tlsSecret("opaque", "one", "Opaque") as never });
  stop = startGatewayApiFromKube(kc, gatewaySinkWithTls(gw.router, store, true), () => {});
}, 60_000);

afterAll(async () => {
  await stop?.();
  await served?.close();
  await tlsServer?.close();
  await gw?.close();
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

describe(`HTTPS listeners from the Kubernetes API on ${runtimeName}`, () => {
  test("a missing Secret, then created, then replaced: status follows through the watch, and so does the certificate served", async () => {
    await expect.poll(() => listeners("secure"), { timeout: 20_000, interval: 100 }).toEqual([
      "https: Accepted=True/Accepted ResolvedRefs=False/InvalidCertificateRef Programmed=False/Invalid Conflicted=False/NoConflicts",
      "opaque: Accepted=True/Accepted ResolvedRefs=False/InvalidCertificateRef Programmed=False/Invalid Conflicted=False/NoConflicts",
    ]);
    await core.createNamespacedSecret({ namespace: NS, body: tlsSecret("secure-tls", "one") as never });
    await expect.poll(() => listeners("secure"), { timeout: 20_000, interval: 100 }).toEqual([
      "https: Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs Programmed=True/Programmed Conflicted=False/NoConflicts",
      // The Opaque Secret exists but was never listed: to vipr it is not there.
      "opaque: Accepted=True/Accepted ResolvedRefs=False/InvalidCertificateRef Programmed=False/Invalid Conflicted=False/NoConflicts",
    ]);
    expect((await sClient(tlsServer.port, { servername: "secure.example.org" })).fingerprint).toBe(pem.one!.fingerprint);
    await core.patchNamespacedSecret({ namespace: NS, name: "secure-tls", body: { data: tlsSecret("secure-tls", "two")["data"] } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await expect.poll(async () => (await sClient(tlsServer.port, { servername: "secure.example.org" })).fingerprint, { timeout: 20_000, interval: 200 }).toBe(pem.two!.fingerprint);
  }, 60_000);

  test("HTTP and HTTPS on one port: both listeners Conflicted ProtocolConflict in the status written back", async () => {
    await expect.poll(() => listeners("conflicted"), { timeout: 20_000, interval: 100 }).toEqual([
      "http: Accepted=False/ProtocolConflict ResolvedRefs=True/ResolvedRefs Programmed=False/ProtocolConflict Conflicted=True/ProtocolConflict",
      "https: Accepted=False/ProtocolConflict ResolvedRefs=True/ResolvedRefs Programmed=False/ProtocolConflict Conflicted=True/ProtocolConflict",
    ]);
    const gateway = (await api.getNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "gateways", name: "conflicted" })) as Obj;
    expect(conditions(gateway.status.conditions)).toEqual(["Accepted=False/ListenersNotValid", "Programmed=False/Invalid"]);
  }, 60_000);
});
