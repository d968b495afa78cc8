// vipr's pods in both deploy flavours: the `vipr serve` flags, probes on the admin listener,
// security settings, draining, and the wiring between Deployment, Service, PDB and the sidecar's app.
import { parseArgs } from "node:util";
import { describe, expect, test } from "vitest";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IService } from "kubernetes-models/v1/Service";
import { serveOptions } from "../../adapters/cli/serve-command.ts";
import { flavourManifests, flavours, loadManifests, ofKind, parseServeArgs, podContainers, portOf, viprWorkload } from "./deploy-manifests.ts";

const all = loadManifests();
const gateway = viprWorkload(flavourManifests("gateway", all));
const sidecar = viprWorkload(flavourManifests("sidecar", all));
const workloads = { gateway, sidecar } as const;

const flagsOf = (container: IContainer) => parseServeArgs(container.args ?? []).flags;
const flag = (container: IContainer, name: string): string | undefined => flagsOf(container).get(name)?.at(-1);

/** The settings that apply to a container: its own securityContext over the pod's. */
function effectiveSecurity(pod: IPodSpec, container: IContainer) {
  const own = container.securityContext ?? {};
  const podLevel = pod.securityContext ?? {};
  return {
    runAsNonRoot: own.runAsNonRoot ?? podLevel.runAsNonRoot,
    runAsUser: own.runAsUser ?? podLevel.runAsUser,
    seccompProfile: own.seccompProfile ?? podLevel.seccompProfile,
    readOnlyRootFilesystem: own.readOnlyRootFilesystem,
    allowPrivilegeEscalation: own.allowPrivilegeEscalation,
    capabilities: own.capabilities,
  };
}

/** Where a probe asks: an httpGet's port (resolved through named container ports) and path, or the URL an exec probe fetches. */
function probeTarget(container: IContainer, probe: IProbe | undefined): string | undefined {
  if (probe?.httpGet !== undefined) {
    const { port, path } = probe.httpGet;
    const number = typeof port === "number" ? port : container.ports?.find((p) => p.name === port)?.containerPort;
    return `pod-ip:${number}${path}`;
  }
  const command = probe?.exec?.command?.join(" ") ?? "";
  return /fetch\('(http:\/\/[^']+)'\)/.exec(command)?.[1];
}

