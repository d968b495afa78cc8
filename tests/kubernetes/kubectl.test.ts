// The real kubectl against the fake API server (vipr/testing) served on loopback, with the
// kubeconfig fakeKubeConfigYaml writes: the seed tutorial's commands (apply, get pods -l, scale,
// delete, get -w), the Status errors kubectl prints (409, 422), and vipr's KubernetesSource
// following a `kubectl scale` through the EndpointSlice controller. Runs with any kubectl on PATH
// (or KUBECTL=...), current or Debian's 1.20; .ci/run installs one when missing.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { FakeKubeApi, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { loadKubeConfig } from "../../adapters/kubernetes/kube-config.ts";
import { KubernetesSource } from "../../adapters/kubernetes/kubernetes-source.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { Kubectl, kubectlBinary, kubectlClientVersion } from "./kubectl-process.ts";
import { endpointsOf, fastTiming } from "./support/sync-harness.ts";

const clientVersion = await kubectlClientVersion();
const title = clientVersion === undefined
  ? `kubectl against the fake API server (skipped: no ${JSON.stringify(kubectlBinary)} on PATH; .ci/run installs Debian's kubernetes-client, or set KUBECTL)`
  : `kubectl against the fake API server (${clientVersion})`;

const badService = `apiVersion: v1
kind: Service
metadata:
  name: badport
spec:
  ports:
    - port: 70000
  selector:
    app: sise
`;

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example/web:1
          ports:
            - containerPort: 8080
