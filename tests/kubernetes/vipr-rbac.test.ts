// vipr's real Kubernetes source (`vipr serve --source kube`, client-node) against the fake API
// server with authorization on and exactly the RBAC of deploy/ applied (read from the files),
// authenticated as the ServiceAccount those files bind: the gateway's ClusterRole and the
// sidecar's namespaced Role are each enough to sync and route, the README's sidecar command works
// with the sidecar's Role, and a permission taken away shows as a vipr log line naming the
// resource and the 403 while vipr keeps routing with what it has.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { FakeKubeApi, fakeEndpointSlice, fakeService, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { killAll, repoRoot, startVipr, type ViprProcess } from "../cli/vipr-process.ts";
import { parseManifestText, viprWorkload, type KubeObject } from "../deploy/deploy-manifests.ts";
import { startPod, type Pod } from "../support/seed-backends.ts";

const folder = mkdtempSync(join(tmpdir(), "vipr-rbac-"));

function manifests(file: string): KubeObject[] {
  return parseManifestText(readFileSync(join(repoRoot, file), "utf8"), file).map((d) => d.object);
}

/** The command README's "As a sidecar" shows, as argv (double quotes kept together). */
function readmeSidecarCommand(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### As a sidecar"));
  const line = section.split("\n").find((l) => l.startsWith("vipr serve "));
  if (line === undefined) throw new Error('README.md: no "vipr serve" line under "### As a sidecar"');
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
}

/** The listeners on free loopback ports: --listen and --admin replaced, everything else as given. */
function onFreePorts(args: readonly string[]): string[] {
  return args.map((arg, i) => (args[i - 1] === "--listen" || args[i - 1] === "--admin" ? "127.0.0.1:0" : arg));
}

