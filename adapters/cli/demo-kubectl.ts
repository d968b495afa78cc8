// `vipr demo --kubectl`: the seed tutorial as written, typed by you. A local control plane (the
// fake API server of vipr/testing, with its ReplicationController, Deployment and EndpointSlice
// controllers) on loopback, a kubeconfig for it, and vipr routing from its Kubernetes source, as
// `vipr serve --source kube` does. The tutorial's own commands are printed to type in another
// terminal with the real kubectl; the pods the controllers make are real local servers (the
// manifests' vipr.io/local-addresses annotation gives each replica its address), and the chart
// redraws as the traffic moves to them.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { FakeKubeApi, serveFakeKubeApi } from "../kubernetes/fake-api/index.ts";
import { KubernetesSource, loadKubeConfig } from "../kubernetes/index.ts";
import { EXIT_OK } from "./cli-errors.ts";
import { DemoPods } from "./demo-pods.ts";
import { startDemoTraffic, untilDemoEnds, type DemoTraffic } from "./demo-traffic.ts";
import { startVipr, type Listen } from "./start-vipr.ts";

export interface KubectlDemoOptions {
  readonly listen: Listen;
  readonly admin: Listen | null;
  readonly manifests: string;
  readonly podPort: number | undefined;
  readonly rate: number;
  /** Seconds; Infinity: until Ctrl-C. */
  readonly duration: number;
  readonly tty: boolean;
  /** Where to write the kubeconfig; default a new temporary folder. */
  readonly kubeconfig?: string;
}

/** The path to print for `kubectl apply -f`: relative when under the working folder. */
function shownPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown === "" || shown.startsWith("..") || isAbsolute(shown) ? path : shown;
}

export async function runKubectlDemo(options: KubectlDemoOptions): Promise<number> {
  const log = (line: string): void => console.log(line);
  const api = new FakeKubeApi({ controllers: true });
  const served = await serveFakeKubeApi(api, { closeGraceMs: 100 });
  const kubeconfig = options.kubeconfig ?? join(mkdtempSync(join(tmpdir(), "vipr-demo-")), "kubeconfig");
  writeFileSync(kubeconfig, served.kubeconfig());

  const vipr = await startVipr({ listen: options.listen, admin: options.admin, namespace: "default" });
  const port = vipr.server!.port; // started with a traffic listener
  const pods = new DemoPods((table) => vipr.setTable(table), options.podPort, log);
  pods.loaded = true; // pods come and go with kubectl: one that cannot start is reported, not fatal

  // The traffic starts once simpleservice has an endpoint, so the chart does not count the
  // requests of the minutes before `kubectl apply` as errors.
  let traffic: DemoTraffic | undefined;
  let endpoints = -1;
  const onTable = (table: RoutingTable): void => {
    pods.publish(table);
    const service = table.services.get("default/simpleservice");
    const count = service?.endpoints.length ?? 0;
    if (count === endpoints) return;
    endpoints = count;
    void pods.published.then(() => {
      traffic?.keepOutput();
      log(service === undefined ? "vipr: no service simpleservice in its table" : `vipr: simpleservice has ${count} endpoint(s)`);
      if (count > 0 && traffic === undefined) traffic = startDemoTraffic(port, options.rate, pods.running, options.tty);
      if (count > 1) traffic?.markScaled();
    });
  };
  const source = new KubernetesSource({
    kubeConfig: loadKubeConfig({ kubeconfigPath: kubeconfig }),
    namespaces: [],
    watchPods: false,
    log: (line) => log(`vipr: ${line}`),
    onTable,
  });
  source.start();

  const proxy = `http_proxy=http://${options.listen.hostname}:${port}`;
  log(`vipr demo --kubectl: the services tutorial on a local control plane (${vipr.runtime.name} ${vipr.runtime.version})`);
  log(`  API server ${served.url} (fake, with the ReplicationController and EndpointSlice controllers; pods run here as local servers)`);
  log(`  vipr listening on http://${options.listen.hostname}:${port}${vipr.adminServer === undefined ? "" : `, admin on http://${options.admin!.hostname}:${vipr.adminServer.port}`}, routing from the Kubernetes API`);
  log("");
  log("In another terminal, the tutorial's commands:");
  log(`  export KUBECONFIG=${kubeconfig}`);
  log(`  kubectl apply -f ${shownPath(options.manifests)}`);
  log("  kubectl get pods -l app=sise");
  log("  kubectl get service");
  log(`  ${proxy} curl -s simpleservice/info`);
  log("  kubectl scale --replicas=2 rc/rcsise");
  log("  kubectl get pods -l app=sise");
  log(`  ${proxy} curl -s simpleservice/info`);
  log("  kubectl delete svc simpleservice");
  log("  kubectl delete rc rcsise");
  log("");

  await untilDemoEnds(options.duration);
  traffic?.stop();
  await source.stop();
  await served.close();
  await vipr.close();
  await pods.published;
  await pods.close();
  return EXIT_OK;
}
