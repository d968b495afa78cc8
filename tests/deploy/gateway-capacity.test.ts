// The gateway uses every CPU of its pod (`vipr serve --workers auto`, issue 12): the CPU it is
// given and the worker count agree, and a HorizontalPodAutoscaler adds replicas on CPU.
import { describe, expect, test } from "vitest";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { parseWorkerCount } from "../../adapters/workers/cpu-count.ts";
import { flavourManifests, loadManifests, ofKind, parseServeArgs, viprWorkload } from "./deploy-manifests.ts";

const documents = flavourManifests("gateway", loadManifests());
const { deployment, vipr } = viprWorkload(documents);
const [hpa] = ofKind<IHorizontalPodAutoscaler>(documents, "HorizontalPodAutoscaler");

/** "2", "1500m" -> CPUs. */
function cpus(quantity: string | number | undefined): number {
  if (quantity === undefined) return NaN;
  const text = String(quantity);
  return text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

describe("the gateway's workers and CPU", () => {
  test("--workers auto, on whole CPUs with requests equal to limits: as many workers as CPUs, never throttled below them", () => {
    expect(parseServeArgs(vipr.args ?? []).flags.get("workers")).toEqual(["auto"]);
    const { requests, limits } = vipr.resources!;
    expect(Number.isInteger(cpus(limits!.cpu))).toBe(true);
    expect(cpus(requests!.cpu)).toBe(cpus(limits!.cpu));
    expect(requests!.memory).toBe(limits!.memory);
    // What --workers auto starts in this container: the CFS quota the kubelet derives from the
    // limit (cpu.max "QUOTA 100000"), on a node with more CPUs.
    const quota = `${cpus(limits!.cpu) * 100_000} 100000`;
    expect(parseWorkerCount("auto", { readText: (path) => (path === "/sys/fs/cgroup/cpu.max" ? quota : undefined), availableParallelism: () => 16 })).toBe(cpus(limits!.cpu));
    expect(cpus(limits!.cpu)).toBeGreaterThanOrEqual(2);
  });

  test("a HorizontalPodAutoscaler scales the Deployment on CPU utilisation, from the PDB's two replicas", () => {
    expect(hpa).toBeDefined();
    expect(hpa!.metadata?.namespace).toBe(deployment.metadata?.namespace);
    expect(hpa!.spec!.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata!.name });
    expect(hpa!.spec!.minReplicas).toBe(2);
    expect(hpa!.spec!.maxReplicas).toBeGreaterThan(hpa!.spec!.minReplicas!);
    expect(hpa!.spec!.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]);
    // Utilization is a share of the CPU request: without one the HPA cannot compute it.
    expect(cpus(vipr.resources!.requests!.cpu)).toBeGreaterThan(0);
  });
});
