// Report: what the router says about each request, in one place. Every request ends here exactly
// once, whichever stage ended it: `answered` (and `fail`, `refused`) when vipr answered itself,
// `responseEnded` when an upstream response it relayed has ended. Both count it
// (vipr_requests_total, the latency histogram) and write the same access-log record, so a line
// for a 404 and a line for a relayed 200 have the same fields filled the same way. Passive health
// (outlier-detection.ts, through the balancer) hears each try's outcome here too, since it
// classifies responses the way the metrics do.
import { isFailureStatus } from "../balancing/outlier-detection.ts";
import type { RequestProtocolOf, UpstreamError, UpstreamOutcome } from "../forward/upstream-transport.ts";
import type { TunnelTraffic, UpgradeOutcome } from "../forward/upgrade-route.ts";
import type { AccessLog, AccessRecord } from "../observability/access-log.ts";
import type { MetricsRecorder } from "../observability/router-metrics.ts";
import { errorResponse, type RouterErrorCode } from "../router-errors.ts";
import { grpcErrorResponse, grpcStatusOf, httpStatusOfGrpcAnswer, isGrpcFailureStatus, isGrpcRequest } from "../forward/grpc-status.ts";
import type { ClientOf, Exchange } from "./exchange.ts";

type MutableRecord = { -readonly [K in keyof AccessRecord]: AccessRecord[K] };

export class ReportStage {
  readonly #metrics: MetricsRecorder;
  readonly #accessLog: AccessLog | undefined;
  readonly #clientOf: ClientOf;
  readonly #protocolOf: RequestProtocolOf | undefined;

  constructor(metrics: MetricsRecorder, accessLog: AccessLog | undefined, clientOf: ClientOf, protocolOf?: RequestProtocolOf) {
    this.#metrics = metrics;
    this.#accessLog = accessLog;
    this.#clientOf = clientOf;
    this.#protocolOf = protocolOf;
  }