describe.each(flavours)("vipr in the %s flavour", (flavour) => {
  const { pod, vipr } = workloads[flavour];

  test("runs `vipr serve --source kube` with flags the CLI knows", () => {
    const args = vipr.args ?? [];
    expect(vipr.command).toBeUndefined(); // the image's ENTRYPOINT is the CLI
    expect(args[0]).toBe("serve");
    // The CLI's own option table: an unknown flag or a flag without its value throws here.
    expect(() => parseArgs({ args: args.slice(1), options: serveOptions, strict: true, allowPositionals: false })).not.toThrow();
    expect(flag(vipr, "source")).toBe("kube");
    for (const name of ["listen", "admin"]) expect(flag(vipr, name), `--${name}`).toMatch(/^[\d.]+:\d+$/);
    expect(flag(vipr, "listen")).not.toBe(flag(vipr, "admin"));
  });

  test("gets its namespace and node from the downward API", () => {
    const env = Object.fromEntries((vipr.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    expect(env).toMatchObject({ POD_NAMESPACE: "metadata.namespace", NODE_NAME: "spec.nodeName" });
  });

  test("readiness asks the admin listener's /readyz, liveness its /healthz", () => {
    const admin = flag(vipr, "admin")!;
    const base = flavour === "gateway" ? `pod-ip:${portOf(admin)}` : `http://${admin}`;
    expect(probeTarget(vipr, vipr.readinessProbe)).toBe(`${base}/readyz`);
    expect(probeTarget(vipr, vipr.livenessProbe)).toBe(`${base}/healthz`);
  });

  test("runs as non-root, read-only, without capabilities, under the runtime's seccomp profile", () => {
    const security = effectiveSecurity(pod, vipr);
    expect(security.runAsNonRoot).toBe(true);
    expect(security.runAsUser).toBeGreaterThan(0);
    expect(security.readOnlyRootFilesystem).toBe(true);
    expect(security.allowPrivilegeEscalation).toBe(false);
    expect(security.capabilities).toEqual({ drop: ["ALL"] });
    expect(security.seccompProfile).toEqual({ type: "RuntimeDefault" });
  });

  test("has resource requests and limits", () => {
    expect(vipr.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(vipr.resources?.limits?.memory).toEqual(expect.any(String));
  });
});

describe("every container under deploy/", () => {
  const containers = ofKind<IDeployment>(all, "Deployment").flatMap((d) =>
    podContainers(d.spec!.template.spec!).map((c) => [`${d.metadata!.name}/${c.name}`, d.spec!.template.spec!, c] as const));

  test.each(containers)("%s drops all capabilities, cannot escalate, runs under RuntimeDefault seccomp", (_, pod, container) => {
    const security = effectiveSecurity(pod, container);
    expect(security.allowPrivilegeEscalation).toBe(false);
    expect(security.capabilities).toEqual({ drop: ["ALL"] });
    expect(security.seccompProfile).toEqual({ type: "RuntimeDefault" });
  });
});

describe("the gateway", () => {
  const { deployment, pod, vipr } = gateway;
  const documents = flavourManifests("gateway", all);
  const labels = deployment.spec!.template.metadata!.labels!;

  test("listens on all addresses (8080 traffic, 8443 Gateway HTTPS listeners, 9090 admin), cluster-wide, as a Gateway API implementation", () => {
    expect(vipr.args).toEqual(["serve", "--source", "kube", "--listen", "0.0.0.0:8080", "--listen-https", "0.0.0.0:8443", "--admin", "0.0.0.0:9090", "--gateway-controller", "vipr.io/gateway-controller", "--shutdown-grace", "28000", "--workers", "auto"]);
    expect(vipr.ports?.map((p) => [p.name, p.containerPort])).toEqual([["http", 8080], ["https", 8443], ["admin", 9090]]);
  });

  test("the preStop sleep and vipr's shutdown grace end before the kubelet's SIGKILL", () => {
    const sleep = vipr.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const grace = Number(vipr.args![vipr.args!.indexOf("--shutdown-grace") + 1]) / 1000;
    // vipr bounds its whole stop by the grace plus 0.5 s (adapters/cli/serve-command.ts).
    expect(sleep + grace + 0.5).toBeLessThan(deployment.spec!.template.spec!.terminationGracePeriodSeconds!);
  });

  test("runs two replicas at least and replaces them one at a time without losing one first", () => {
    // The HorizontalPodAutoscaler owns the count (tests/deploy/gateway-capacity.test.ts).
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(ofKind<IHorizontalPodAutoscaler>(documents, "HorizontalPodAutoscaler")[0]!.spec!.minReplicas).toBe(2);
    expect(deployment.spec!.selector.matchLabels).toEqual(labels);
    expect(deployment.spec!.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  test("the Service sends port 80 to vipr's listener and 443 to its HTTPS listener", () => {
    const [service] = ofKind<IService>(documents, "Service");
    expect(service!.spec!.selector).toEqual(labels);
    const port = service!.spec!.ports!;
    expect(port.map((p) => p.port)).toEqual([80, 443]);
    const target = (i: number) => vipr.ports!.find((p) => p.name === port[i]!.targetPort || p.containerPort === port[i]!.targetPort)?.containerPort;
    expect(target(0)).toBe(portOf(flag(vipr, "listen")!));
    expect(target(1)).toBe(portOf(flag(vipr, "listen-https")!));
    expect(["LoadBalancer", "ClusterIP"]).toContain(service!.spec!.type);
  });

  test("the PodDisruptionBudget keeps one of the two replicas through voluntary disruptions", () => {
    const [budget] = ofKind<IPodDisruptionBudget>(documents, "PodDisruptionBudget");
    expect(budget!.spec!.selector!.matchLabels).toEqual(labels);
    const replicas = ofKind<IHorizontalPodAutoscaler>(documents, "HorizontalPodAutoscaler")[0]!.spec!.minReplicas!;
    const allowedDown = budget!.spec!.maxUnavailable ?? replicas - Number(budget!.spec!.minAvailable);
    expect(allowedDown).toBe(1);
  });

  test("drains: a preStop pause for endpoint removal to propagate, inside the grace period with room for requests in flight", () => {
    const pause = vipr.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(pause).toBeGreaterThanOrEqual(5);
    expect(pod.terminationGracePeriodSeconds! - pause).toBeGreaterThanOrEqual(20);
  });
});

describe("the sidecar example", () => {
  const { pod, vipr } = sidecar;
  const app = pod.containers.find((c) => c.name === "app")!;
  const appEnv = new Map((app.env ?? []).map((e) => [e.name, e.value]));
  const tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount";

  test("vipr listens on loopback only: 15001 traffic, 15000 admin, names resolving in the pod's namespace", () => {
    expect(flag(vipr, "listen")).toBe("127.0.0.1:15001");
    expect(flag(vipr, "admin")).toBe("127.0.0.1:15000");
    expect(flag(vipr, "namespace")).toBe("$(POD_NAMESPACE)");
    expect(vipr.ports).toBeUndefined();
  });

  test("the app's http_proxy is vipr's listener, and loopback bypasses it", () => {
    expect(appEnv.get("http_proxy")).toBe(`http://${flag(vipr, "listen")}`);
    expect(appEnv.get("HTTP_PROXY")).toBe(appEnv.get("http_proxy"));
    for (const name of ["NO_PROXY", "no_proxy"]) expect(appEnv.get(name)?.split(",")).toEqual(expect.arrayContaining(["localhost", "127.0.0.1"]));
    expect(app.args?.join(" ")).toContain("curl -sS --max-time 5 simpleservice/info");
  });

  test("vipr is a native sidecar: started (and synced) before the app, stopped after it", () => {
    expect(pod.initContainers?.map((c) => c.name)).toEqual(["vipr"]);
    expect(vipr.restartPolicy).toBe("Always");
    expect(probeTarget(vipr, vipr.startupProbe)).toBe(`http://${flag(vipr, "admin")}/readyz`);
  });

  test("only the vipr container holds the API token", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(vipr.volumeMounts?.find((m) => m.mountPath === tokenPath)).toMatchObject({ readOnly: true });
    expect(app.volumeMounts?.some((m) => m.mountPath === tokenPath) ?? false).toBe(false);
    const volume = pod.volumes?.find((v) => v.name === vipr.volumeMounts!.find((m) => m.mountPath === tokenPath)!.name);
    expect(volume?.projected?.sources?.map((s) => Object.keys(s)[0])).toEqual(["serviceAccountToken", "configMap", "downwardAPI"]);
  });

  test("simpleservice is the seed's: port 80 to 9876 on pods labelled app=sise", () => {
    const service = ofKind<IService>(flavourManifests("sidecar", all), "Service").find((s) => s.metadata!.name === "simpleservice")!;
    expect(service.spec!.selector).toEqual({ app: "sise" });
    expect(service.spec!.ports!.map((p) => [p.port, p.targetPort])).toEqual([[80, 9876]]);
  });
});
