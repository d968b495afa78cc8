// The Kubernetes source's public surface, for the CLI and for embedding vipr:
//   const kubeConfig = loadKubeConfig({ context });            // or { inCluster: true }
//   const source = new KubernetesSource({ kubeConfig, onTable: (t) => router.setTable(t), registry });
//   source.start();  ...  await source.stop();
// The fake API server for tests is vipr/testing (fake-api/index.ts).

export { KubernetesSource, lastChangeTriggerTimeAnnotation, type KubernetesSourceOptions } from "./kubernetes-source.ts";
export { checkKubeConfig, describeKubeConfig, kubeConfigNamespace, loadKubeConfig, type KubeConfigOptions } from "./kube-config.ts";
export { createKubeApiClient, type FetchLike, type KubeApiClient, type KubeApiClientOptions } from "./kube-api-client.ts";
export { KubeApiError, type KubeApiErrorKind } from "./kube-api-error.ts";
export { defaultListWatchTiming, ListWatchLoop, type ListWatchObserver, type ListWatchSink, type ListWatchTiming } from "./list-watch-loop.ts";
export { ObjectStore, objectKey, type KubeObject, type StoreChanges } from "./object-store.ts";
export { SyncMetrics } from "./sync-metrics.ts";
export { systemClock, type Clock } from "./clock.ts";
export type { BackoffOptions } from "./backoff.ts";