  /** vipr's own JSON error answer (router-errors.ts), counted and logged. */
  fail(exchange: Exchange, code: RouterErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}): Response {
    // A gRPC call gets its failure as a gRPC status (forward/grpc-status.ts); metrics and the log
    // count the HTTP status the JSON answer would have had, not the 200 it travels in.
    if (isGrpcRequest(exchange.headers)) return this.answered(exchange, grpcErrorResponse(code, message), `grpc-status ${grpcStatusOf[code]} (${code}): ${message}`, httpStatusOfGrpcAnswer(code));
    return this.answered(exchange, errorResponse(code, message, details), message);
  }

  /** A host or route that named nothing in the table: counted apart as well (vipr_unknown_hosts). */
  notFound(exchange: Exchange, code: RouterErrorCode, message: string, details: Readonly<Record<string, unknown>>): Response {
    this.#metrics.unknownHost();
    return this.fail(exchange, code, message, details);
  }

  /** vipr_requests_by_protocol_total: the client's protocol ("http/1.1" where the runtime does
   * not say), and the pod's when the request was relayed. */
  #countProtocol(protocol: string, exchange: Exchange, relayed: boolean): void {
    this.#metrics.requestProtocol(protocol || "http/1.1", relayed ? spokenToPod(exchange) : "-");
  }

  /** The client's protocol, asked of the serve adapter once per request ("" when not known). */
  #protocol(exchange: Exchange): string {
    return this.#protocolOf?.(exchange.c) ?? "";
  }

  /** A ready-made refusal (TRACE, userinfo): its x-vipr-error code is the log's error. */
  refused(exchange: Exchange, response: Response): Response {
    return this.answered(exchange, response, response.headers.get("x-vipr-error") ?? "");
  }

  /** CONNECT: counted only. Node's server answers it before the app (and so logs nothing), so
   * Deno's path, the only one that reaches here, does the same. */
  counted(exchange: Exchange, response: Response): Response {
    this.#metrics.requestDone("-", response.status, exchange.elapsedMs() / 1000);
    this.#countProtocol(this.#protocol(exchange), exchange, false);
    return response;
  }

  /** Counts and logs an answer vipr gave itself. */
  answered(exchange: Exchange, response: Response, message: string, status = response.status): Response {
    const seconds = exchange.elapsedMs() / 1000;
    exchange.status = status;
    this.#metrics.requestDone(exchange.serviceKey === "" ? "-" : exchange.serviceKey, status, seconds);
    const protocol = this.#protocol(exchange);
    this.#countProtocol(protocol, exchange, false);
    this.#log(protocol, exchange, seconds, undefined, message);
    return response;
  }

  /** A relayed response ended (whole, or cut off): passive health, counts, the log. */
  responseEnded(exchange: Exchange, outcome: UpstreamOutcome): void {
    const error = outcome.error;
    // A client that left or whose body broke off ("aborted") says nothing about the endpoint: no
    // outcome for passive health and no upstream error.
    const endpointsFault = error !== undefined && error.kind !== "aborted";
    // A gRPC failure travels in a 200: its grpc-status says whether the pod failed.
    if (error === undefined || endpointsFault) this.#tryOutcome(exchange, endpointsFault || isFailureStatus(exchange.status) || isGrpcFailureStatus(outcome.grpcStatus));
    const seconds = exchange.elapsedMs() / 1000;
    this.#metrics.requestDone(exchange.serviceKey, exchange.status, seconds);
    const protocol = this.#protocol(exchange);
    this.#countProtocol(protocol, exchange, true);
    if (endpointsFault) this.#metrics.upstreamError(exchange.serviceKey, exchange.upstream!.identity, error.kind);
    this.#log(protocol, exchange, seconds, outcome, error === undefined ? undefined : error.kind === "aborted" ? `client_aborted: ${error.message}` : error.message);
  }

  /** Upgraded connections (WebSocket tunnels): the service's byte counts, the tunnel's opening,
   * and its end, reported as a relayed response's end with the tunnel's fields in the log. */
  tunnelTraffic(exchange: Exchange): TunnelTraffic {
    return this.#metrics.tunnels.traffic(exchange.serviceKey);
  }

  tunnelOpened(traffic: TunnelTraffic): void {
    this.#metrics.tunnels.opened(traffic);
  }

  tunnelEnded(exchange: Exchange, traffic: TunnelTraffic, wasOpen: boolean, outcome: UpgradeOutcome): void {
    this.#metrics.tunnels.ended(exchange.serviceKey, traffic, wasOpen, outcome.reason);
    this.#tunnel = { bytes_in: outcome.bytesIn, end: outcome.reason };
    try {
      this.responseEnded(exchange, { ok: true, bytesOut: outcome.bytesOut });
    } finally {
      this.#tunnel = undefined;
    }
  }

  /** The tunnel fields for the record tunnelEnded has #log write. */
  #tunnel: { bytes_in: number; end: string } | undefined = undefined;

  /** A try failed before a response was handed over (the pipeline may retry or answer itself). */
  tryFailed(exchange: Exchange, error: UpstreamError): void {
    if (error.kind === "aborted") return; // the client's failure, not the endpoint's
    this.#metrics.upstreamError(exchange.serviceKey, exchange.upstream!.identity, error.kind);
    this.#tryOutcome(exchange, true);
  }

  /** A try's response was dropped for a retry on its status (a Gateway API rule's retry codes):
   * passive health hears it as the relayed response would have been heard. */
  statusRetried(exchange: Exchange, status: number): void {
    this.#tryOutcome(exchange, isFailureStatus(status));
  }

  /** Passive health: one try's outcome, and the ejection metric when it ejected the endpoint. */
  #tryOutcome(exchange: Exchange, failed: boolean): void {
    const { balancer, pick } = exchange;
    if (balancer === undefined || pick === undefined) return; // ExternalName: no endpoints to eject
    if (balancer.recordOutcome(pick, failed)) this.#metrics.endpointEjected(exchange.serviceKey, pick.endpoint.identity);
  }

  /** The one place an access-log record is built. `relayed`: the upstream response's outcome, or
   * undefined when vipr answered itself (then no endpoint and no upstream status). */
  #log(protocol: string, exchange: Exchange, seconds: number, relayed: UpstreamOutcome | undefined, error: string | undefined): void {
    const accessLog = this.#accessLog;
    if (accessLog === undefined || !accessLog.enabled || !accessLog.sample()) return;
    const target = exchange.target;
    const record: MutableRecord = {
      time: new Date().toISOString(),
      method: exchange.method,
      host: target === undefined ? "" : target.authority,
      path: target === undefined ? "" : target.pathAndQuery,
      status: exchange.status,
      duration_ms: seconds * 1000,
      service: exchange.serviceKey === "" ? null : exchange.serviceKey,
      endpoint: relayed === undefined ? null : exchange.upstream!.identity,
      upstream_status: relayed === undefined ? null : exchange.status,
      bytes: relayed === undefined ? 0 : relayed.bytesOut,
      client: this.#clientOf(exchange),
    };
    if (error !== undefined) record.error = error;
    if (this.#tunnel !== undefined) record.tunnel = this.#tunnel;
    if (protocol !== "") record.protocol = protocol;
    if (relayed !== undefined) record.upstream_protocol = spokenToPod(exchange);
    accessLog.write(record);
  }
}

/** The protocol vipr spoke to the pod: h2c where the service port says so (resolve decided it). */
function spokenToPod(exchange: Exchange): string {
  return exchange.upstreamProtocol ?? "http/1.1";
}