`;

// A skipped file's describe title is not printed, so the reason is said once here.
if (clientVersion === undefined) console.warn(title);

describe.skipIf(clientVersion === undefined)(title, () => {
  let fake: FakeKubeApi;
  let served: ServedFakeKubeApi;
  let kubectl: Kubectl;

  beforeEach(async () => {
    fake = new FakeKubeApi({ controllers: true });
    served = await serveFakeKubeApi(fake);
    kubectl = new Kubectl(served.kubeconfig());
  });

  afterEach(async () => {
    await kubectl.close();
    await served.close();
  });

  const podNames = async (selector: string): Promise<string[]> =>
    (await kubectl.ok("get", "pods", "-l", selector, "-o", "name")).split("\n").filter((l) => l !== "").sort();

  test("kubectl version: discovery answers with the fake's server version", async () => {
    expect(await kubectl.ok("version")).toMatch(/Server Version: .*v1\.32\.0-fake/);
    // Short names resolve through /api/v1's resource list.
    expect(await kubectl.ok("get", "svc,rc,po,deploy,rs,ns")).toBe("");
  });

  test("the seed tutorial: apply, get pods -l app=sise, scale to 2, EndpointSlice with two endpoints, delete", async () => {
    expect(await kubectl.ok("apply", "-f", "examples/simpleservice.yaml")).toBe("replicationcontroller/rcsise created\nservice/simpleservice created\n");
    const [first] = await podNames("app=sise");
    expect(first).toMatch(/^pod\/rcsise-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    // The tutorial's own command, printed from the server's Table as a cluster prints it.
    expect(await kubectl.ok("get", "pods", "-l", "app=sise")).toMatch(/^NAME +READY +STATUS +RESTARTS +AGE\nrcsise-\w{5} +1\/1 +Running +0 +\d+s\n$/);

    const service = JSON.parse(await kubectl.ok("get", "svc", "simpleservice", "-o", "json"));
    expect(service.spec).toMatchObject({ type: "ClusterIP", sessionAffinity: "None", selector: { app: "sise" }, ports: [{ port: 80, protocol: "TCP", targetPort: 9876 }] });
    expect(service.spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(service.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(service.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(JSON.parse(service.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])).toMatchObject({ kind: "Service", metadata: { name: "simpleservice" } });
    // A second apply computes a strategic merge patch with nothing to change.
    expect(await kubectl.ok("apply", "-f", "examples/simpleservice.yaml")).toBe("replicationcontroller/rcsise unchanged\nservice/simpleservice unchanged\n");

    expect(await kubectl.ok("scale", "--replicas=2", "rc/rcsise")).toBe("replicationcontroller/rcsise scaled\n");
    const pods = await podNames("app=sise");
    expect(pods).toHaveLength(2);
    expect(await kubectl.ok("get", "svc", "simpleservice")).toMatch(/^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\nsimpleservice +ClusterIP +10\.96\.\d+\.\d+ +<none> +80\/TCP +\d+s\n$/);
    expect(pods).toContain(first);
    const slices = JSON.parse(await kubectl.ok("get", "endpointslices", "-l", "kubernetes.io/service-name=simpleservice", "-o", "json")).items;
    expect(slices).toHaveLength(1);
    expect(slices[0].metadata.labels["endpointslice.kubernetes.io/managed-by"]).toBe("endpointslice-controller.k8s.io");
    expect(slices[0].metadata.name).toMatch(/^simpleservice-\w{5}$/);
    expect(slices[0].ports).toEqual([{ name: "", port: 9876, protocol: "TCP" }]);
    expect(slices[0].endpoints.map((e: { addresses: string[] }) => e.addresses[0]).sort()).toEqual(["127.0.0.2", "127.0.0.3"]);
    expect(JSON.parse(await kubectl.ok("get", "rc", "rcsise", "-o", "json")).status).toMatchObject({ replicas: 2, readyReplicas: 2, observedGeneration: 2 });

    expect(await kubectl.ok("delete", "svc", "simpleservice")).toBe('service "simpleservice" deleted\n');
    expect(await kubectl.ok("delete", "rc", "rcsise")).toBe('replicationcontroller "rcsise" deleted\n');
    // The garbage collector takes the RC's pods, and the Service's slices go with it.
    expect(await podNames("app=sise")).toEqual([]);
    expect(await kubectl.ok("get", "endpointslices", "-o", "name")).toBe("");
  });

  test("kubectl get -w prints the pod that kubectl scale adds", async () => {
    await kubectl.ok("apply", "-f", "examples/simpleservice.yaml");
    const [first] = (await podNames("app=sise")).map((p) => p.replace("pod/", ""));
    const watch = kubectl.stream("get", "pods", "-l", "app=sise", "-w");
    await watch.waitFor(new RegExp(`^${first}\\s`, "m"));
    await kubectl.ok("scale", "--replicas=2", "rc/rcsise");
    const second = (await podNames("app=sise")).map((p) => p.replace("pod/", "")).find((p) => p !== first)!;
    await watch.waitFor(new RegExp(`^${second}\\s`, "m"));
    await watch.stop();
  });

  test("409 AlreadyExists, 409 Conflict on a stale resourceVersion, 422 Invalid naming the field", async () => {
    await kubectl.ok("apply", "-f", "examples/simpleservice.yaml");
    const created = await kubectl.run("create", "-f", "examples/simpleservice.yaml");
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('Error from server (AlreadyExists): error when creating "examples/simpleservice.yaml": services "simpleservice" already exists');

    const stale = kubectl.file("stale.json", await kubectl.ok("get", "svc", "simpleservice", "-o", "json"));
    await kubectl.ok("label", "svc", "simpleservice", "tier=web");
    const replaced = await kubectl.run("replace", "-f", stale);
    expect(replaced.code).not.toBe(0);
    expect(replaced.stderr).toContain('Error from server (Conflict): error when replacing');
    expect(replaced.stderr).toContain('Operation cannot be fulfilled on services "simpleservice": the object has been modified; please apply your changes to the latest version and try again');

    const invalid = await kubectl.run("apply", "-f", kubectl.file("bad.yaml", badService));
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('The Service "badport" is invalid');
    expect(invalid.stderr).toContain("spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive");
    expect(fake.get("Service", "default", "badport")).toBeUndefined();
  });

  test("a Deployment: its ReplicaSet makes the pods, and kubectl scale deploy changes their count", async () => {
    // Applied from a manifest: `kubectl create deployment` builds a typed object and sends it
    // as protobuf (kubectl 1.32), which the JSON-only fake answers 415.
    await kubectl.ok("apply", "-f", kubectl.file("web.yaml", deployment));
    expect(await podNames("app=web")).toHaveLength(1);
    expect(await kubectl.ok("scale", "--replicas=3", "deploy/web")).toBe("deployment.apps/web scaled\n");
    const pods = await podNames("app=web");
    expect(pods).toHaveLength(3);
    for (const pod of pods) expect(pod).toMatch(/^pod\/web-\w{10}-\w{5}$/);
    expect((await kubectl.ok("get", "rs", "-o", "name")).trim()).toMatch(/^replicaset\.apps\/web-\w{10}$/);
  });

  test("vipr's KubernetesSource follows kubectl scale: 1 endpoint, then 2", async () => {
    const waiters = new Set<() => void>();
    let table: RoutingTable | undefined;
    const source = new KubernetesSource({
      kubeConfig: loadKubeConfig({ kubeconfigPath: kubectl.kubeconfigPath }),
      timing: fastTiming,
      log: () => {},
      onTable: (next) => {
        table = next;
        for (const waiter of [...waiters]) waiter();
      },
    });
    const until = (want: readonly string[]): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (JSON.stringify(endpointsOf(table, "default/simpleservice")) !== JSON.stringify(want)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    source.start();
    try {
      await kubectl.ok("apply", "-f", "examples/simpleservice.yaml");
      await until(["127.0.0.2:9876"]);
      await kubectl.ok("scale", "--replicas=2", "rc/rcsise");
      await until(["127.0.0.2:9876", "127.0.0.3:9876"]);
      await kubectl.ok("scale", "--replicas=1", "rc/rcsise");
      await until(["127.0.0.2:9876"]);
    } finally {
      await source.stop();
    }
  });
});
