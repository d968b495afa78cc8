// Configuration through @kubernetes/client-node: KUBECONFIG and a chosen context, the in-cluster
// service account (token file re-read as it rotates, CA file), and the cluster CA applied by each
// runtime's own TLS client (undici Agent on Node, Deno.createHttpClient on Deno) against a real
// HTTPS server on loopback.
import https from "node:https";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { FakeKubeApi, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";
import { createKubeApiClient } from "../../adapters/kubernetes/kube-api-client.ts";
import { KubeApiError } from "../../adapters/kubernetes/kube-api-error.ts";
import { describeKubeConfig, kubeConfigNamespace, loadKubeConfig } from "../../adapters/kubernetes/kube-config.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const ca = fixture("ca.crt");

let folder: string;
let server: https.Server;
let port: number;
const fake = new FakeKubeApi();
fake.apply(fakeService("web"));

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "vipr-kubeconfig-"));
  // The fake behind real TLS: list and get only (enough to prove the CA and the token).
  server = https.createServer({ cert: fixture("server.crt"), key: fixture("server.key") }, (request, response) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers.set(name, value);
    void fake.fetch(new Request(`https://127.0.0.1:${port}${request.url}`, { headers })).then(async (answer) => {
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
});

function kubeconfig(clusters: Record<string, string>, contexts: Record<string, { cluster: string; namespace?: string }>, current: string, extra = ""): string {
  const lines = ["apiVersion: v1", "kind: Config", "clusters:"];
  for (const [name, server] of Object.entries(clusters)) lines.push(`- name: ${name}`, "  cluster:", `    server: ${server}`, `    certificate-authority-data: ${btoa(ca)}`);
  lines.push("users:", "- name: me", "  user:", "    token: file-token");
  lines.push("contexts:");
  for (const [name, c] of Object.entries(contexts)) lines.push(`- name: ${name}`, "  context:", `    cluster: ${c.cluster}`, "    user: me", ...(c.namespace === undefined ? [] : [`    namespace: ${c.namespace}`]));
  lines.push(`current-context: ${current}`, extra);
  return lines.join("\n");
}

async function listServices(client: ReturnType<typeof createKubeApiClient>): Promise<{ status: number; names: string[] }> {
  const response = await client.get("/api/v1/services", AbortSignal.timeout(5000));
  const body = (await response.json()) as { items: { metadata: { name: string } }[] };
  return { status: response.status, names: body.items.map((i) => i.metadata.name) };
}

describe(`kubeconfig and TLS on ${runtime}`, () => {
  test("KUBECONFIG names the file; a context is chosen by name; the cluster CA is trusted over TLS", async () => {
    const path = join(folder, "config");
    writeFileSync(path, kubeconfig({ real: `https://127.0.0.1:${port}`, other: "https://127.0.0.1:1" }, { a: { cluster: "other" }, b: { cluster: "real", namespace: "shop" } }, "a"));
    const saved = process.env["KUBECONFIG"];
    process.env["KUBECONFIG"] = path;
    try {
      const kc = loadKubeConfig({ context: "b" });
      expect(describeKubeConfig(kc)).toBe(`context b: cluster real at https://127.0.0.1:${port}, user me`);
      expect(kubeConfigNamespace(kc)).toBe("shop");
      const client = createKubeApiClient(kc);
      expect(await listServices(client)).toEqual({ status: 200, names: ["web"] });
      expect(fake.requests.at(-1)!.authorization).toBe("Bearer file-token");
      await client.close();
      expect(() => loadKubeConfig({ context: "c" })).toThrow('kubeconfig has no context "c"; contexts: a, b');
    } finally {
      if (saved === undefined) delete process.env["KUBECONFIG"];
      else process.env["KUBECONFIG"] = saved;
    }
  });

  test("without the CA the server's certificate is refused", async () => {
    const path = join(folder, "no-ca");
    writeFileSync(path, kubeconfig({ real: `https://127.0.0.1:${port}` }, { a: { cluster: "real" } }, "a").replace(/ {4}certificate-authority-data: .*\n/, ""));
    const client = createKubeApiClient(loadKubeConfig({ kubeconfigPath: path }));
    const error = await client.get("/api/v1/services", AbortSignal.timeout(5000)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).kind).toBe("network");
    await client.close();
  });

  test("plain http without insecure-skip-tls-verify is refused with the reason", () => {
    const path = join(folder, "http");
    writeFileSync(path, kubeconfig({ plain: "http://127.0.0.1:8080" }, { a: { cluster: "plain" } }, "a"));
    expect(() => loadKubeConfig({ kubeconfigPath: path })).toThrow(/served over plain http .* insecure-skip-tls-verify/);
  });

  test("in cluster: service account token, CA and namespace; a rotated token is used within a minute", async () => {
    const root = join(folder, "pod");
    const account = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(account, { recursive: true });
    writeFileSync(join(account, "token"), "token-1");
    writeFileSync(join(account, "ca.crt"), ca);
    writeFileSync(join(account, "namespace"), "routing");
    const saved = { host: process.env["KUBERNETES_SERVICE_HOST"], port: process.env["KUBERNETES_SERVICE_PORT"] };
    process.env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1";
    process.env["KUBERNETES_SERVICE_PORT"] = String(port);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const kc = loadKubeConfig({ inCluster: true, serviceAccountPathPrefix: root });
      expect(kubeConfigNamespace(kc)).toBe("routing");
      const client = createKubeApiClient(kc);
      fake.acceptTokens(["token-1"]);
      expect((await listServices(client)).status).toBe(200);
      // The kubelet rotates the token; the API server stops accepting the old one.
      writeFileSync(join(account, "token"), "token-2");
      fake.acceptTokens(["token-2"]);
      expect((await client.get("/api/v1/services", AbortSignal.timeout(5000))).status).toBe(401); // read at most a minute ago
      vi.setSystemTime(Date.now() + 61_000);
      expect((await listServices(client)).status).toBe(200);
      expect(fake.requests.at(-1)!.authorization).toBe("Bearer token-2");
      await client.close();
    } finally {
      vi.useRealTimers();
      fake.acceptTokens(undefined);
      for (const [name, value] of [["KUBERNETES_SERVICE_HOST", saved.host], ["KUBERNETES_SERVICE_PORT", saved.port]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
