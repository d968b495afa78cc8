// Writes the status vipr computes (router/gateway-api/gateway-conditions.ts) back to the objects it
// programs, through their status subresource with a JSON merge patch (RFC 7386; custom resources
// take no strategic merge patch): GatewayClass and Gateway conditions, listener statuses, and on
// each HTTPRoute and GRPCRoute the parents vipr's controllerName owns, keeping the entries of other
// controllers (RouteStatus.parents is shared: "implementations MUST only populate entries for
// parents they manage"). A condition keeps its lastTransitionTime while its status stays the same
// (metav1.Condition), and an object whose status would not change is not written, so a write's own
// watch event settles instead of looping. The calls go through client-node's CustomObjectsApi.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { GATEWAY_API_GROUP } from "../../router/gateway-api/gateway-api-objects.ts";
import type { Condition, GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import type { KubeObject } from "./object-store.ts";

export interface GatewayApiStatusWriterOptions {
  readonly kubeConfig: KubeConfig;
  readonly controllerName: string;
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

/** The objects as last listed or watched, to merge with and compare against. */
export interface StoredGatewayApiObjects {
  objects(kind: "GatewayClass" | "Gateway" | "HTTPRoute" | "GRPCRoute"): KubeObject[];
}

type Json = Record<string, unknown>;
type StoredCondition = Condition & { readonly lastTransitionTime?: string };

function withTimes(conditions: readonly Condition[], old: unknown, now: string): StoredCondition[] {
  const before = Array.isArray(old) ? (old as StoredCondition[]) : [];
  return conditions.map((c) => {
    const prior = before.find((o) => o.type === c.type);
    return { ...c, lastTransitionTime: prior !== undefined && prior.status === c.status && typeof prior.lastTransitionTime === "string" ? prior.lastTransitionTime : now };
  });
}

/** JSON of a status without lastTransitionTime, for "would this write change anything". */
function comparable(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === "lastTransitionTime" ? undefined : v));
}

function statusOf(object: KubeObject | undefined): Json {
  return ((object as { status?: Json } | undefined)?.status ?? {}) as Json;
}

function find(objects: readonly KubeObject[], namespace: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.metadata?.name === name && (o.metadata?.namespace ?? "") === namespace);
}

export class GatewayApiStatusWriter {
  readonly #api: CustomObjectsApi;
  readonly #options: GatewayApiStatusWriterOptions;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: GatewayApiStatusWriterOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Queues the writes for `status` after those already queued; resolves when they are done. */
  write(status: GatewayApiStatus, stored: StoredGatewayApiObjects): Promise<void> {
    this.#chain = this.#chain.then(() => this.#write(status, stored)).catch((error: unknown) => this.#options.log?.(`gateway status: ${(error as Error).message}`));
    return this.#chain;
  }

  async #write(status: GatewayApiStatus, stored: StoredGatewayApiObjects): Promise<void> {
    const now = (this.#options.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, "Z");
    const classes = stored.objects("GatewayClass");
    for (const report of status.gatewayClasses) {
      const object = find(classes, "", report.name);
      if (object === undefined) continue;
      await this.#patch(object, "", "gatewayclasses", report.name, { conditions: withTimes(report.conditions, statusOf(object)["conditions"], now) });
    }
    const gateways = stored.objects("Gateway");
    for (const report of status.gateways) {
      const object = find(gateways, report.namespace, report.name);
      if (object === undefined) continue;
      const old = statusOf(object);
      const oldListeners = Array.isArray(old["listeners"]) ? (old["listeners"] as Json[]) : [];
      const listeners = report.listeners.map((l) => ({
        name: l.name,
        supportedKinds: l.supportedKinds,
        attachedRoutes: l.attachedRoutes,
        conditions: withTimes(l.conditions, oldListeners.find((o) => o["name"] === l.name)?.["conditions"], now),
      }));
      await this.#patch(object, report.namespace, "gateways", report.name, { conditions: withTimes(report.conditions, old["conditions"], now), listeners });
    }
    await this.#writeRoutes(status.httpRoutes, stored.objects("HTTPRoute"), "httproutes", now);
    await this.#writeRoutes(status.grpcRoutes ?? [], stored.objects("GRPCRoute"), "grpcroutes", now);
  }

  /** The parents vipr reports on each route of one kind (HTTPRoute, GRPCRoute: the same RouteStatus). */
  async #writeRoutes(reports: GatewayApiStatus["httpRoutes"], routes: readonly KubeObject[], plural: string, now: string): Promise<void> {
    for (const report of reports) {
      const object = find(routes, report.namespace, report.name);
      if (object === undefined) continue;
      const oldParents = Array.isArray(statusOf(object)["parents"]) ? (statusOf(object)["parents"] as Json[]) : [];
      const others = oldParents.filter((p) => p["controllerName"] !== this.#options.controllerName);
      const ours = report.parents.map((p) => {
        const prior = oldParents.find((o) => o["controllerName"] === p.controllerName && comparable(o["parentRef"]) === comparable(p.parentRef));
        return { parentRef: p.parentRef, controllerName: p.controllerName, conditions: withTimes(p.conditions, prior?.["conditions"], now) };
      });
      await this.#patch(object, report.namespace, plural, report.name, { parents: [...others, ...ours] });
    }
    // A route that no longer names a Gateway of ours loses the entries we wrote (RouteStatus.parents:
    // an implementation removes the entries of parents it no longer manages).
    const reported = new Set(reports.map((r) => `${r.namespace}/${r.name}`));
    for (const object of routes) {
      const key = `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
      const parents = statusOf(object)["parents"];
      if (reported.has(key) || !Array.isArray(parents)) continue;
      const others = (parents as Json[]).filter((p) => p["controllerName"] !== this.#options.controllerName);
      if (others.length < parents.length) await this.#patch(object, object.metadata?.namespace ?? "", plural, object.metadata?.name ?? "", { parents: others });
    }
  }

  async #patch(object: KubeObject, namespace: string, plural: string, name: string, status: Json): Promise<void> {
    const old = statusOf(object);
    if (Object.keys(status).every((key) => comparable(old[key]) === comparable(status[key]))) return;
    const body = { status };
    const options = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    if (namespace === "") await this.#api.patchClusterCustomObjectStatus({ group: GATEWAY_API_GROUP, version: "v1", plural, name, body }, options);
    else await this.#api.patchNamespacedCustomObjectStatus({ group: GATEWAY_API_GROUP, version: "v1", namespace, plural, name, body }, options);
  }
}
