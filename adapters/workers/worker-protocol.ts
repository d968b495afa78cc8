// The messages between the supervisor (adapters/workers/supervisor.ts) and its workers
// (worker-main.ts), over node:child_process's IPC channel: structured clones (fork's "advanced"
// serialization), in order, on Node and Deno.
//
// The table travels as changes: per-service entries of the routing table, the ones a publish
// rebuilt (RoutingTable.rebuilt, with their new ServiceEntry) and the keys it removed. Why entries
// and not the Kubernetes objects: the supervisor's source has already built them (one build per
// pod, not one per worker), an entry is plain frozen data that survives a structured clone, and
// every source (files, the Kubernetes API) publishes the same RoutingTable, so nothing in the
// sources changes.
// A worker that starts late or restarts gets every entry first (`full`), then the changes in
// order; the IPC channel keeps that order.
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import type { ListenerFlagValues } from "../node/listener-flags.ts";
import type { ExplainQuery } from "../../router/admin/admin-app.ts";
import type { EndpointHealthView } from "../../router/balancing/outlier-detection.ts";
import type { EndpointsFrom, ServiceEntry } from "../../router/table/routing-table.ts";
import type { Listen, StartOptions } from "../cli/start-vipr.ts";

/** What the supervisor sends: one publish of the table, as changes or in full. */
export interface TableMessage {
  readonly type: "table";
  /** True: `put` is the whole table (a worker's first, or a table not built from the last one
   * sent, which the supervisor diffs by entry instead). */
  readonly full: boolean;
  readonly generation: number;
  readonly endpointsFrom: EndpointsFrom;
  readonly endpointCount: number;
  readonly put: readonly ServiceEntry[];
  readonly removed: readonly string[];
  /** True: more parts of this publish follow (a big one is sent in parts, splitTableMessage);
   * the worker publishes, and starts listening, only at the last part. */
  readonly more?: boolean;
}

/** A question the admin listener asks one worker; answered by an AnswerMessage of the same id. */
export type QueryMessage =
  | { readonly type: "query"; readonly id: number; readonly what: "metrics" }
  | { readonly type: "query"; readonly id: number; readonly what: "health" }
  | { readonly type: "query"; readonly id: number; readonly what: "explain"; readonly query: ExplainQuery }
  | { readonly type: "query"; readonly id: number; readonly what: "status" };

/** Stop as a pod on SIGTERM: close the listener after delayMs, let requests finish, exit 0. */
export interface DrainMessage {
  readonly type: "drain";
  readonly delayMs: number;
}

/** The Gateway API objects of the source (file or Kubernetes), replacing the last ones: each
 * worker compiles them with its own table (ServiceRouter.setGatewayObjects). */
export interface GatewayMessage {
  readonly type: "gateway";
  readonly objects: GatewayApiObjects;
  readonly controllerName?: string;
}

export type ToWorker = TableMessage | QueryMessage | DrainMessage | GatewayMessage;

/** The worker applied a table message; `listening` once its listener is open (after the first). */
export interface AppliedMessage {
  readonly type: "applied";
  readonly generation: number;
  readonly listening: boolean;
}

export interface AnswerMessage {
  readonly type: "answer";
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

/** The worker could not start (e.g. the port is taken): the supervisor logs it and restarts it. */
export interface FailedMessage {
  readonly type: "failed";
  readonly message: string;
}

export type FromWorker = AppliedMessage | AnswerMessage | FailedMessage;

/** What a worker reports about itself (/debug/workers). */
export interface WorkerStatus {
  readonly pid: number;
  readonly generation: number;
  readonly services: number;
  readonly inFlight: number;
}

export type HealthAnswer = [string, EndpointHealthView[]][];

/** How a worker is started: everything of StartOptions that survives JSON, and its slot. */
export interface WorkerConfig {
  readonly index: number;
  readonly listen: Listen;
  readonly options: Omit<StartOptions, "listen" | "admin" | "log" | "accessLogWrite" | "tls" | "http2" | "listenHttps">;
  /** `vipr serve --listen-https`: each worker serves it too (SO_REUSEPORT), with certificates from
   * the Gateway API objects it is sent (adapters/node/gateway-certificates.ts). */
  readonly listenHttps?: Listen;
  /** vipr serve's TLS and HTTP/2 flags: each worker reads its certificates (and watches them) itself. */
  readonly listenerFlags?: ListenerFlagValues;
}

/** The environment variable that carries a worker's WorkerConfig (JSON). */
export const WORKER_CONFIG_ENV = "VIPR_WORKER_CONFIG";

/** The response header naming the worker that served a request (its index, 0 to N-1). */
export const WORKER_HEADER = "x-vipr-worker";
