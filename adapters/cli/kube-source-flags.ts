// `vipr serve --source kube`: the Kubernetes source (adapters/kubernetes/), started from the
// command line's flags and feeding a running vipr. Configuration comes from client-node: the
// in-cluster service account when running in a pod, else KUBECONFIG or ~/.kube/config.
import type { GatewayObjectsSink } from "../../router/gateway-api/gateway-route-state.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { describeKubeConfig, KubernetesSource, loadKubeConfig } from "../kubernetes/index.ts";
import { UsageError } from "./cli-errors.ts";
import type { RunningVipr } from "./start-vipr.ts";
import { startGatewayApiFromKube } from "../kubernetes/gateway-api-kube.ts";

export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespaces: readonly string[];
  readonly serviceSelector?: string;
  /** Watch Pods too, for their labels (request-time subsets by pod label). */
  readonly watchPods: boolean;
  /** A GatewayClass controllerName: watch Gateway API objects, program that class's Gateways and
   * write their status (gateway-api-kube.ts). */
  readonly gatewayController?: string;
}

/** Starts the Kubernetes source feeding `vipr`; resolves to its stop function. */
export async function startKubernetesSourceFromFlags(flags: KubeFlags, vipr: Pick<RunningVipr, "metrics" | "setTable">, gateway: GatewayObjectsSink): Promise<() => Promise<void>> {
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig({
      ...(flags.kubeconfig === undefined ? {} : { kubeconfigPath: flags.kubeconfig }),
      ...(flags.context === undefined ? {} : { context: flags.context }),
    });
  } catch (error) {
    throw new UsageError(`--source kube: ${(error as Error).message}`);
  }
  console.error(`vipr: kubernetes ${describeKubeConfig(kubeConfig)}`);
  let tables = 0;
  const source = new KubernetesSource({
    kubeConfig,
    namespaces: flags.namespaces,
    ...(flags.serviceSelector === undefined ? {} : { serviceSelector: flags.serviceSelector }),
    watchPods: flags.watchPods,
    ...(vipr.metrics instanceof RouterMetrics ? { registry: vipr.metrics.registry } : {}),
    log: (line) => console.error(`vipr: ${line}`),
    onTable: (table) => {
      // The source publishes its first table after the first full list of every collection:
      // from then on /readyz answers 200, through later API outages too.
      vipr.setTable(table);
      tables++;
      if (tables === 1) {
        const endpoints = table.endpointCount;
        console.error(`vipr: synced from the Kubernetes API: ${table.services.size} services, ${endpoints} endpoints`);
      }
    },
  });
  source.start();
  if (flags.gatewayController === undefined) return () => source.stop();
  const stopGatewayApi = startGatewayApiFromKube(kubeConfig, gateway, (line) => console.error(`vipr: ${line}`), { controllerName: flags.gatewayController });
  return async () => {
    await Promise.all([source.stop(), stopGatewayApi()]);
  };
}
