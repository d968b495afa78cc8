// Forward: sends the request to the picked upstream through the runtime's transport, streaming
// both ways, and retries a try that failed in a way that is safe to repeat (retry-policy.ts) on
// another endpoint, while the retry budget allows. With an overall request timeout, no retry
// starts once it has passed, and each try's response timeout is cut to the time left. When no try
// succeeds, the last failure becomes vipr's answer, saying why it was not retried. For a request
// a Gateway API rule routed, a response whose status the rule retries is also tried again
// (#statusRetried), after the rule's backoff, with the body from its copy (request-body-copy.ts).
import { BodyTooLargeError } from "../forward/body-limit.ts";
import type { HeaderForwarder } from "../forward/forward-headers.ts";
import { headerListGet, type HeaderList } from "../forward/header-list.ts";
import { gatewayBodyCopy, gatewayMaxRetries, gatewayRequestHeaders, gatewayResponseHeaders, gatewayTimeouts, sendMirrors } from "../gateway-api/gateway-forwarding.ts";
import { retriesStatus, retryBackoffMs } from "../gateway-api/gateway-retry.ts";
import type { RequestBodyCopy } from "../forward/request-body-copy.ts";
import { RetriedStatusError, UpstreamError, type ClientAddressOf, type UpstreamCall, type UpstreamOutcome, type UpstreamTransport } from "../forward/upstream-transport.ts";
import { retryable, type RetryBudget } from "../retry-policy.ts";
import { grpcTimeoutOf } from "../forward/grpc-timeout.ts";
import type { RouterErrorCode } from "../router-errors.ts";
import type { RouterTimeouts } from "../timeout-config.ts";
import type { UpgradeOutcome, UpgradeRoute } from "../forward/upgrade-route.ts";
import type { AdmitStage } from "./admit-stage.ts";
import { peerOf, type Exchange } from "./exchange.ts";
import type { PickStage } from "./pick-stage.ts";
import type { ReportStage } from "./report-stage.ts";

export interface ForwardSettings {
  readonly transport: UpstreamTransport;
  readonly forwarder: HeaderForwarder;
  /** The connection's peer address, from the serve adapter. */
  readonly clientAddress: ClientAddressOf;
  /** What clients used to reach vipr, for X-Forwarded-Proto. */
  readonly proto: string;
  readonly budget: RetryBudget;
  /** Log lines (a failed request mirror). */
  readonly log?: (line: string) => void;
  /** Waits before a retry (a Gateway API rule's backoff); default setTimeout. Injected, as the
   * router's clock is, for callers that keep time themselves. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** [0, 1): backoff jitter and mirror endpoints; default Math.random. */
  readonly random?: () => number;
}

/** The stages a forward hands back to: in-flight counts, retries' picks, the report. */
export interface ForwardPeers {
  readonly admit: AdmitStage;
  readonly pick: PickStage;
  readonly report: ReportStage;
}

/** Why a failed try was not retried: the failure was not safe to repeat (retry-policy.ts), the
 * overall request timeout had passed, the retries allowed were used, no untried endpoint was left,
 * or the retry budget (a share of the requests in flight) was spent. */
type NotRetried = "not_safe_to_retry" | "request_timeout" | "max_retries" | "no_other_endpoint" | "retry_budget";

/**
 * A try's response timeout: the service's per-try timeout, cut to the time left of the overall
 * request timeout (`elapsedMs` since the request's arrival, on the router's monotonic clock); at
 * least 1 ms, since 0 would mean no limit.
 */
function responseTimeoutMs(timeouts: RouterTimeouts, elapsedMs: number): number {
  if (timeouts.requestMs <= 0) return timeouts.responseMs;
  const left = Math.max(1, Math.ceil(timeouts.requestMs - elapsedMs));
  return timeouts.responseMs > 0 ? Math.min(timeouts.responseMs, left) : left;
}

/**
 * One try as the transport is given it (UpstreamCall): the fields, the timeouts, and the two
 * reports back (onResponse, onEnd) as methods of this one object, where closures would make
 * three objects per request on the hot path (issue 11's profile).
 */
class ForwardTry implements UpstreamCall {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderList;
  readonly rewriteResponseHeaders: (upstream: HeaderList) => HeaderList;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly requestTimeLeftMs: number | undefined;
  readonly upstreamProtocol: "h2c" | undefined;
  /** Set for a request a gateway rule routed (its retry codes, its body copy). */
  readonly retryStatus: ((status: number) => boolean) | undefined;
  readonly bodyCopy: RequestBodyCopy | undefined;
  readonly #exchange: Exchange;
  readonly #stage: ForwardStage;

