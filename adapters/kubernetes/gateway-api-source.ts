// The Gateway API source: GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes, ReferenceGrants,
// Namespaces (their labels, for allowedRoutes selectors) and TLS Secrets (for HTTPS listeners)
// listed and watched with the same list/watch loop as the routing table's source
// (list-watch-loop.ts, one loop and store per collection), parsed and handed on as one set
// (onObjects, e.g. ServiceRouter.setGatewayObjects) once every collection has its first full list,
// then after each burst of changes (gathered into one on the next tick). Kept apart from
// kubernetes-source.ts: it feeds the router's Gateway API table, not the routing table.
import type { KubeConfig } from "@kubernetes/client-node";
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import { gatewayApiObjectsFrom } from "../../router/gateway-api/parse-gateway-api.ts";
import type { TLSSecret } from "../../router/gateway-api/gateway-api-objects.ts";
import { parseTLSSecret } from "../../router/gateway-api/parse-tls-secret.ts";
import { systemClock, type Clock } from "./clock.ts";
import { createKubeApiClient, type FetchLike, type KubeApiClient } from "./kube-api-client.ts";
import { dropManagedFields, ListWatchLoop, type ListWatchTiming } from "./list-watch-loop.ts";
import { ObjectStore, type KubeObject } from "./object-store.ts";
import { gatewayApiResources, type WatchedResource } from "./watched-resources.ts";

export interface GatewayApiSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** The objects, after the first full list of every collection and after each change; `problems`
   * names objects left out because a field is invalid. */
  readonly onObjects: (objects: GatewayApiObjects, problems: readonly string[]) => void;
  readonly log?: (line: string) => void;
  readonly fetch?: FetchLike;
  readonly timing?: Partial<ListWatchTiming>;
  readonly clock?: Clock;
}

interface Collection {
  readonly resource: WatchedResource;
  readonly store: ObjectStore<KubeObject>;
  readonly loop: ListWatchLoop<KubeObject>;
}

export class GatewayApiSource {
  readonly #options: GatewayApiSourceOptions;
  readonly #client: KubeApiClient;
  readonly #clock: Clock;
  readonly #collections: Collection[];
  #timer: unknown;
  #running = false;
  #published = false;

  constructor(options: GatewayApiSourceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#client = createKubeApiClient(options.kubeConfig, options.fetch === undefined ? {} : { fetch: options.fetch });
    this.#collections = gatewayApiResources.map((resource) => this.#collection(resource));
  }

  /** True once the first set was handed on. */
  get synced(): boolean {
    return this.#published;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const c of this.#collections) c.loop.start();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#collections.map((c) => c.loop.stop()));
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#client.close();
  }

  /** Every stored object of a kind, as the API server last gave it. */
  objects(kind: string): KubeObject[] {
    return [...(this.#collections.find((c) => c.resource.kind === kind)?.store.values() ?? [])];
  }

  #collection(resource: WatchedResource): Collection {
    const store = new ObjectStore<KubeObject>();
    const apiVersion = resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
    const log = this.#options.log;
    const loop = new ListWatchLoop<KubeObject>({
      client: this.#client,
      resource,
      // Items of a list carry no kind (a List's items are of its kind): the parser reads both.
      transform: (object) => ({ ...dropManagedFields<Record<string, unknown>>(object), kind: resource.kind, apiVersion }) as KubeObject,
      observer: { failed: (info) => log?.(`kubernetes: ${info.error.message}; retrying in ${Math.round(info.delayMs)} ms`) },
      sink: {
        replace: (objects) => {
          store.replace(objects);
          this.#changed();
        },
        upsert: (object) => {
          if (store.upsert(object)) this.#changed();
        },
        remove: (object) => {
          if (store.remove(object)) this.#changed();
        },
      },
      ...(this.#options.timing === undefined ? {} : { timing: this.#options.timing }),
      clock: this.#clock,
    });
    return { resource, store, loop };
  }

  #changed(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => this.#publish(), 0);
  }

  #publish(): void {
    this.#timer = undefined;
    if (!this.#running || !this.#collections.every((c) => c.loop.synced)) return;
    const raws: unknown[] = [];
    const namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
    const secrets: TLSSecret[] = [];
    for (const c of this.#collections) {
      for (const object of c.store.values()) {
        if (c.resource.kind === "Namespace") namespaceLabels.set(object.metadata?.name ?? "", { ...(object.metadata?.labels ?? {}) });
        else if (c.resource.kind === "Secret") {
          const secret = parseTLSSecret(object, "default");
          if (secret !== undefined) secrets.push(secret);
        }
        else raws.push(object);
      }
    }
    const { objects, problems } = gatewayApiObjectsFrom(raws, "default");
    this.#published = true;
    this.#options.onObjects({ ...objects, namespaceLabels, secrets }, problems);
  }
}
