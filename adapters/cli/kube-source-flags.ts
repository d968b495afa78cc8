// `vipr serve --source kube`: the Kubernetes source, started from the command line's flags.
import type { RunningVipr } from "./start-vipr.ts";

export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespaces: readonly string[];
}

/** Starts the Kubernetes source feeding `vipr`; resolves to its stop function. */
export async function startKubernetesSourceFromFlags(flags: KubeFlags, vipr: RunningVipr): Promise<() => Promise<void>> {
  void flags;
  void vipr;
  throw new Error("the Kubernetes source is not wired into the CLI yet");
}