  constructor(
    stage: ForwardStage,
    exchange: Exchange,
    headers: HeaderList,
    rewriteResponseHeaders: (upstream: HeaderList) => HeaderList,
    bodyCopy: RequestBodyCopy | undefined,
    retryStatus: ((status: number) => boolean) | undefined,
  ) {
    const timeouts = exchange.timeouts!;
    // The clock is read only when there is an overall timeout to count against.
    const elapsed = timeouts.requestMs > 0 ? exchange.elapsedMs() : 0;
    this.method = exchange.method;
    this.path = exchange.path;
    this.headers = headers;
    this.rewriteResponseHeaders = rewriteResponseHeaders;
    this.connectTimeoutMs = timeouts.connectMs;
    this.responseTimeoutMs = responseTimeoutMs(timeouts, elapsed);
    this.idleTimeoutMs = timeouts.idleMs;
    this.requestTimeLeftMs = timeouts.requestMs > 0 ? timeouts.requestMs - elapsed : undefined;
    this.upstreamProtocol = exchange.upstreamProtocol;
    this.retryStatus = retryStatus;
    this.bodyCopy = bodyCopy;
    this.#exchange = exchange;
    this.#stage = stage;
  }

  onResponse(status: number): void {
    this.#exchange.status = status;
  }

  onEnd(outcome: UpstreamOutcome): void {
    this.bodyCopy?.close();
    this.#stage.ended(this.#exchange, outcome);
  }
}

function hasBody(headers: readonly string[]): boolean {
  return headerListGet(headers, "transfer-encoding") !== undefined || (headerListGet(headers, "content-length") ?? "0") !== "0";
}

export class ForwardStage {
  readonly #settings: ForwardSettings;
  readonly #peers: ForwardPeers;

  constructor(settings: ForwardSettings, peers: ForwardPeers) {
    this.#settings = settings;
    this.#peers = peers;
  }

