// A fake Kubernetes API server for tests: one web-standard fetch handler, `(Request) => Promise<
// Response>`, that holds Namespaces, Services, EndpointSlices, Pods, ReplicationControllers,
// ReplicaSets and Deployments and serves discovery, get, list (paged), watch and the write verbs
// kubectl uses in the real wire format (see shared DESIGN.md, "Kubernetes wire facts"), with
// faults to inject and, when asked, the controllers that turn workloads into pods and endpoints.
// Mount it in msw (`http.all(`${url}/*`, ({ request }) => fake.fetch(request))`) for unit tests,
// or serve it on a loopback port (serve-fake-kube-api.ts) for process-level tests.

import { systemClock, type Clock } from "../clock.ts";
import type { FakeUser } from "./fake-authentication.ts";
import { FakeAuthorization } from "./fake-authorization.ts";
import { FakeControllers } from "./fake-controllers.ts";
import { discoveryResponse } from "./fake-discovery.ts";
import { compileFieldSelector, type FieldMatcher } from "./fake-field-selector.ts";
import { compileLabelSelector, type LabelMatcher } from "./fake-label-match.ts";
import { FakeFaults, type FakeVerb } from "./fake-faults.ts";
import { FakeLists } from "./fake-list.ts";
import { FakeObjectState, type ChangeEvent } from "./fake-object-state.ts";
import { fakeEndpointSlice, fakeManagedBy, managedByLabel, type FakeEndpoint } from "./fake-objects.ts";
import { parseApiPath } from "./fake-paths.ts";
import { servedResource, servedResources, type ServedResource } from "./fake-resources.ts";
import { reasonFor, statusResponse } from "./fake-status.ts";
import { FakeWatch } from "./fake-watch.ts";
import { listOptionsError, tooLargeResourceVersion, waitForResourceVersion, watchOptions } from "./fake-watch-options.ts";
import { tableOf, tableVersion } from "./fake-table.ts";
import { scaleOf } from "./fake-workload-objects.ts";
import { FakeWrites } from "./fake-writes.ts";

export interface FakeKubeApiOptions {
  /** Timers (bookmarks, watch timeouts) and timestamps. Default the system clock. */
  readonly clock?: Clock;
  /** The first resourceVersion handed out is this + 1. Default 1000. */
  readonly initialResourceVersion?: number;
  /** Changes kept for watches to replay; older resourceVersions get 410. Default 10000. */
  readonly historyLimit?: number;
  /**
   * BOOKMARK interval for watches that allow them. Default 60000 ms, as the watch cache sends them
   * (cacher.go: bookmarkFrequency, one minute). 0 or false: none, as a server without the watch
   * cache (etcd3 watcher) behaves. Tests that want a quiet watch to advance fast set e.g. 50.
   */
  readonly bookmarkIntervalMs?: number | false;
  /**
   * Whether the fake behaves as an API server with the watch cache (the default, true) or without
   * it (`--watch-cache=false`, watches straight from etcd). false: no bookmarks, and a watch from a
   * resourceVersion the server has not reached yet is accepted and waits for it, as an etcd watch
   * from a future revision does.
   */
  readonly watchCache?: boolean;
  /**
   * How long a watch from a resourceVersion newer than the server's waits for it before the 504
   * "Too large resource version" (watch cache: waitUntilFreshAndBlock, 3 s). Default 3000 ms, on
   * the fake's clock.
   */
  readonly tooLargeResourceVersionWaitMs?: number;
  /**
   * At most this many items on a list page, whatever `limit` asks (a real server may return fewer
   * than limit, e.g. when a selector filters a page; clients must follow `continue`, not count
   * items). Default: pages are full.
   */
  readonly maxPageItems?: number;
  /** A watch without timeoutSeconds ends after this. Default 1800. */
  readonly defaultWatchTimeoutSeconds?: number;
  /** Accepted bearer tokens; default any request is allowed. */
  readonly tokens?: readonly string[];
  /**
   * Run the controllers, as a cluster's control plane would: ReplicationControllers, ReplicaSets
   * and Deployments keep spec.replicas Ready pods, and each Service with a selector gets
   * EndpointSlices derived from its pods (managed-by endpointslice-controller.k8s.io). Default
   * false: objects change only through apply, delete, setEndpoints and the write verbs.
   */
  readonly controllers?: boolean;
  /**
   * Authenticate bearer tokens and authorize each request by RBAC, as a cluster's API server does
   * (fake-authorization.ts): Roles, ClusterRoles and their bindings applied to the fake decide what
   * each user may do; 401 for an unknown token, 403 Forbidden with the API server's message for a
   * request no binding allows. `adminToken` (default "fake-token", the one fakeKubeConfigYaml
   * writes) is in system:masters and always allowed; `serviceAccountToken()` and `addToken()` make
   * the others. Default false: any request is allowed.
   */
  readonly authorization?: boolean | { readonly adminToken?: string };
}

