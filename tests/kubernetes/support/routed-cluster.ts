// A small cluster on loopback: the fake API server served on a port (real HTTP watches), a
// KubernetesSource reading it through a kubeconfig file, a ServiceRouter fed by the source and
// served on a port, and loopback pods (tests/support/seed-backends.ts) to route to.
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { loadRuntimeAdapter, type RunningServer } from "../../../adapters/runtime-adapter.ts";
import { FakeKubeApi, fakeService, serveFakeKubeApi, type ServedFakeKubeApi } from "../../../adapters/kubernetes/fake-api/index.ts";
import { loadKubeConfig } from "../../../adapters/kubernetes/kube-config.ts";
import { KubernetesSource } from "../../../adapters/kubernetes/kubernetes-source.ts";
import { ServiceRouter } from "../../../router/service-router.ts";
import { createWasmCore } from "../../../wasm/core-engine.ts";
import { startPod, type Pod } from "../../support/seed-backends.ts";
import { fastTiming } from "./sync-harness.ts";

export interface RoutedCluster {
  readonly fake: FakeKubeApi;
  readonly served: ServedFakeKubeApi;
  readonly source: KubernetesSource;
  readonly router: ServiceRouter;
  readonly registry: Registry;
  readonly logs: string[];
  /** GET /info with Host: `host`; the answering pod's name, or "<status>" when no pod answered. */
  get(host?: string): Promise<string>;
  startPod(name: string): Promise<Pod>;
  /** Points simpleservice at these pods. */
  route(pods: readonly Pod[]): void;
  close(): Promise<void>;
}

const agent = new http.Agent({ keepAlive: false });

/** The serve adapters report a response body that breaks (the fake's injected resets) on the
 * console; those lines are expected here and hidden, every other line passes. */
function quietInjectedResets(): () => void {
  const { error, info } = console;
  const injected = (args: unknown[]): boolean => args.some((a) => /fake API server: |The user aborted a request/.test(a instanceof Error ? a.message : String(a)));
  console.error = (...args: unknown[]) => void (injected(args) || error(...args));
  console.info = (...args: unknown[]) => void (injected(args) || info(...args));
  return () => {
    console.error = error;
    console.info = info;
  };
}

export async function startRoutedCluster(options: { readonly coalesceMs?: number } = {}): Promise<RoutedCluster> {
  const runtime = await loadRuntimeAdapter();
  const restoreConsole = quietInjectedResets();
  const fake = new FakeKubeApi({ bookmarkIntervalMs: 50 });
  fake.apply(fakeService("simpleservice", { ports: [{ port: 80, targetPort: 9876 }], selector: { app: "sise" } }));
  const served = await serveFakeKubeApi(fake);
  // Through a kubeconfig file and a chosen context, as the CLI would read it.
  const folder = mkdtempSync(join(tmpdir(), "vipr-kube-"));
  const path = join(folder, "config");
  writeFileSync(path, served.kubeconfig({ context: "loopback" }));
  const kubeConfig = loadKubeConfig({ kubeconfigPath: path, context: "loopback" });
  rmSync(folder, { recursive: true, force: true });

  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    timeouts: { responseMs: 2000 },
  });
  const registry = new Registry();
  const logs: string[] = [];
  const source = new KubernetesSource({
    kubeConfig,
    onTable: (table) => router.setTable(table),
    registry,
    timing: fastTiming,
    log: (line) => logs.push(line),
    ...(options.coalesceMs === undefined ? {} : { coalesceMs: options.coalesceMs }),
  });
  source.start();
  const server: RunningServer = await runtime.serve(router.app);
  const pods: Pod[] = [];

  const get = (host = "simpleservice"): Promise<string> =>
    new Promise((resolve) => {
      const request = http.get({ host: "127.0.0.1", port: server.port, path: "/info", headers: { host }, agent }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          if (response.statusCode !== 200) return resolve(`<${response.statusCode}>`);
          try {
            resolve((JSON.parse(body) as { pod: string }).pod);
          } catch {
            resolve(`<bad body>`);
          }
        });
      });
      request.on("error", (error) => resolve(`<${error.message}>`));
    });

  return {
    fake,
    served,
    source,
    router,
    registry,
    logs,
    get,
    async startPod(name) {
      const pod = await startPod(name);
      pods.push(pod);
      return pod;
    },
    route(routed) {
      fake.setEndpoints("simpleservice", routed.map((pod) => ({ address: "127.0.0.1", port: pod.port, pod: pod.name })));
    },
    async close() {
      await source.stop();
      await served.close();
      await server.close();
      await router.close();
      await Promise.all(pods.map((pod) => pod.close()));
      restoreConsole();
    },
  };
}
