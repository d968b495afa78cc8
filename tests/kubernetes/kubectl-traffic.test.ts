// The seed tutorial end to end: kubectl applies the tutorial's RC and Service to the fake API
// server (with its controllers), the RC's pods are real local processes (the workload's
// vipr.io/local-addresses annotation, as the file source reads it), vipr's KubernetesSource feeds
// a ServiceRouter, and requests for Host: simpleservice reach one pod, then, after
// `kubectl scale --replicas=2 rc/rcsise`, both.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { FakeKubeApi, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { loadKubeConfig } from "../../adapters/kubernetes/kube-config.ts";
import { KubernetesSource } from "../../adapters/kubernetes/kubernetes-source.ts";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { closeNow } from "../support/seed-backends.ts";
import { Kubectl, kubectlBinary, kubectlClientVersion } from "./kubectl-process.ts";
import { endpointsOf, fastTiming } from "./support/sync-harness.ts";

const clientVersion = await kubectlClientVersion();
const runtimeName = "Deno" in globalThis ? "deno" : "node";
const title = clientVersion === undefined
  ? `the tutorial through vipr with kubectl (skipped: no ${JSON.stringify(kubectlBinary)} on PATH; .ci/run installs Debian's kubernetes-client, or set KUBECTL)`
  : `the tutorial through vipr with kubectl on ${runtimeName}`;

// Two loopback addresses other suites do not use (the seed's own manifest uses 127.0.0.2-4).
const podAddresses = ["127.0.0.61", "127.0.0.62"] as const;

/** A pod: answers every request with the address it listens on. */
function podServer(): http.Server {
  return http.createServer((request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ pod: (request.socket.address() as AddressInfo).address }));
  });
}

function listen(server: http.Server, host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    server.once("error", () => resolve(undefined));
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Both pods on one port (a container port is the same for every replica), on their own addresses. */
async function startPods(): Promise<{ servers: http.Server[]; port: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const first = podServer();
    const port = await listen(first, podAddresses[0], 0);
    const second = podServer();
    if (port !== undefined && (await listen(second, podAddresses[1], port)) !== undefined) return { servers: [first, second], port };
    await closeNow(first);
  }
  throw new Error(`no port free on both ${podAddresses.join(" and ")}`);
}

const manifest = (port: number): string => `apiVersion: v1
kind: ReplicationController
metadata:
  name: rcsise
  annotations:
    vipr.io/local-addresses: "${podAddresses.join(", ")}"
spec:
  replicas: 1
  selector:
    app: sise
  template:
    metadata:
      labels:
        app: sise
    spec:
      containers:
        - name: sise
          image: quay.io/openshiftlabs/simpleservice:0.5.0
          ports:
            - containerPort: ${port}
---
apiVersion: v1
kind: Service
metadata:
  name: simpleservice
spec:
  ports:
    - port: 80
      targetPort: ${port}
  selector:
    app: sise
`;

const agent = new http.Agent({ keepAlive: false });

// A skipped file's describe title is not printed, so the reason is said once here.
if (clientVersion === undefined) console.warn(title);

describe.skipIf(clientVersion === undefined)(title, () => {
  let fake: FakeKubeApi;
  let served: ServedFakeKubeApi;
  let kubectl: Kubectl;
  let pods: { servers: http.Server[]; port: number };
  let router: ServiceRouter;
  let server: RunningServer;

  beforeEach(async () => {
    fake = new FakeKubeApi({ controllers: true });
    served = await serveFakeKubeApi(fake);
    kubectl = new Kubectl(served.kubeconfig());
    pods = await startPods();
    const runtime = await loadRuntimeAdapter();
    router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress, requestHeaders: runtime.requestHeaders, timeouts: { responseMs: 2000 } });
    server = await runtime.serve(router.app);
  });

  afterEach(async () => {
    await server.close();
    await router.close();
    await Promise.all(pods.servers.map(closeNow));
    await kubectl.close();
    await served.close();
  });

  const get = (): Promise<string> =>
    new Promise((resolve) => {
      const request = http.get({ host: "127.0.0.1", port: server.port, path: "/info", headers: { host: "simpleservice" }, agent }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve(response.statusCode === 200 ? (JSON.parse(body) as { pod: string }).pod : `<${response.statusCode}>`));
      });
      request.on("error", (error) => resolve(`<${error.message}>`));
    });

  test("kubectl apply, then scale to 2: requests reach the one pod, then both", async () => {
    const waiters = new Set<() => void>();
    let table: RoutingTable | undefined;
    const source = new KubernetesSource({
      kubeConfig: loadKubeConfig({ kubeconfigPath: kubectl.kubeconfigPath }),
      timing: fastTiming,
      log: () => {},
      onTable: (next) => {
        router.setTable(next);
        table = next;
        for (const waiter of [...waiters]) waiter();
      },
    });
    const until = (count: number): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (endpointsOf(table, "default/simpleservice").length !== count) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    source.start();
    try {
      await kubectl.ok("apply", "-f", kubectl.file("tutorial.yaml", manifest(pods.port)));
      await until(1);
      const before = await Promise.all(Array.from({ length: 10 }, get));
      expect(new Set(before)).toEqual(new Set([podAddresses[0]]));

      await kubectl.ok("scale", "--replicas=2", "rc/rcsise");
      await until(2);
      // Requests until both pods answered: the answers are the events; 200 is far more than a
      // balancer over two ready endpoints needs.
      const seen = new Set<string>();
      for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await get());
      expect(seen).toEqual(new Set(podAddresses));
    } finally {
      await source.stop();
    }
  });
});