export interface FakeRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly verb: FakeVerb | "other";
  readonly authorization: string | null;
}

/** A kind ("Service") or a resource plural ("services"). */
export type KindOrResource = string;

/** An object to store: a Service, EndpointSlice or Pod, told apart by its kind. */
export type FakeObjectInput = { readonly kind?: unknown; readonly metadata?: unknown };

export class FakeKubeApi {
  /** The handler: pass it to msw, or to a server. Bound, so it can be passed around as is. */
  readonly fetch: (request: Request) => Promise<Response>;
  /** Faults for the next requests: fake.faults.failNext({ status: 429, verb: "watch" }). */
  readonly faults: FakeFaults = new FakeFaults();
  /** The last 2000 requests, oldest first. */
  readonly requests: FakeRequestRecord[] = [];
  readonly #state: FakeObjectState;
  readonly #lists = new FakeLists();
  readonly #clock: Clock;
  readonly #options: FakeKubeApiOptions;
  readonly #watches = new Set<FakeWatch>();
  readonly #writes: FakeWrites;
  readonly #controllers: FakeControllers | undefined;
  readonly #authorization: FakeAuthorization | undefined;
  #tokens: ReadonlySet<string> | undefined;
  /** Resources (or undefined: any) whose next change is not sent to open watches. */
  readonly #dropNext: (string | undefined)[] = [];
  readonly #dropped = new Set<number>();