/** An absolute-form request, as an app whose http_proxy is vipr sends it. */
function proxyGet(port: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(`GET ${url} HTTP/1.1\r\nhost: ${new URL(url).host}\r\nconnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(data.split(" ")[1]), body: data.slice(data.indexOf("\r\n\r\n") + 4) }));
  });
}

let pods: Pod[];
let fake: FakeKubeApi;
let served: ServedFakeKubeApi;

beforeAll(async () => {
  pods = await Promise.all(["rcsise-rbac1", "shop-rbac1"].map((name) => startPod(name)));
});

afterAll(async () => {
  await Promise.all(pods.map((p) => p.close()));
});

afterEach(async () => {
  await killAll();
  await served?.close();
});

/** A fake cluster with authorization, deploy/'s RBAC, and simpleservice in default plus api in shop. */
async function cluster(): Promise<void> {
  fake = new FakeKubeApi({ authorization: true });
  fake.apply({ kind: "Namespace", metadata: { name: "vipr-system" } }, { kind: "Namespace", metadata: { name: "shop" } });
  for (const object of [...manifests("deploy/sidecar/rbac.yaml"), ...manifests("deploy/gateway/rbac.yaml")]) fake.apply(object);
  fake.apply(fakeService("simpleservice", { selector: { app: "sise" }, ports: [{ port: 80, targetPort: 9876 }] }));
  fake.apply(fakeEndpointSlice("simpleservice-a", "simpleservice", [{ address: "127.0.0.1", pod: pods[0]!.name }], { ports: [{ port: pods[0]!.port }] }));
  fake.apply(fakeService("api", { namespace: "shop", ports: [{ port: 80 }] }));
  fake.apply(fakeEndpointSlice("api-a", "api", [{ address: "127.0.0.1", pod: pods[1]!.name }], { namespace: "shop", ports: [{ port: pods[1]!.port }] }));
  served = await serveFakeKubeApi(fake, { closeGraceMs: 100 });
}

function kubeconfigFor(namespace: string, serviceAccount: string): string {
  const path = join(folder, `${namespace}-${serviceAccount}`);
  writeFileSync(path, served.kubeconfig({ token: fake.serviceAccountToken(namespace, serviceAccount) }));
  return path;
}

async function listening(vipr: ViprProcess): Promise<number> {
  return Number((await vipr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, "stderr", 20_000))[1]);
}

/** The subject deploy/<flavour>/rbac.yaml binds. */
function boundServiceAccount(file: string): { namespace: string; name: string } {
  const binding = manifests(file).find((o) => o.kind.endsWith("Binding"))!;
  const subject = (binding["subjects"] as { kind: string; name: string; namespace: string }[]).find((s) => s.kind === "ServiceAccount")!;
  return { namespace: subject.namespace, name: subject.name };
}

describe("vipr with deploy/'s RBAC against an authorizing API server", () => {
  test("the gateway's ClusterRole: vipr syncs every namespace and routes", { timeout: 90_000 }, async () => {
    await cluster();
    const account = boundServiceAccount("deploy/gateway/rbac.yaml");
    const vipr = startVipr(["serve", "--source", "kube", "--kubeconfig", kubeconfigFor(account.namespace, account.name), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    const port = await listening(vipr);
    await vipr.waitFor(/synced from the Kubernetes API: 2 services, 2 endpoints/, "stderr", 20_000);
    expect(JSON.parse((await proxyGet(port, "http://simpleservice/info")).body).pod).toBe("rcsise-rbac1");
    expect(JSON.parse((await proxyGet(port, "http://api.shop/info")).body).pod).toBe("shop-rbac1");
    // The API server's refusal as vipr logs it ("...: 403 Forbidden: ..."), not a port number that holds 403.
    expect(vipr.stderr()).not.toMatch(/\b403 Forbidden\b|is forbidden/);
  });

  test("the README's sidecar command with the sidecar's namespaced Role: syncs its namespace and routes", { timeout: 90_000 }, async () => {
    await cluster();
    const account = boundServiceAccount("deploy/sidecar/rbac.yaml");
    const args = readmeSidecarCommand().map((arg) => arg.replace("$POD_NAMESPACE", account.namespace));
    const vipr = startVipr([...onFreePorts(args), "--kubeconfig", kubeconfigFor(account.namespace, account.name)]);
    const port = await listening(vipr);
    await vipr.waitFor(/synced from the Kubernetes API: 1 services, 1 endpoints/, "stderr", 20_000);
    // The API server's refusal as vipr logs it ("...: 403 Forbidden: ..."), not a port number that holds 403.
    expect(vipr.stderr()).not.toMatch(/\b403 Forbidden\b|is forbidden/);
    expect(JSON.parse((await proxyGet(port, "http://simpleservice/info")).body).pod).toBe("rcsise-rbac1");
    // Another namespace is not in its table (nor readable by its Role).
    expect((await proxyGet(port, "http://api.shop/info")).status).toBe(404);
  });

  test("the sidecar's container args in deploy/sidecar/app.yaml work with the same Role", { timeout: 90_000 }, async () => {
    await cluster();
    const account = boundServiceAccount("deploy/sidecar/rbac.yaml");
    const { vipr: container } = viprWorkload(manifests("deploy/sidecar/app.yaml").map((object, index) => ({ file: "deploy/sidecar/app.yaml", index, object })));
    const args = (container.args ?? []).map((arg) => arg.replace("$(POD_NAMESPACE)", account.namespace));
    const vipr = startVipr([...onFreePorts(args), "--kubeconfig", kubeconfigFor(account.namespace, account.name)]);
    const port = await listening(vipr);
    await vipr.waitFor(/synced from the Kubernetes API: 1 services, 1 endpoints/, "stderr", 20_000);
    expect(JSON.parse((await proxyGet(port, "http://simpleservice/info")).body).pod).toBe("rcsise-rbac1");
  });

  test("a permission taken away: a log line names the resource and the 403, and vipr keeps routing", { timeout: 90_000 }, async () => {
    await cluster();
    const account = boundServiceAccount("deploy/sidecar/rbac.yaml");
    const vipr = startVipr(["serve", "--source", "kube", "--watch-namespace", "default", "--kubeconfig", kubeconfigFor(account.namespace, account.name), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    const port = await listening(vipr);
    await vipr.waitFor(/synced from the Kubernetes API: 1 services, 1 endpoints/, "stderr", 20_000);
    // The Role loses endpointslices; open watches go on (a server authorizes a watch when it
    // starts), so they are expired to make vipr list again, as a watch cache's window moving on would.
    const role = manifests("deploy/sidecar/rbac.yaml").find((o) => o.kind === "Role")!;
    const narrower: KubeObject = { ...role, rules: (role["rules"] as { resources: string[] }[]).filter((r) => !r.resources.includes("endpointslices")) };
    fake.apply(narrower);
    fake.expireWatches("EndpointSlice");
    const [line] = await vipr.waitFor(/.*403 Forbidden: endpointslices\.discovery\.k8s\.io is forbidden: User "system:serviceaccount:default:example-app" cannot (list|watch) resource "endpointslices" in API group "discovery\.k8s\.io" in the namespace "default".*/, "stderr", 20_000);
    expect(line).toMatch(/retrying in \d+ ms/);
    for (let i = 0; i < 5; i++) expect(JSON.parse((await proxyGet(port, "http://simpleservice/info")).body).pod).toBe("rcsise-rbac1");
  });
});
