// Where the API server is and who vipr is to it, read by @kubernetes/client-node's KubeConfig, so
// vipr accepts every kubeconfig kubectl does (exec and OIDC plugins, client certificates, tokens,
// proxies) and the in-cluster service account:
// - in a pod: the token at /var/run/secrets/kubernetes.io/serviceaccount/token, which the kubelet
//   rotates (bound tokens live an hour and are refreshed at 80% of that). client-node's FileAuth
//   reads the file again at most 60 s after the last read, as client-go's cached token source does,
//   so a rotated token is picked up without a restart; the cluster CA is read from ca.crt.
// - elsewhere: KUBECONFIG (a list of files, merged), else ~/.kube/config; a context may be chosen.

import { KubeConfig } from "@kubernetes/client-node";

export interface KubeConfigOptions {
  /** A kubeconfig file. Default: client-node's loadFromDefault (KUBECONFIG, ~/.kube/config, then
   * the in-cluster service account). */
  readonly kubeconfigPath?: string;
  /** Use the pod's service account (KUBERNETES_SERVICE_HOST/PORT and its token and CA files). */
  readonly inCluster?: boolean;
  /** Prefix of the service account folder, for tests (client-node's loadFromCluster(pathPrefix)). */
  readonly serviceAccountPathPrefix?: string;
  /** A context by name instead of the file's current-context. */
  readonly context?: string;
}

/**
 * Loads and checks a kubeconfig: the chosen context must exist and name a defined cluster, or the
 * error says which names there are.
 *
 * @example
 * const kubeConfig = loadKubeConfig({ context: "kind-dev" }); // or {} for kubectl's defaults
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.inCluster === true) {
    if (process.env["KUBERNETES_SERVICE_HOST"] === undefined) {
      throw new Error("in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which the kubelet sets in every pod; they are not set here");
    }
    kc.loadFromCluster(options.serviceAccountPathPrefix ?? "");
  } else if (options.kubeconfigPath !== undefined) {
    kc.loadFromFile(options.kubeconfigPath);
  } else {
    kc.loadFromDefault();
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) {
      const names = kc.getContexts().map((c) => c.name);
      throw new Error(`kubeconfig has no context ${JSON.stringify(options.context)}; contexts: ${names.length === 0 ? "none" : names.join(", ")}`);
    }
    kc.setCurrentContext(options.context);
  }
  checkKubeConfig(kc);
  return kc;
}

/** Throws when the current context names no context or cluster, or a plain-http server that
 * client-node would refuse on the first request, with what to change. */
export function checkKubeConfig(kc: KubeConfig): void {
  const current = kc.getCurrentContext();
  const context = kc.getContextObject(current);
  if (context === null) {
    const names = kc.getContexts().map((c) => c.name);
    throw new Error(`kubeconfig current-context ${JSON.stringify(current ?? "")} is not one of its contexts (${names.length === 0 ? "none" : names.join(", ")})`);
  }
  const cluster = kc.getCluster(context.cluster);
  if (cluster === null) throw new Error(`kubeconfig context ${JSON.stringify(current)} names cluster ${JSON.stringify(context.cluster)}, which is not defined`);
  if (cluster.server.startsWith("http:") && cluster.skipTLSVerify !== true) {
    // client-node (config.js createAgent) refuses plain http unless TLS checks are off on purpose.
    throw new Error(
      `cluster ${JSON.stringify(cluster.name)} is served over plain http (${cluster.server}); @kubernetes/client-node refuses that unless insecure-skip-tls-verify is true (kubectl proxy, a test server on loopback)`,
    );
  }
}

/** The namespace of the current context (in a pod: the service account's namespace), if set. */
export function kubeConfigNamespace(kc: KubeConfig): string | undefined {
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return typeof namespace === "string" && namespace.trim() !== "" ? namespace.trim() : undefined;
}

/** One line for logs: `context kind-dev: cluster kind-dev at https://127.0.0.1:6443, user kind-dev`. */
export function describeKubeConfig(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  return `context ${kc.getCurrentContext()}: cluster ${cluster?.name ?? "?"} at ${cluster?.server ?? "?"}, user ${user?.name ?? "?"}`;
}
