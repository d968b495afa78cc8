// `vipr serve`: route traffic by service name from a table source, until SIGTERM or SIGINT.
import type { GatewayObjectsSink } from "../../router/gateway-api/gateway-route-state.ts";
import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { parseHashKeySource, type PolicyConfig, type PolicyName } from "../../router/balancing/policy-config.ts";
import { DEFAULT_SLOW_START_AGGRESSION, DEFAULT_SLOW_START_MIN_WEIGHT_PERCENT, type SlowStartConfig } from "../../router/balancing/slow-start-config.ts";
import { parseDurationMs } from "../../router/timeout-config.ts";
import { parseCidr } from "../../router/forward/cidr-set.ts";
import { routesAlike } from "../../router/observability/moved-share.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import type { RouteRuleConfig } from "../../router/route-rules.ts";
import { startFileSource } from "../file/file-source.ts";
import { parseWorkerCount } from "../workers/cpu-count.ts";
import { gatewayApiLogger } from "../file/gateway-api-manifests.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./cli-errors.ts";
import { parseListen, startVipr, type RunningVipr } from "./start-vipr.ts";
import { GatewayCertificateStore } from "../node/gateway-certificates.ts";
import { gatewaySinkWithTls } from "../node/gateway-tls-sink.ts";
import { listenerFlagOptions, listenerFlagsHelp, listenerFlagValues, listenerFromFlags } from "../node/listener-flags.ts";

export const serveHelp = `vipr serve: route HTTP requests addressed to Kubernetes service names to their pods

Usage: vipr serve --source SOURCE [options]

Source:
  --source file:PATH        manifests in a file or folder (YAML or JSON), watched for changes
  --source kube             the Kubernetes API (in-cluster service account, or KUBECONFIG)
  --kubeconfig PATH         kubeconfig file for --source kube (default: KUBECONFIG, ~/.kube/config)
  --context NAME            kubeconfig context for --source kube
  --watch-namespace NS      only watch these namespaces (repeatable; default: all)
  --service-selector SEL    only route services whose labels match (e.g. expose=vipr)
  --watch-pods              also watch Pods, for request-time subsets by pod label
  --gateway-controller NAME (kube) be a Gateway API implementation: program the Gateways whose
                            GatewayClass has this controllerName (vipr.io/gateway-controller), their
                            HTTPRoutes, GRPCRoutes and ReferenceGrants, and write their status

Listeners:
  --listen HOST:PORT        traffic listener (default 127.0.0.1:8080)
  --listen-https HOST:PORT  TLS listener for the Gateways' HTTPS listeners: certificates from their
                            certificateRefs (kubernetes.io/tls Secrets), chosen by SNI per listener
                            hostname, replaced when a Secret changes (default off)
  --admin HOST:PORT         admin listener: /healthz /readyz /metrics /debug/table /debug/explain
                            (default 127.0.0.1:9090; "off" for none)
  --max-body-bytes N        request bodies larger than N bytes get 413: a Content-Length above it
                            before routing, a chunked body once it passes N while it streams (the
                            pod never gets more than N bytes of it); default: no limit

Names and routing:
  --namespace NS            the router's own namespace, where short names resolve
                            (default: $POD_NAMESPACE, else "default")
  --cluster-domain DOMAIN   default cluster.local
  --node-name NAME          this node, for topology hints and Local traffic policy (default $NODE_NAME)
  --zone ZONE               this zone, for topology hints
  --routes PATH             gateway route rules (YAML: a list of {host, pathPrefix, service, port, rewritePrefix, subset})
  --allow-external-name H   an ExternalName target that may be dialled (repeatable)
  --trusted-proxies CIDR    proxies in front of vipr (a cloud load balancer), as CIDR ranges or
                            addresses, repeatable or comma-separated (10.0.0.0/8,2001:db8::/32):
                            from them X-Forwarded-For and Forwarded are appended to, and the client
                            (client-ip hashing, session affinity, access log) is the right-most
                            untrusted address of X-Forwarded-For, as nginx's real_ip_recursive;
                            default none: those fields are replaced and the client is the peer

Balancing (services override these with annotations vipr.io/lb-policy, vipr.io/hash-key, ...):
  --policy NAME             least-request (default), round-robin, maglev, bounded-load
  --hash-key SOURCE         header:NAME, cookie:NAME, query:NAME, client-ip or path
  --load-factor C           bounded-load factor, at least 1 (default 1.25)
  --slow-start-window D     pods that turn ready ramp up to their share over D (e.g. 30s), for
                            least-request and round-robin (default off; per service:
                            vipr.io/slow-start-window)

Timeouts (milliseconds):
  --connect-timeout MS      default 2000
  --response-timeout MS     until the response head, default 30000
  --idle-timeout MS         body silence, default 60000
  --request-timeout MS      overall, across retries, default 0 (none)
  (per service: annotations vipr.io/connect-timeout, response-timeout, idle-timeout, request-timeout)

Load:
  --max-requests N          requests in flight at once, over all services, until their response
                            ends; beyond it 503 "overloaded" (default 10000; 0: no limit; a service
                            sets its own with the annotation vipr.io/max-requests)

Stopping (on SIGTERM or SIGINT; a second signal stops at once, exit 1):
  --drain-delay MS          /readyz answers 503 at once; traffic is still served this long so that
                            load balancers notice, then the listener closes (default 0; in
                            Kubernetes a preStop sleep does the same)
  --shutdown-grace MS       then requests in flight get this long to finish (default 10000)

Workers:
  --workers N|auto          processes serving the traffic listener, sharing its port (SO_REUSEPORT);
                            auto: the CPUs the container may use (its CPU set and cgroup quota).
                            One supervisor keeps the table source and the admin listener and sends
                            the workers the table; /readyz is ready once every worker is (default 1:
                            one process, no supervisor)

${listenerFlagsHelp}
Logging:
  --access-log RATE         share of requests logged as JSON lines on stdout, 0 to 1 (default 0)
  --no-metrics              turn /metrics off

Exit codes: 0 stopped by a signal (drained), 1 failed at run time or stopped by a second signal,
2 bad command line.
`;