  /** The response to relay, or vipr's answer when every try failed. */
  async forward(exchange: Exchange): Promise<Response> {
    if (exchange.gateway !== undefined) exchange.timeouts = gatewayTimeouts(exchange.timeouts!, exchange.gateway);
    // gRPC: the client's grpc-timeout is the call's deadline (forward/grpc-timeout.ts); looked
    // for only on ports spoken to in HTTP/2, the only ones gRPC can reach.
    const grpcTimeoutMs = exchange.upstreamProtocol === "h2c" ? grpcTimeoutOf(exchange.headers) : undefined;
    if (grpcTimeoutMs !== undefined) {
      const timeouts = exchange.timeouts!;
      if (timeouts.requestMs <= 0 || grpcTimeoutMs < timeouts.requestMs) exchange.timeouts = { ...timeouts, requestMs: grpcTimeoutMs };
    }
    const copy = exchange.gateway === undefined ? undefined : gatewayBodyCopy(exchange.gateway);
    // An ExternalName target is one name, tried once: there is no other endpoint to retry on.
    if (exchange.balancer === undefined) return this.#try(exchange, copy, undefined).catch((error: unknown) => this.#failed(exchange, error, undefined, copy));
    const budget = this.#settings.budget;
    budget.requestStarted();
    const tried: number[] = [];
    // The wait before the next try, set when a gateway rule retries a status (#statusRetried).
    const wait = exchange.gateway === undefined ? undefined : { ms: 0 };
    for (;;) {
      let failure: UpstreamError;
      try {
        return await this.#try(exchange, copy, wait);
      } catch (error) {
        if (error instanceof RetriedStatusError) {
          // The pod answered, so it may take the retry too: another endpoint if there is one, else
          // the same (GEP-1731 retries "a backend request", not a different backend).
          if (!tried.includes(exchange.pick!.index)) tried.push(exchange.pick!.index);
          this.#peers.pick.next(exchange, tried);
          await this.#sleep(wait!.ms);
          continue;
        }
        if (!(error instanceof UpstreamError)) throw error;
        failure = error;
      }
      // The client left or its body broke off: its failure, so neither a retry nor a 502.
      if (failure.kind === "aborted") return this.#failed(exchange, failure, undefined, copy);
      const notRetried = this.#whyNotRetried(exchange, failure, tried.length);
      if (notRetried !== undefined) return this.#failed(exchange, failure, notRetried, copy);
      if (!tried.includes(exchange.pick!.index)) tried.push(exchange.pick!.index);
      if (!this.#peers.pick.next(exchange, tried)) return this.#failed(exchange, failure, "no_other_endpoint", copy);
      if (exchange.gateway !== undefined) await this.#sleep(retryBackoffMs(exchange.gateway, exchange.tries, this.#random));
    }
  }

  get #random(): () => number {
    return this.#settings.random ?? Math.random;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return this.#settings.sleep?.(ms) ?? new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * Whether a response with `status` is dropped for a retry (UpstreamCall.retryStatus), asked when
   * its head arrives: the rule retries that code (gateway-retry.ts), the request can be sent again
   * whole (no body, or a body copied whole within its bound: request-body-copy.ts; a body that
   * streamed on is not kept), retries are left, the backoff ends within the request timeout, and
   * the retry budget allows one. Otherwise the response is relayed as it is. Sets `wait.ms`.
   */
  #statusRetried(exchange: Exchange, copy: RequestBodyCopy | undefined, status: number, wait: { ms: number }): boolean {
    const gateway = exchange.gateway!;
    if (!retriesStatus(gateway, status)) return false;
    if (copy !== undefined && !copy.replayable) return false;
    if (exchange.tries > gatewayMaxRetries(gateway, this.#settings.budget.maxRetries)) return false;
    const ms = retryBackoffMs(gateway, exchange.tries, this.#random);
    const timeouts = exchange.timeouts!;
    if (timeouts.requestMs > 0 && exchange.elapsedMs() + ms >= timeouts.requestMs) return false;
    if (!this.#settings.budget.tryRetry()) return false;
    wait.ms = ms;
    return true;
  }

  /** Why this failure is the answer, said in the error (`tries`, `notRetried`) so that a client or
   * an operator can tell a request that could not be retried from one that was not allowed to;
   * undefined when a retry may go (the budget's share is then taken). */
  #whyNotRetried(exchange: Exchange, failure: UpstreamError, triedBefore: number): NotRetried | undefined {
    const budget = this.#settings.budget;
    const timeouts = exchange.timeouts!;
    if (!retryable(failure, exchange.method, hasBody(exchange.headers))) return "not_safe_to_retry";
    // The overall timeout has passed: no further try, whatever the failure.
    if (timeouts.requestMs > 0 && exchange.elapsedMs() >= timeouts.requestMs) return "request_timeout";
    if (exchange.tries > (exchange.gateway === undefined ? budget.maxRetries : gatewayMaxRetries(exchange.gateway, budget.maxRetries))) return "max_retries";
    if (triedBefore + 1 >= exchange.balancer!.eligibleCount) return "no_other_endpoint";
    if (!budget.tryRetry()) return "retry_budget";
    return undefined;
  }

  /** One try: the request's fields for the upstream, the endpoint counted in flight, the call.
   * `wait`: set for a proxied service, whose statuses a gateway rule may retry. */
  async #try(exchange: Exchange, copy: RequestBodyCopy | undefined, wait: { ms: number } | undefined): Promise<Response> {
    const { transport, forwarder, clientAddress, proto } = this.#settings;
    const { admit, report } = this.#peers;
    const gateway = exchange.gateway;
    const authority = gateway?.hostRewrite ?? exchange.target!.authority;
    const host = headerListGet(exchange.headers, "host");
    const peer = peerOf(exchange, clientAddress); // the peer: trusted or not, and the hop appended
    // Absolute-form requests carry the name in the request-target; it replaces Host.
    let outgoing = forwarder.request(
      exchange.headers,
      host === undefined || host.toLowerCase() !== authority ? { clientAddress: peer, proto: exchange.tls ? "https" : proto, authority } : { clientAddress: peer, proto: exchange.tls ? "https" : proto },
    );
    if (gateway !== undefined) outgoing = gatewayRequestHeaders(gateway, outgoing);
    const mirror = gateway !== undefined && exchange.tries === 0;
    admit.acquirePick(exchange);
    exchange.tries++;
    try {
      const retryStatus = gateway === undefined || wait === undefined ? undefined : (status: number): boolean => this.#statusRetried(exchange, copy, status, wait);
      const call = new ForwardTry(this, exchange, outgoing, gateway === undefined ? forwarder.response : gatewayResponseHeaders(gateway, forwarder.response), copy, retryStatus);
      const pending = transport.forward(exchange.c, exchange.upstream!, call);
      // After the call started: the transport has said by now whether a body goes (the copy).
      if (mirror) sendMirrors(gateway, exchange.method, exchange.path, outgoing, copy, this.#random, this.#settings.log ?? (() => {}), transport.mirrorH2c?.bind(transport));
      const response = await pending;
      exchange.handedOver = true;
      return response;
    } catch (error) {
      admit.releasePick(exchange);
      if (error instanceof UpstreamError) report.tryFailed(exchange, error);
      else if (error instanceof RetriedStatusError) report.statusRetried(exchange, error.status);
      throw error;
    }
  }

  /**
   * A WebSocket handshake's route (ServiceRouter.routeUpgrade): the forwarded fields with the offer
   * put back, the endpoint counted in flight until the tunnel closes. A dial that fails before
   * anything was sent (a refused connection) is retried on another endpoint by the rules and the
   * budget requests have (#whyNotRetried); the adapter then dials the route `failed` returns.
   */
  upgradeRoute(exchange: Exchange, tried: number[] = []): UpgradeRoute {
    const { forwarder, clientAddress, proto, budget } = this.#settings;
    const { admit, report } = this.#peers;
    if (tried.length === 0 && exchange.balancer !== undefined) budget.requestStarted();
    const authority = exchange.gateway?.hostRewrite ?? exchange.target!.authority;
    const host = headerListGet(exchange.headers, "host");
    const outgoing = forwarder.request(
      exchange.headers,
      host === undefined || host.toLowerCase() !== authority ? { clientAddress: peerOf(exchange, clientAddress), proto: exchange.tls ? "https" : proto, authority } : { clientAddress: peerOf(exchange, clientAddress), proto: exchange.tls ? "https" : proto },
    );
    // The forwarder drops Connection and Upgrade as hop-by-hop (RFC 9110 section 7.6.1); a tunnel
    // relays the offer to the pod, as RFC 6455 section 4.1 requires of the handshake. The
    // Sec-WebSocket-* fields are end to end and are already in `outgoing`.
    if (exchange.gateway !== undefined) gatewayRequestHeaders(exchange.gateway, outgoing);
    outgoing.push("connection", "Upgrade", "upgrade", headerListGet(exchange.headers, "upgrade")!);
    admit.acquirePick(exchange);
    exchange.tries++;
    const timeouts = exchange.timeouts!;
    const traffic = report.tunnelTraffic(exchange);
    let open = false;
    return {
      upstream: exchange.upstream!,
      method: exchange.method,
      path: exchange.path,
      headers: outgoing,
      connectTimeoutMs: timeouts.connectMs,
      idleTimeoutMs: timeouts.idleMs,
      traffic,
      failed: (error) => {
        admit.releasePick(exchange);
        report.tryFailed(exchange, error);
        // Only a dial that sent nothing is tried again: once the handshake went out, the client's
        // first frames may have followed it to this pod.
        const notRetried = exchange.balancer === undefined ? "no_other_endpoint" : error.sentRequest ? "not_safe_to_retry" : this.#whyNotRetried(exchange, error, tried.length);
        if (notRetried === undefined) {
          tried.push(exchange.pick!.index);
          if (this.#peers.pick.next(exchange, tried)) return this.upgradeRoute(exchange, tried);
        }
        const response = this.#failed(exchange, error, notRetried ?? "no_other_endpoint", undefined);
        admit.release(exchange);
        return response;
      },
      opened: () => {
        open = true;
        report.tunnelOpened(traffic);
      },
      ended: (outcome: UpgradeOutcome) => {
        exchange.status = outcome.status;
        // Passive health hears the handshake's answer only: how a long-lived tunnel ends later
        // (either side may close it, RFC 6455 section 7) says nothing about the pod.
        admit.release(exchange);
        admit.releasePick(exchange);
        report.tunnelEnded(exchange, traffic, open, outcome);
      },
    };
  }

  /** The relayed response ended: its slot and its endpoint's count are given back, then reported
   * (ForwardTry.onEnd). */
  ended(exchange: Exchange, outcome: UpstreamOutcome): void {
    const { admit, report } = this.#peers;
    admit.release(exchange);
    admit.releasePick(exchange);
    report.responseEnded(exchange, outcome);
  }

  /** The last try's failure as vipr's answer. */
  #failed(exchange: Exchange, error: unknown, notRetried: NotRetried | undefined, copy: RequestBodyCopy | undefined): Response {
    copy?.close();
    if (!(error instanceof UpstreamError)) throw error;
    const report = this.#peers.report;
    const service = exchange.serviceKey;
    const endpoint = exchange.upstream!.identity;
    // The client's chunked body passed the serve adapter's maxBodyBytes and the transport aborted
    // the try (kind "aborted": never retried): 413, as the adapter's Content-Length check answers.
    const tooLarge = error.cause;
    if (tooLarge instanceof BodyTooLargeError) return report.fail(exchange, "body_too_large", tooLarge.message, { maxBodyBytes: tooLarge.maxBodyBytes });
    // The client left or its body broke off: nobody reads this answer, but the access log and the
    // 499 in vipr_requests_total say whose failure it was (the code leads the log's error, as in
    // responseEnded).
    if (error.kind === "aborted") return report.fail(exchange, "client_aborted", `client_aborted: ${error.message}`, { service, endpoint, sent: error.sentRequest });
    const code: RouterErrorCode =
      error.kind === "timeout" ? "upstream_timeout" : error.kind === "connect" ? "upstream_connect" : error.kind === "protocol" ? "upstream_protocol" : "upstream_reset";
    const details = { service, endpoint, sent: error.sentRequest, tries: exchange.tries };
    return report.fail(exchange, code, error.message, notRetried === undefined ? details : { ...details, notRetried });
  }
}
