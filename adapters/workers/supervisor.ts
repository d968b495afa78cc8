// `vipr serve --workers N`: one supervisor process and N workers (worker-main.ts).
//
// The supervisor owns what there must be one of per pod: the table source (one Kubernetes watch or
// file watch, never one per worker) and the admin listener. It sends each worker the table as
// changes (worker-protocol.ts), restarts a worker that dies (with backoff, logged), answers
// /readyz only when every worker listens with the whole table, aggregates /metrics over the
// workers, and on SIGTERM tells every worker to drain.
//
// How the workers share the traffic port: each listens on it with SO_REUSEPORT (Linux 3.9+), and
// the kernel spreads new connections over the listeners by a hash of the 4-tuple. Chosen over
// node:cluster, measured with `npm run bench:proxy -- --workers 2 --share cluster` (the figures are
// in README "Workers"): cluster's default round-robin has the primary accept every connection and
// pass its handle to a worker over IPC, so the supervisor (which also runs the watches and builds
// tables) sits in the accept path; its other mode shares one socket and lets workers race for
// accepts, which piles connections onto the busiest one (Node docs, cluster, "How it works").
// reusePort has no process in the accept path and works the same on Node 24 (net.Server listen's
// reusePort) and Deno 2.9 (its node:http listen passes reusePort on), whose node:cluster is
// partial. Its cost: connections still queued on a worker's socket when that worker dies are
// reset (the kernel does not hand them to the others unless net.ipv4.tcp_migrate_req is set);
// connections already accepted by the other workers are not affected.
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import type { CompileOptions } from "../../router/gateway-api/compile-gateway-routes.ts";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import { GatewayRouteState } from "../../router/gateway-api/gateway-route-state.ts";
import { fork, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { createAdminApp, type ExplainQuery } from "../../router/admin/admin-app.ts";
import { aggregateMetrics } from "../../router/admin/metrics-aggregation.ts";
import { mergeEndpointHealth } from "../../router/admin/health-merge.ts";
import { createRouterMetrics, RouterMetrics, type MetricsRecorder } from "../../router/observability/router-metrics.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import type { Listen } from "../cli/start-vipr.ts";
import { loadRuntimeAdapter, type RunningServer } from "../runtime-adapter.ts";
import { fullTable, splitTableMessage, tableChanges } from "./table-changes.ts";
import { WORKER_CONFIG_ENV, type FromWorker, type HealthAnswer, type GatewayMessage, type QueryMessage, type TableMessage, type ToWorker, type WorkerConfig, type WorkerStatus } from "./worker-protocol.ts";

export interface SupervisorOptions {
  readonly workers: number;
  readonly listen: Listen;
  readonly admin: Listen | null;
  /** What every worker's router is started with (JSON-safe). */
  readonly worker: WorkerConfig["options"];
  /** The TLS and HTTP/2 flags, passed on to every worker. */
  readonly listenerFlags?: WorkerConfig["listenerFlags"];
  /** The TLS listener for Gateway HTTPS listeners, served by every worker. */
  readonly listenHttps?: Listen;
  readonly log: (line: string) => void;
  /** Restart backoff: first delay and cap, in ms (default 100 and 10000). */
  readonly restartBackoffMs?: { readonly initial: number; readonly max: number };
  /** How long a worker may take to answer an admin question (default 5000 ms). */
  readonly queryTimeoutMs?: number;
}

interface Slot {
  readonly index: number;
  child: ChildProcess | undefined;
  /** The worker has been sent a full table, so it takes changes from here on. */
  hasTable: boolean;
  listening: boolean;
  generation: number;
  restarts: number;
  startedAt: number;
  /** Quick deaths in a row (the worker lived under a minute): the backoff's exponent. */
  quickDeaths: number;
  exited: Promise<void>;
}

export interface RunningSupervisor {
  readonly metrics: MetricsRecorder;
  readonly adminServer: RunningServer | undefined;
  /** The traffic port (with port 0 asked, the free port found for every worker). */
  readonly port: number;
  /** The Gateway HTTPS listener's port (SupervisorOptions.listenHttps), found the same way. */
  readonly httpsPort: number | undefined;
  setTable(table: RoutingTable, ready?: boolean): void;
  /** Gateway API objects: compiled here for the status the source writes back, and sent to every
   * worker (and to a worker that starts later, before its first table). */
  setGatewayObjects(objects: GatewayApiObjects, options?: CompileOptions): GatewayApiStatus;
  /** The last table sent to the workers. */
  readonly table: RoutingTable | undefined;
  setReady(): void;
  /** Every worker listens with the whole table (and the source is synced). */
  isReady(): boolean;
  workers(): Promise<(WorkerStatus & { index: number; listening: boolean; restarts: number })[]>;
  /** Resolves once every worker has applied table `generation` (routes by it from then on). */
  applied(generation: number): Promise<void>;
  drain(delayMs: number): Promise<void>;
  close(): Promise<void>;
}

const workerModule = fileURLToPath(new URL(`./worker-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export async function startSupervisor(given: SupervisorOptions): Promise<RunningSupervisor> {
  // Port 0 ("any free port") has to be one port for every worker: found here, then shared.
  const withPort = given.listen.port === 0 ? { ...given, listen: { ...given.listen, port: await freePort(given.listen.hostname) } } : given;
  const https = withPort.listenHttps;
  const options = https !== undefined && https.port === 0 ? { ...withPort, listenHttps: { ...https, port: await freePort(https.hostname) } } : withPort;
  // The workers listen only once they have the table; a port they cannot have (taken by another
  // process, an address not on this host) is found now, and vipr stops as a single one would.
  for (const listen of [options.listen, ...(options.listenHttps === undefined ? [] : [options.listenHttps])]) {
    await canListen(listen).catch((error: unknown) => {
      throw new Error(`cannot listen on ${listen.hostname}:${listen.port}: ${(error as Error).message}`);
    });
  }
  const { log } = options;
  const backoff = options.restartBackoffMs ?? { initial: 100, max: 10_000 };
  const queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  // The supervisor's own metrics: the table and the source's sync (the workers have the requests).
  const metrics = createRouterMetrics({ enabled: options.worker.metrics ?? true });
  let table: RoutingTable | undefined;
  /** The last Gateway API objects, as sent to the workers; compiled here too, for their status. */
  let gateway: GatewayMessage | undefined;
  const gatewayState = new GatewayRouteState();
  let sourceReady = false;
  let stopping = false;
  let nextQuery = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const slots: Slot[] = [];
  const appliedWaiters = new Set<() => void>();

  /** One message, or the parts of one table publish (splitTableMessage), in order. */
  const sendTo = (slot: Slot, message: ToWorker | readonly TableMessage[]): void => {
    if (slot.child?.connected !== true) return;
    for (const part of Array.isArray(message) ? message : [message]) slot.child.send(part);
  };

  const spawn = (slot: Slot): void => {
    const config: WorkerConfig = {
      index: slot.index,
      listen: options.listen,
      options: options.worker,
      ...(options.listenerFlags === undefined ? {} : { listenerFlags: options.listenerFlags }),
      ...(options.listenHttps === undefined ? {} : { listenHttps: options.listenHttps }),
    };
    // "advanced": messages are structured clones (the V8 serializer) instead of JSON, on Node and
    // on Deno alike. A table entry's endpoints share objects (a slice's port list, the empty hint
    // lists), and a clone keeps them shared where JSON copies each one: measured on a worker with
    // 10000 services and 100000 endpoints, a table of 58 MiB of heap instead of 87 MiB.
    const child = fork(workerModule, [], { env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) }, execArgv: process.execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
    slot.child = child;
    slot.hasTable = false;
    slot.listening = false;
    slot.generation = 0;
    slot.startedAt = Date.now();
    slot.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.on("message", (message: FromWorker) => {
      if (message.type === "applied") {
        slot.generation = message.generation;
        for (const check of [...appliedWaiters]) check();
        if (message.listening && !slot.listening) {
          slot.listening = true;
          log(`worker ${slot.index} (pid ${child.pid}) listening with table generation ${message.generation}`);
        }
      } else if (message.type === "answer") {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(`worker ${slot.index}: ${message.error}`));
        else waiter?.resolve(message.value);
      } else if (message.type === "failed") {
        log(`worker ${slot.index} (pid ${child.pid}) failed: ${message.message}`);
      }
    });
    child.once("exit", (code, signal) => {
      slot.child = undefined;
      slot.listening = false;
      if (stopping) return;
      const lived = Date.now() - slot.startedAt;
      slot.quickDeaths = lived < 60_000 ? slot.quickDeaths + 1 : 0;
      const delay = Math.min(backoff.max, backoff.initial * 2 ** Math.max(0, slot.quickDeaths - 1));
      slot.restarts++;
      log(`worker ${slot.index} (pid ${child.pid}) exited (${signal ?? `code ${code}`}) after ${Math.round(lived / 1000)} s; restarting in ${delay} ms (restart ${slot.restarts})`);
      setTimeout(() => {
        if (!stopping) spawn(slot);
      }, delay);
    });
    // A worker that starts later gets the Gateway API objects, then the whole table, before it listens.
    if (gateway !== undefined) sendTo(slot, gateway);
    if (table !== undefined) {
      sendTo(slot, splitTableMessage(fullTable(table)));
      slot.hasTable = true;
    }
  };

  for (let index = 0; index < options.workers; index++) {
    const slot: Slot = { index, child: undefined, hasTable: false, listening: false, generation: 0, restarts: 0, startedAt: 0, quickDeaths: 0, exited: Promise.resolve() };
    slots.push(slot);
    spawn(slot);
  }

  const ask = (slot: Slot, query: QueryMessage extends infer Q ? (Q extends QueryMessage ? Omit<Q, "id"> : never) : never): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (slot.child?.connected !== true) return reject(new Error(`worker ${slot.index} is not running`));
      const id = nextQuery++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker ${slot.index} did not answer within ${queryTimeoutMs} ms`));
      }, queryTimeoutMs);
      pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      slot.child.send({ ...query, id } as QueryMessage);
    });
  const running = (): Slot[] => slots.filter((slot) => slot.listening);

  const isReady = (): boolean => sourceReady && !stopping && slots.every((slot) => slot.listening);
  const notReadyReason = (): string => {
    if (stopping) return "draining: vipr is shutting down";
    if (!sourceReady) return "the first full sync of the table source has not finished";
    const waiting = slots.filter((slot) => !slot.listening).map((slot) => slot.index);
    return `waiting for worker${waiting.length === 1 ? "" : "s"} ${waiting.join(", ")} to load the table and listen`;
  };

  let adminServer: RunningServer | undefined;
  if (options.admin !== null) {
    const runtime = await loadRuntimeAdapter();
    const admin = createAdminApp({
      isReady,
      notReadyReason,
      metrics: {
        render: async () => {
          // --no-metrics: the page a single vipr serves then (the recorder's own), not an empty
          // aggregation of workers that record nothing.
          if (!(metrics instanceof RouterMetrics)) return metrics.render();
          const own = await metrics.registry.getMetricsAsJSON();
          const theirs = await Promise.all(running().map((slot) => ask(slot, { type: "query", what: "metrics" }).catch(() => [])));
          return aggregateMetrics(own, theirs as Awaited<ReturnType<RouterMetrics["registry"]["getMetricsAsJSON"]>>[]);
        },
      },
      getTable: () => table,
      endpointHealth: async () => mergeEndpointHealth((await Promise.all(running().map((slot) => ask(slot, { type: "query", what: "health" }).catch(() => [])))) as HealthAnswer[]),
      explain: async (query: ExplainQuery) => {
        const slot = query.worker === undefined ? running()[0] : slots[query.worker];
        if (slot === undefined) return { found: false, host: query.host, error: "no_worker", message: query.worker === undefined ? "no worker is listening yet" : `no worker ${query.worker}; workers are 0 to ${slots.length - 1}` };
        const { worker: _, ...rest } = query;
        return (await ask(slot, { type: "query", what: "explain", query: rest })) as { found: boolean };
      },
      workers: () => workers(),
    });
    adminServer = await runtime.serve(admin, options.admin).catch(async (error: unknown) => {
      stopping = true;
      for (const slot of slots) slot.child?.kill("SIGKILL");
      throw new Error(`cannot listen on ${options.admin!.hostname}:${options.admin!.port} (admin): ${(error as Error).message}`);
    });
  }

  const workers = async (): Promise<(WorkerStatus & { index: number; listening: boolean; restarts: number })[]> =>
    Promise.all(
      slots.map(async (slot) => {
        const status = (await ask(slot, { type: "query", what: "status" }).catch(() => undefined)) as WorkerStatus | undefined;
        return { index: slot.index, listening: slot.listening, restarts: slot.restarts, pid: status?.pid ?? slot.child?.pid ?? 0, generation: status?.generation ?? slot.generation, services: status?.services ?? 0, inFlight: status?.inFlight ?? 0 };
      }),
    );

  let drained: Promise<void> | undefined;
  const drain = (delayMs: number): Promise<void> =>
    (drained ??= (async () => {
      stopping = true;
      for (const slot of slots) sendTo(slot, { type: "drain", delayMs });
      await Promise.all(slots.map((slot) => slot.exited));
    })());

  return {
    metrics,
    adminServer,
    port: options.listen.port,
    httpsPort: options.listenHttps?.port,
    get table() {
      return table;
    },
    setGatewayObjects(objects, compile = {}) {
      gateway = { type: "gateway", objects, ...(compile.controllerName === undefined ? {} : { controllerName: compile.controllerName }) };
      for (const slot of slots) sendTo(slot, gateway);
      return gatewayState.update(objects, compile);
    },
    setTable(next, markReady = true) {
      // The changes since the last table sent, made once for every worker that has that table;
      // the whole table only for a worker that has none (the first table is never made twice).
      const changes = table === undefined ? undefined : splitTableMessage(tableChanges(table, next));
      let full: readonly TableMessage[] | undefined;
      table = next;
      metrics.tableBuilt(next);
      for (const slot of slots) {
        if (slot.child?.connected !== true) continue;
        sendTo(slot, slot.hasTable && changes !== undefined ? changes : (full ??= splitTableMessage(fullTable(next))));
        slot.hasTable = true;
      }
      if (markReady) sourceReady = true;
    },
    setReady() {
      sourceReady = true;
    },
    isReady,
    workers,
    applied: (generation) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (!slots.every((slot) => slot.generation >= generation)) return;
          appliedWaiters.delete(check);
          resolve();
        };
        appliedWaiters.add(check);
        check();
      }),
    drain,
    async close() {
      await drain(0);
      await adminServer?.close();
    },
  };
}

/** A port free now on `hostname` (the kernel's pick for port 0), for every worker to share. */
function freePort(hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, hostname, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves if this process may listen on `listen` with SO_REUSEPORT, as the workers will. */
function canListen(listen: Listen): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen({ port: listen.port, host: listen.hostname, reusePort: true }, () => probe.close(() => resolve()));
  });
}
