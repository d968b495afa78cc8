// Kubeconfigs that point at a fake API server: as text (a file for a process under test, through
// KUBECONFIG) or as a client-node KubeConfig (in-process). A plain-http server (served on
// loopback) needs insecure-skip-tls-verify, which client-node demands for http; a URL only msw
// answers can be https, since no connection is ever made.

import { KubeConfig } from "@kubernetes/client-node";

/** A URL for msw to answer (the .test domain never resolves, so nothing leaves the process). */
export const fakeKubeUrl = "https://kube.fake.test";

export interface FakeKubeConfigOptions {
  /** Default "fake-token". */
  readonly token?: string;
  /** The context's namespace. */
  readonly namespace?: string;
  /** Default "fake". */
  readonly context?: string;
  /** PEM of the server's certificate (or its CA), for an https server; written as
   * certificate-authority-data. Without it, an https server's certificate is checked against the system's roots. */
  readonly certificateAuthority?: string;
}

/** The kubeconfig as YAML text. */
export function fakeKubeConfigYaml(server: string = fakeKubeUrl, options: FakeKubeConfigOptions = {}): string {
  const context = options.context ?? "fake";
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${context}`,
    "  cluster:",
    `    server: ${server}`,
    ...(options.certificateAuthority !== undefined
      ? [`    certificate-authority-data: ${Buffer.from(options.certificateAuthority).toString("base64")}`]
      : server.startsWith("http:") ? ["    insecure-skip-tls-verify: true"] : []),
    "users:",
    `- name: ${context}`,
    "  user:",
    `    token: ${options.token ?? "fake-token"}`,
    "contexts:",
    `- name: ${context}`,
    "  context:",
    `    cluster: ${context}`,
    `    user: ${context}`,
    ...(options.namespace === undefined ? [] : [`    namespace: ${options.namespace}`]),
    `current-context: ${context}`,
    "",
  ].join("\n");
}

/** The same, loaded by client-node. */
export function fakeKubeConfig(server: string = fakeKubeUrl, options: FakeKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(fakeKubeConfigYaml(server, options));
  return kc;
}