  constructor(options: FakeKubeApiOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#state = new FakeObjectState({
      ...(options.initialResourceVersion === undefined ? {} : { initialResourceVersion: options.initialResourceVersion }),
      ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
      now: () => this.#clock.now(),
    });
    this.#tokens = options.tokens === undefined ? undefined : new Set(options.tokens);
    // Subscribed before any watch, so a drop is decided before the watches see the change.
    this.#state.subscribe((event) => {
      const index = this.#dropNext.findIndex((r) => r === undefined || r === event.stored.resource.resource);
      if (index === -1) return;
      this.#dropNext.splice(index, 1);
      this.#dropped.add(event.resourceVersion);
    });
    this.#writes = new FakeWrites(this.#state, () => this.#clock.now());
    this.#controllers = options.controllers === true ? new FakeControllers(this.#state, () => this.#clock.now()) : undefined;
    const authorization = options.authorization;
    this.#authorization = authorization === undefined || authorization === false ? undefined : new FakeAuthorization(this.#state, (authorization === true ? undefined : authorization.adminToken) ?? "fake-token");
    this.fetch = (request) => this.#handle(request);
  }

  /** The resourceVersion of the latest change. */
  get resourceVersion(): number {
    return this.#state.resourceVersion;
  }

  // --- objects -----------------------------------------------------------------------------------

  /** Creates or replaces objects (by kind, namespace and name); each gets a new resourceVersion.
   * The objects are copied, never changed. Returns the stored copies. */
  apply(...objects: readonly FakeObjectInput[]): Readonly<Record<string, unknown>>[] {
    return objects.map((object) => this.#state.put(this.#resource(String(object.kind ?? "")), object as Readonly<Record<string, unknown>>).stored.object);
  }

  /** Deletes an object; false when there was none. */
  delete(kind: KindOrResource, namespace: string, name: string): boolean {
    return this.#state.remove(this.#resource(kind), namespace, name) !== undefined;
  }

  get(kind: KindOrResource, namespace: string, name: string): Readonly<Record<string, unknown>> | undefined {
    return this.#state.get(this.#resource(kind), namespace, name)?.object;
  }

  /** Every object of a kind, sorted by namespace/name, frozen. */
  objects(kind: KindOrResource, namespace?: string): Readonly<Record<string, unknown>>[] {
    return this.#state.list(this.#resource(kind), namespace).map((stored) => stored.object);
  }

  /**
   * The scale-style change: a service's endpoints become exactly `endpoints`, as the EndpointSlice
   * controller would write them. One slice per distinct pod port, named `<service>-fake-<port>`,
   * with the service's port names; slices of earlier calls that are no longer needed are deleted.
   * Each slice carries endpoints.kubernetes.io/last-change-trigger-time.
   *
   * @example
   * fake.setEndpoints("web", ["10.0.0.1", "10.0.0.2"]);            // scale to two
   * fake.setEndpoints({ name: "web", namespace: "shop" }, [{ address: "127.0.0.1", port: 8081, pod: "web-1" }]);
   */
  setEndpoints(service: string | { readonly name: string; readonly namespace?: string }, endpoints: readonly FakeEndpoint[]): void {
    const name = typeof service === "string" ? service : service.name;
    const namespace = (typeof service === "string" ? undefined : service.namespace) ?? "default";
    const slices = this.#resource("EndpointSlice");
    const servicePorts = ((this.get("Service", namespace, name)?.["spec"] as { ports?: { name?: string; port?: number; targetPort?: number | string; protocol?: string }[] } | undefined)?.ports ?? []);
    const byPort = new Map<string, FakeEndpoint[]>();
    const portsOf = (endpoint: FakeEndpoint): { name?: string; port: number; protocol?: string }[] => {
      const override = typeof endpoint === "string" ? undefined : endpoint.port;
      if (servicePorts.length === 0) return [{ port: override ?? 80 }];
      return servicePorts.map((p) => ({
        ...(p.name === undefined ? {} : { name: p.name }),
        port: override !== undefined && servicePorts.length === 1 ? override : typeof p.targetPort === "number" ? p.targetPort : (p.port ?? 80),
        ...(p.protocol === undefined ? {} : { protocol: p.protocol }),
      }));
    };
    for (const endpoint of endpoints) {
      const key = portsOf(endpoint).map((p) => p.port).join("-");
      let group = byPort.get(key);
      if (group === undefined) byPort.set(key, (group = []));
      group.push(endpoint);
    }
    const now = new Date(this.#clock.now()).toISOString();
    const wanted = new Set<string>();
    for (const [key, group] of byPort) {
      const sliceName = `${name}-fake-${key}`;
      wanted.add(sliceName);
      const slice = fakeEndpointSlice(sliceName, name, group, {
        namespace,
        ports: portsOf(group[0]!),
        labels: { [managedByLabel]: fakeManagedBy },
        annotations: { "endpoints.kubernetes.io/last-change-trigger-time": now },
      });
      const old = this.#state.get(slices, namespace, sliceName)?.object;
      // The controller does not write a slice that would not change.
      if (old !== undefined && JSON.stringify(old["endpoints"]) === JSON.stringify(slice.endpoints) && JSON.stringify(old["ports"]) === JSON.stringify(slice.ports)) continue;
      this.#state.put(slices, slice as unknown as Record<string, unknown>);
    }
    for (const stored of this.#state.list(slices, namespace)) {
      const labels = stored.labels ?? {};
      if (labels["kubernetes.io/service-name"] === name && labels[managedByLabel] === fakeManagedBy && !wanted.has(stored.name)) {
        this.#state.remove(slices, namespace, stored.name);
      }
    }
  }

  // --- faults on open watches --------------------------------------------------------------------

  /** Open watches, of one resource (plural or kind) or all. */
  openWatches(kind?: KindOrResource): number {
    return this.#watchesOf(kind).length;
  }

  /**
   * Each open watch gets ERROR 410 Expired, then its stream closes. The resource's history is
   * forgotten up to now (the watch cache's window moved on), so a watch again from a
   * resourceVersion older than the current one is 410 too; a re-list's resourceVersion is not.
   */
  expireWatches(kind?: KindOrResource): void {
    if (kind === undefined) for (const resource of servedResources) this.#state.compact(resource);
    else this.#state.compact(this.#resource(kind));
    for (const watch of this.#watchesOf(kind)) watch.expire();
  }

  /** Each open watch ends cleanly, as when its timeoutSeconds passes. */
  endWatches(kind?: KindOrResource): void {
    for (const watch of this.#watchesOf(kind)) watch.end();
  }

  /** Each open watch goes silent (no events, no bookmarks) and stays open. */
  stallWatches(kind?: KindOrResource): void {
    for (const watch of this.#watchesOf(kind)) watch.stalled = true;
  }

  /** Each open watch's connection breaks mid-stream. */
  breakWatches(kind?: KindOrResource): void {
    for (const watch of this.#watchesOf(kind)) watch.break();
  }

  /** Writes a raw line (e.g. `{"type":"ADDED","object":` cut short) to each open watch. */
  writeToWatches(line: string, kind?: KindOrResource): void {
    for (const watch of this.#watchesOf(kind)) watch.writeRaw(line);
  }

  /** Sends a BOOKMARK now on each open watch. */
  bookmarkWatches(kind?: KindOrResource): void {
    for (const watch of this.#watchesOf(kind)) watch.bookmark();
  }

  /** The next change (of a resource, or any) is not sent to the watches open now; it is stored
   * and listed, so a re-list finds it. */
  dropNextEvent(kind?: KindOrResource): void {
    this.#dropNext.push(kind === undefined ? undefined : this.#resource(kind).resource);
  }

  /** Forgets the change history (etcd compaction): watches from an older resourceVersion get 410. */
  compact(): void {
    this.#state.compact();
  }

  /** Which bearer tokens are accepted from now on (undefined: any). */
  acceptTokens(tokens: readonly string[] | undefined): void {
    this.#tokens = tokens === undefined ? undefined : new Set(tokens);
  }

  /**
   * The bearer token of a service account (`system:serviceaccount:<namespace>:<name>`, in the
   * groups system:serviceaccounts, system:serviceaccounts:<namespace> and system:authenticated),
   * as its pod would mount it. Needs `authorization`.
   * @example
   * const token = fake.serviceAccountToken("default", "example-app");
   * await writeFile(path, served.kubeconfig({ token }));
   */
  serviceAccountToken(namespace: string, name: string): string {
    return this.#authorizationOn().serviceAccountToken(namespace, name);
  }

  /** From now on `token` authenticates as `user` (a User subject by name, Group subjects by groups). Needs `authorization`. */
  addToken(token: string, user: FakeUser): void {
    this.#authorizationOn().addToken(token, user);
  }

  #authorizationOn(): FakeAuthorization {
    if (this.#authorization === undefined) throw new Error("tokens for users need new FakeKubeApi({ authorization: true })");
    return this.#authorization;
  }

  /** Ends every open watch, and stops the controllers. */
  close(): void {
    this.#controllers?.stop();
    for (const watch of [...this.#watches]) watch.end();
  }

  // --- the handler -------------------------------------------------------------------------------

  #resource(kind: KindOrResource): ServedResource {
    const resource = servedResource(kind);
    if (resource === undefined) {
      throw new Error(`the fake API server holds ${servedResources.map((r) => r.kind).join(", ")}; got kind ${JSON.stringify(kind)}`);
    }
    return resource;
  }

  #watchesOf(kind: KindOrResource | undefined): FakeWatch[] {
    const resource = kind === undefined ? undefined : this.#resource(kind);
    return [...this.#watches].filter((w) => !w.closed && (resource === undefined || w.request.resource === resource));
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const params = url.searchParams;
    const apiPath = parseApiPath(url.pathname);
    const watch = params.get("watch") === "true" || params.get("watch") === "1";
    const verb: FakeVerb | "other" = apiPath === undefined || request.method !== "GET" ? "other" : apiPath.name !== undefined ? "get" : watch ? "watch" : "list";
    this.requests.push({ method: request.method, path: url.pathname, params: Object.fromEntries(params), verb, authorization: request.headers.get("authorization") });
    if (this.requests.length > 2000) this.requests.splice(0, this.requests.length - 2000);

    if (this.#tokens !== undefined) {
      const token = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
      if (token === undefined || !this.#tokens.has(token)) return statusResponse({ code: 401, reason: "Unauthorized", message: "Unauthorized" });
    }
    const denied = this.#authorization?.check(request, url);
    if (denied !== undefined) return denied;
    if (apiPath === undefined) {
      const discovery = request.method === "GET" ? discoveryResponse(url.pathname, url.host) : undefined;
      return discovery ?? statusResponse({ code: 404, reason: "NotFound", message: `the server could not find the requested resource (${url.pathname})` });
    }
    const { resource, name, subresource } = apiPath;
    // A cluster-scoped object is stored under the namespace "".
    const namespace = resource.namespaced ? apiPath.namespace : name === undefined ? undefined : "";
    if (request.method !== "GET") return this.#writes.handle(request, apiPath, params);
    const injected = this.faults.take(verb as FakeVerb, resource.resource);
    if (injected !== undefined) return injected;

    let matches: LabelMatcher;
    try {
      matches = compileLabelSelector(params.get("labelSelector"));
    } catch (error) {
      return statusResponse({ code: 400, reason: reasonFor(400), message: `unable to parse requirement: ${error instanceof Error ? error.message : String(error)}` });
    }
    let fields: FieldMatcher;
    try {
      fields = compileFieldSelector(params.get("fieldSelector"), resource.kind);
    } catch (error) {
      return statusResponse({ code: 400, reason: reasonFor(400), message: error instanceof Error ? error.message : String(error) });
    }

    const table = subresource === undefined ? tableVersion(request.headers.get("accept")) : undefined;
    const now = this.#clock.now();
    if (name !== undefined) {
      const stored = this.#state.get(resource, namespace!, name);
      if (stored === undefined) return statusResponse({ code: 404, reason: "NotFound", message: `${resource.group === "" ? resource.resource : `${resource.resource}.${resource.group}`} "${name}" not found`, details: { name, group: resource.group, kind: resource.resource } });
      const body = subresource === "scale" ? JSON.stringify(scaleOf(stored)) : table !== undefined ? JSON.stringify(tableOf(resource, [stored.object], { resourceVersion: String(stored.resourceVersion) }, table, now)) : stored.json;
      return new Response(body, { headers: { "content-type": "application/json" } });
    }

    if (!watch) {
      const invalid = listOptionsError(params);
      if (invalid !== undefined) return invalid;
      const limit = Number(params.get("limit") ?? "0");
      const listed = this.#lists.respond(this.#state, resource, namespace, matches, Number.isInteger(limit) && limit > 0 ? limit : 0, params.get("continue") ?? "", fields, this.#options.maxPageItems);
      if (table === undefined || !listed.ok) return listed;
      const list = (await listed.json()) as { metadata: Record<string, unknown>; items: Record<string, unknown>[] };
      return new Response(JSON.stringify(tableOf(resource, list.items, list.metadata, table, now)), { headers: { "content-type": "application/json" } });
    }

    const options = watchOptions(params);
    if (options instanceof Response) return options;
    const resourceVersion = options.fromNow ? this.#state.resourceVersion : options.resourceVersion;
    const watchCache = this.#options.watchCache ?? true;
    if (watchCache && resourceVersion !== undefined && resourceVersion > this.#state.resourceVersion) {
      const reached = await waitForResourceVersion(this.#state, resourceVersion, this.#clock, this.#options.tooLargeResourceVersionWaitMs ?? 3000, request.signal);
      if (!reached) return tooLargeResourceVersion(resourceVersion, this.#state.resourceVersion);
    }
    const interval = this.#options.bookmarkIntervalMs ?? 60_000;
    const timeout = Number(params.get("timeoutSeconds") ?? "");
    const created = new FakeWatch(
      this.#state,
      {
        resource,
        namespace,
        matches,
        fields,
        ...(table === undefined ? {} : { render: (stored) => JSON.stringify(tableOf(resource, [stored.object], { resourceVersion: String(stored.resourceVersion) }, table, this.#clock.now())) }),
        resourceVersion,
        bookmarks: options.bookmarks,
        sendInitialEvents: options.sendInitialEvents,
        timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : (this.#options.defaultWatchTimeoutSeconds ?? 1800),
      },
      this.#clock,
      watchCache && interval !== false ? interval : 0,
      (event: ChangeEvent) => !this.#dropped.has(event.resourceVersion),
      (closed) => this.#watches.delete(closed),
    );
    if (!created.closed) this.#watches.add(created);
    return created.response;
  }
}