export const serveOptions = {
  source: { type: "string" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "watch-namespace": { type: "string", multiple: true },
  "service-selector": { type: "string" },
  "watch-pods": { type: "boolean", default: false },
  "gateway-controller": { type: "string" },
  listen: { type: "string", default: "127.0.0.1:8080" },
  "listen-https": { type: "string" },
  admin: { type: "string", default: "127.0.0.1:9090" },
  namespace: { type: "string" },
  "cluster-domain": { type: "string", default: "cluster.local" },
  "node-name": { type: "string" },
  zone: { type: "string" },
  routes: { type: "string" },
  "allow-external-name": { type: "string", multiple: true },
  "trusted-proxies": { type: "string", multiple: true },
  policy: { type: "string" },
  "hash-key": { type: "string" },
  "load-factor": { type: "string" },
  "slow-start-window": { type: "string" },
  "connect-timeout": { type: "string" },
  "response-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  "request-timeout": { type: "string" },
  "max-requests": { type: "string" },
  "max-body-bytes": { type: "string" },
  "drain-delay": { type: "string", default: "0" },
  "shutdown-grace": { type: "string", default: "10000" },
  "access-log": { type: "string", default: "0" },
  "no-metrics": { type: "boolean", default: false },
  workers: { type: "string", default: "1" },
  help: { type: "boolean", short: "h", default: false },
  ...listenerFlagOptions,
} as const;

const policies: readonly PolicyName[] = ["least-request", "round-robin", "maglev", "bounded-load"];

function number(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected a number from ${min} to ${max}`);
  return n;
}

/** The default policy from flags, validated. */
export function policyFromFlags(policy: string | undefined, hashKey: string | undefined, loadFactor: string | undefined, slowStartWindow?: string): PolicyConfig {
  if (policy !== undefined && !(policies as readonly string[]).includes(policy)) {
    throw new UsageError(`--policy ${JSON.stringify(policy)}: expected one of ${policies.join(", ")}`);
  }
  let key;
  if (hashKey !== undefined) {
    try {
      key = parseHashKeySource(hashKey);
    } catch (error) {
      throw new UsageError(`--hash-key ${JSON.stringify(hashKey)}: ${(error as Error).message}`);
    }
  }
  const name = (policy ?? (key === undefined ? "least-request" : "maglev")) as PolicyName;
  if ((name === "maglev" || name === "bounded-load") && key === undefined) throw new UsageError(`--policy ${name} needs --hash-key`);
  let slowStart: SlowStartConfig | undefined;
  if (slowStartWindow !== undefined) {
    const windowMs = parseDurationMs(slowStartWindow.trim());
    if (windowMs === undefined) throw new UsageError(`--slow-start-window ${JSON.stringify(slowStartWindow)}: expected a duration such as 30s or 2m, or whole milliseconds, at most 24h`);
    if (windowMs > 0) slowStart = { windowMs, aggression: DEFAULT_SLOW_START_AGGRESSION, minWeightPercent: DEFAULT_SLOW_START_MIN_WEIGHT_PERCENT };
  }
  return {
    policy: name,
    loadFactor: number(loadFactor, "--load-factor", 1, 100) ?? 1.25,
    ...(key === undefined ? {} : { hashKey: key }),
    ...(slowStart === undefined ? {} : { slowStart }),
  };
}

/** --trusted-proxies, repeatable and comma-separated, each range checked (a typo in a trust list
 * must stop vipr, not quietly trust nothing or too much). */
export function trustedProxiesFromFlags(values: readonly string[] | undefined): string[] {
  const ranges: string[] = [];
  for (const value of values ?? []) {
    for (const part of value.split(",")) {
      const range = part.trim();
      if (range === "") throw new UsageError(`--trusted-proxies ${JSON.stringify(value)}: an empty range; expected CIDR ranges such as 10.0.0.0/8,2001:db8::/32`);
      try {
        parseCidr(range);
      } catch (error) {
        throw new UsageError(`--trusted-proxies: ${(error as Error).message}`);
      }
      ranges.push(range);
    }
  }
  return ranges;
}

/** How many services a reload changed the routing of: added ones, and rebuilt ones that route
 * differently (routesAlike); a rebuild that changed nothing a request sees is not counted. */
function routingChanges(last: RoutingTable, table: RoutingTable): number {
  let count = 0;
  for (const key of table.rebuilt) {
    const before = last.services.get(key);
    if (before === undefined || !routesAlike(before, table.services.get(key)!)) count++;
  }
  return count;
}

async function readRoutes(path: string | undefined): Promise<RouteRuleConfig[]> {
  if (path === undefined) return [];
  const parsed: unknown = parseYaml(await readFile(path, "utf8"));
  const list = Array.isArray(parsed) ? parsed : (parsed as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(list)) throw new UsageError(`--routes ${path}: expected a list of route rules, or {routes: [...]}`);
  return list as RouteRuleConfig[];
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

export interface ServeSetup {
  /** The router of this process; undefined with --workers above 1 (the workers have theirs). */
  readonly vipr: RunningVipr | undefined;
  /** Drains the traffic listener (--drain-delay, --shutdown-grace), then stops the table source
   * (kept until then, so routing follows the cluster while draining) and the rest of vipr. */
  stop(): Promise<void>;
  readonly drainDelayMs: number;
  readonly shutdownGraceMs: number;
}

/**
 * Parses `vipr serve`'s flags, starts vipr and its table source. Undefined when --help was asked.
 * With `serveTraffic` false the caller serves vipr.router.app itself (the `deno serve` entry).
 */
export async function setUpServe(args: string[], serveTraffic: boolean): Promise<ServeSetup | undefined> {
  const { values } = parseArgs({ args, options: serveOptions, allowPositionals: false, strict: true });
  if (values.help) {
    console.log(serveHelp);
    return undefined;
  }
  const source = values.source;
  if (source === undefined) throw new UsageError("--source is required: file:PATH or kube (see vipr serve --help)");
  if (source !== "kube" && !source.startsWith("file:")) throw new UsageError(`--source ${JSON.stringify(source)}: expected file:PATH or kube`);
  const listen = parseListen(values.listen, "--listen");
  const admin = values.admin === "off" ? null : parseListen(values.admin, "--admin");
  const namespace = values.namespace ?? env("POD_NAMESPACE") ?? "default";
  const nodeName = values["node-name"] ?? env("NODE_NAME");
  const defaultPolicy = policyFromFlags(values.policy, values["hash-key"], values["load-factor"], values["slow-start-window"]);
  const accessLogSample = number(values["access-log"], "--access-log", 0, 1) ?? 0;
  const timeouts = {
    ...optional("connectMs", number(values["connect-timeout"], "--connect-timeout", 1, 3_600_000)),
    ...optional("responseMs", number(values["response-timeout"], "--response-timeout", 1, 3_600_000)),
    ...optional("idleMs", number(values["idle-timeout"], "--idle-timeout", 1, 3_600_000)),
    ...optional("requestMs", number(values["request-timeout"], "--request-timeout", 0, 3_600_000)),
  };
  const maxRequests = number(values["max-requests"], "--max-requests", 0, 10_000_000);
  if (maxRequests !== undefined && !Number.isInteger(maxRequests)) throw new UsageError(`--max-requests ${JSON.stringify(values["max-requests"])}: expected a whole number`);
  const maxBodyBytes = number(values["max-body-bytes"], "--max-body-bytes", 0, Number.MAX_SAFE_INTEGER);
  if (maxBodyBytes !== undefined && !Number.isInteger(maxBodyBytes)) throw new UsageError(`--max-body-bytes ${JSON.stringify(values["max-body-bytes"])}: expected a whole number of bytes`);
  // `deno serve` runs the traffic listener itself (adapters/deno/serve-entry.ts), without serveDeno's limits.
  if (maxBodyBytes !== undefined && !serveTraffic) console.error("vipr: --max-body-bytes is not applied under deno serve, which serves the traffic listener itself");
  const drainDelayMs = number(values["drain-delay"], "--drain-delay", 0, 3_600_000) ?? 0;
  const shutdownGraceMs = number(values["shutdown-grace"], "--shutdown-grace", 0, 3_600_000) ?? 10_000;
  const trustedProxies = trustedProxiesFromFlags(values["trusted-proxies"]);
  const routes = await readRoutes(values.routes);
  const listener = listenerFromFlags(values, (line) => console.error(`vipr: ${line}`));
  const listenHttps = values["listen-https"] === undefined ? undefined : parseListen(values["listen-https"], "--listen-https");
  const gatewayCertificates = listenHttps === undefined ? undefined : new GatewayCertificateStore((line) => console.error(`vipr: ${line}`));

  const workers = parseWorkerCount(values.workers);
  if (listenHttps !== undefined && !serveTraffic) throw new UsageError("--listen-https: not under deno serve, which serves one listener itself; use vipr serve");
  if (workers > 1 && !serveTraffic) throw new UsageError("--workers: not under deno serve, which serves the traffic listener itself; use vipr serve");
  // What a router is started with: in this process, or (JSON-safe) in each worker.
  const routerOptions = {
    namespace,
    clusterDomain: values["cluster-domain"],
    ...optional("nodeName", nodeName),
    ...optional("zone", values.zone),
    defaultPolicy,
    routes,
    externalNameAllowList: values["allow-external-name"] ?? [],
    trustedProxies,
    timeouts,
    metrics: !values["no-metrics"],
    accessLogSample,
    shutdownGraceMs,
    ...optional("maxRequests", maxRequests),
    ...optional("maxBodyBytes", maxBodyBytes),
  };
  const log = (line: string): void => console.error(`vipr: ${line}`);
  let vipr: RunningVipr | undefined;
  let sink: Pick<RunningVipr, "metrics" | "setTable" | "drain" | "close">;
  /** Where Gateway API objects go: the router, or the supervisor that passes them to the workers. */
  let gatewaySink: GatewayObjectsSink;
  if (workers > 1) {
    const { startSupervisor } = await import("../workers/supervisor.ts");
    // Each worker reads the TLS and HTTP/2 flags itself (certificates and their watch are per process).
    const supervisor = await startSupervisor({ workers, listen, admin, worker: routerOptions, listenerFlags: listenerFlagValues(values), log, ...(listenHttps === undefined ? {} : { listenHttps }) });
    sink = supervisor;
    gatewaySink = gatewaySinkWithTls(supervisor, undefined, listenHttps !== undefined);
    console.error(`vipr: ${workers} workers on http://${listen.hostname}:${supervisor.port} (SO_REUSEPORT, ${listener.proto}), namespace ${namespace}, default policy ${defaultPolicy.policy}`);
    if (supervisor.httpsPort !== undefined) console.error(`vipr: Gateway HTTPS listeners on https://${listenHttps!.hostname}:${supervisor.httpsPort}`);
    if (supervisor.adminServer !== undefined) console.error(`vipr: admin on http://${admin!.hostname}:${supervisor.adminServer.port} (/healthz /readyz /metrics /debug/table /debug/explain /debug/workers)`);
  } else {
    vipr = await startVipr({ listen: serveTraffic ? listen : null, admin, ...routerOptions, log, ...listener, ...(listenHttps === undefined ? {} : { listenHttps: { listen: listenHttps, certificates: gatewayCertificates! } }) }).catch((error: unknown) => {
      listener.tls?.close();
      throw error;
    });
    sink = vipr;
    gatewaySink = gatewaySinkWithTls(vipr.router, gatewayCertificates, listenHttps !== undefined);
    const { runtime } = vipr;
    console.error(`vipr: ${runtime.name} ${runtime.version}, namespace ${namespace}, default policy ${defaultPolicy.policy}`);
    if (vipr.server !== undefined) console.error(`vipr: listening on ${listener.proto}://${listen.hostname}:${vipr.server.port}`);
    if (vipr.httpsServer !== undefined) console.error(`vipr: Gateway HTTPS listeners on https://${listenHttps!.hostname}:${vipr.httpsServer.port}`);
    if (vipr.adminServer !== undefined) console.error(`vipr: admin on http://${admin!.hostname}:${vipr.adminServer.port} (/healthz /readyz /metrics /debug/table /debug/explain)`);
  }

  let stopSource: () => void | Promise<void>;
  if (source === "kube") {
    const { startKubernetesSourceFromFlags } = await import("./kube-source-flags.ts");
    stopSource = await startKubernetesSourceFromFlags(
      {
        ...optional("kubeconfig", values.kubeconfig),
        ...optional("context", values.context),
        ...optional("serviceSelector", values["service-selector"]),
        namespaces: values["watch-namespace"] ?? [],
        watchPods: values["watch-pods"],
        ...optional("gatewayController", values["gateway-controller"]),
      },
      sink,
      gatewaySink,
    ).catch(async (error: unknown) => {
      await sink.close();
      throw error;
    });
  } else {
    const path = source.slice("file:".length);
    let last: RoutingTable | undefined;
    const files = await startFileSource({
      path,
      onGatewayApi: gatewayApiLogger(gatewaySink, (line) => console.error(`vipr: ${line}`)),
      onTable: (table, summary) => {
        sink.setTable(table);
        const endpoints = table.endpointCount;
        const changed = last === undefined ? "" : `, ${routingChanges(last, table)} changed, ${table.removed.length} removed`;
        last = table;
        console.error(
          `vipr: table ${table.generation} from ${path}: ${summary.services} services, ${endpoints} endpoints (${summary.pods} pods, ${summary.endpointSlices} slices)${changed}`,
        );
      },
      onProblems: (lines) => {
        for (const line of lines) console.error(`vipr: ${line}`);
      },
      // Skipped objects: logged once each, and counted in vipr_objects_skipped_total.
      log: (line) => console.error(`vipr: ${line}`),
      ...(vipr?.metrics instanceof RouterMetrics ? { registry: vipr.metrics.registry } : {}),
    }).catch(async (error: unknown) => {
      await sink.close();
      throw new UsageError(`--source ${source}: ${(error as Error).message}`);
    });
    stopSource = () => files.close();
  }
  return {
    vipr,
    drainDelayMs,
    shutdownGraceMs,
    async stop() {
      await sink.drain(drainDelayMs);
      await stopSource();
      await sink.close();
      listener.tls?.close();
    },
  };
}

