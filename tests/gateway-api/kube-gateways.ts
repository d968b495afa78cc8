// The fake API server set up as the Gateway API tests against Kubernetes start from: the namespace
// gateway-conformance-infra, vipr's GatewayClass and another controller's ("theirs"), and a Gateway
// of each ("vipr-gateway", "their-gateway") with one HTTP listener on port 80; objects written with
// @kubernetes/client-node, as a user's tooling would.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { FakeKubeApi, fakeKubeConfig, serveFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { startGatewayApiFromKube } from "../../adapters/kubernetes/gateway-api-kube.ts";

export const G = "gateway.networking.k8s.io";
export const NS = "gateway-conformance-infra";

export const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface KubeGateways {
  readonly kc: KubeConfig;
  readonly api: CustomObjectsApi;
  /** Writes, as another controller would, its status entry for "their-gateway" on a route. */
  writeTheirStatus(plural: "httproutes" | "grpcroutes", name: string): Promise<void>;
  /** Starts vipr's Gateway API source on `router`, its lines into `logged`. */
  startSource(router: Parameters<typeof startGatewayApiFromKube>[1], logged: string[]): void;
  /** Stops the source and the fake API server. */
  close(): Promise<void>;
}

export async function startKubeGateways(serveOptions: Parameters<typeof serveFakeKubeApi>[1] = {}): Promise<KubeGateways> {
  const fake = new FakeKubeApi();
  const served = await serveFakeKubeApi(fake, serveOptions);
  const kc = fakeKubeConfig(served.url);
  const api = kc.makeApiClient(CustomObjectsApi);
  fake.apply({ kind: "Namespace", metadata: { name: NS } });
  await api.createClusterCustomObject({ group: G, version: "v1", plural: "gatewayclasses", body: { apiVersion: `${G}/v1`, kind: "GatewayClass", metadata: { name: "vipr" }, spec: { controllerName: "vipr.io/gateway-controller" } } });
  await api.createClusterCustomObject({ group: G, version: "v1", plural: "gatewayclasses", body: { apiVersion: `${G}/v1`, kind: "GatewayClass", metadata: { name: "theirs" }, spec: { controllerName: "example.com/other" } } });
  for (const [name, className] of [["vipr-gateway", "vipr"], ["their-gateway", "theirs"]] as const) {
    await api.createNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "gateways", body: { apiVersion: `${G}/v1`, kind: "Gateway", metadata: { name, namespace: NS }, spec: { gatewayClassName: className, listeners: [{ name: "http", port: 80, protocol: "HTTP" }] } } });
  }
  let stop: (() => Promise<void>) | undefined;
  return {
    kc,
    api,
    async writeTheirStatus(plural, name) {
      const theirs = { parentRef: { group: G, kind: "Gateway", namespace: NS, name: "their-gateway" }, controllerName: "example.com/other", conditions: [{ type: "Accepted", status: "True", reason: "Accepted", message: "theirs", observedGeneration: 1, lastTransitionTime: "2026-01-01T00:00:00Z" }] };
      await api.patchNamespacedCustomObjectStatus({ group: G, version: "v1", namespace: NS, plural, name, body: { status: { parents: [theirs] } } }, mergePatch);
    },
    startSource(router, logged) {
      stop = startGatewayApiFromKube(kc, router, (line) => logged.push(line));
    },
    async close() {
      await stop?.();
      await served.close();
    },
  };
}