export async function runServe(args: string[]): Promise<number> {
  // Signals are taken from the start: one that arrives while the source loads stops vipr as soon
  // as it is up, rather than killing it with the default action.
  let onSignal = (signal: string): void => void early.push(signal);
  const early: string[] = [];
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  try {
    const setup = await setUpServe(args, true);
    if (setup === undefined) return EXIT_OK;
    return await new Promise<number>((resolve) => {
      let stopping = false;
      onSignal = (signal) => {
        if (stopping) {
          // A second signal (Ctrl-C twice, or a supervisor out of patience): stop now.
          console.error(`vipr: ${signal} again: stopping now, requests in flight are cut`);
          resolve(EXIT_FAILURE);
          return;
        }
        stopping = true;
        console.error(`vipr: ${signal}: draining and stopping (/readyz 503; listener closes in ${setup.drainDelayMs} ms, then requests in flight get ${setup.shutdownGraceMs} ms)`);
        // The whole stop is bounded: Deno's listener cannot cut a connection, and closing the
        // transport waits for requests to pods; past the grace they end with the process.
        const bound = setTimeout(() => {
          console.error(`vipr: shutdown grace of ${setup.shutdownGraceMs} ms over: exiting, requests still in flight are cut`);
          resolve(EXIT_OK);
        }, setup.drainDelayMs + setup.shutdownGraceMs + 500);
        setup.stop().then(
          () => {
            clearTimeout(bound);
            console.error("vipr: drained, exiting");
            resolve(EXIT_OK);
          },
          (error: unknown) => {
            clearTimeout(bound);
            console.error(`vipr: while stopping: ${(error as Error).message}`);
            resolve(EXIT_FAILURE);
          },
        );
      };
      for (const signal of early) onSignal(signal);
    });
  } finally {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
