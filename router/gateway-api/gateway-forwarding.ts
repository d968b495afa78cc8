// What the forward stage applies for a request a Gateway API rule routed (gateway-routing.ts):
// the request and response header modifiers, the route's timeouts onto vipr's timeout machinery
// (timeout-config.ts), and request mirrors. Kept here so the forward stage's hooks stay one line.
import type { HeaderList } from "../forward/header-list.ts";
import { RequestBodyCopy } from "../forward/request-body-copy.ts";
import { targetKey, type UpstreamTarget, type UpstreamTransport } from "../forward/upstream-transport.ts";
import type { RouterTimeouts } from "../timeout-config.ts";
import type { GatewayForwarding, MirrorTarget } from "./gateway-routing.ts";
import { modifyHeaderList } from "./http-route-filters.ts";

/** The upstream request's fields after the rule's RequestHeaderModifier, then the chosen
 * backendRef's (in place). */
export function gatewayRequestHeaders(forwarding: GatewayForwarding, outgoing: HeaderList): HeaderList {
  const modifier = forwarding.rule.requestHeaders;
  const own = forwarding.backend?.requestHeaders;
  if (modifier !== undefined) modifyHeaderList(outgoing, modifier);
  return own === undefined ? outgoing : modifyHeaderList(outgoing, own);
}

/** The response field rewrite with the rule's ResponseHeaderModifier after vipr's own, then the
 * chosen backendRef's, then the CORS fields (replacing any the backend sent: the filter owns CORS
 * on this route). */
export function gatewayResponseHeaders(forwarding: GatewayForwarding, rewrite: (upstream: HeaderList) => HeaderList): (upstream: HeaderList) => HeaderList {
  const modifier = forwarding.rule.responseHeaders;
  const own = forwarding.backend?.responseHeaders;
  const cors = forwarding.corsFields;
  if (modifier === undefined && own === undefined && cors.length === 0) return rewrite;
  const set: { name: string; value: string }[] = [];
  for (let i = 0; i < cors.length; i += 2) set.push({ name: cors[i]!, value: cors[i + 1]! });
  return (upstream) => {
    const list = rewrite(upstream);
    if (modifier !== undefined) modifyHeaderList(list, modifier);
    if (own !== undefined) modifyHeaderList(list, own);
    return set.length === 0 ? list : modifyHeaderList(list, { set, add: [], remove: [] });
  };
}

/**
 * The route's timeouts (HTTPRouteTimeouts, GEP-1742) on vipr's: `request` is the whole request,
 * retries included, until the response head (vipr's requestMs, a 504 when it passes);
 * `backendRequest` is one try to a backend (vipr's per-try responseMs). "0s" turns a timeout off,
 * as both the spec and vipr read 0.
 */
export function gatewayTimeouts(timeouts: RouterTimeouts, forwarding: GatewayForwarding): RouterTimeouts {
  const { requestMs, backendRequestMs } = forwarding.rule.rule.timeouts;
  if (requestMs === undefined && backendRequestMs === undefined) return timeouts;
  return { ...timeouts, ...(requestMs === undefined ? {} : { requestMs }), ...(backendRequestMs === undefined ? {} : { responseMs: backendRequestMs }) };
}

/**
 * The retries a request on this rule may make (HTTPRouteRetry.attempts, GEP-1731: "the maximum
 * number of times an individual request from the gateway to a backend should be retried"), on
 * vipr's retry machinery (retry-policy.ts) and within the router's retry budget: failures safe to
 * repeat, and responses whose status is one of the rule's `codes` (gateway-retry.ts).
 */
export function gatewayMaxRetries(forwarding: GatewayForwarding, routerMax: number): number {
  return forwarding.rule.rule.retry?.attempts ?? routerMax;
}

/** A copy of the request body for this rule, when it may need one: to retry on a status code or
 * to mirror the body (request-body-copy.ts); undefined otherwise, so other requests keep none. */
export function gatewayBodyCopy(forwarding: GatewayForwarding): RequestBodyCopy | undefined {
  const codes = forwarding.rule.rule.retry?.codes.length ?? 0;
  return codes > 0 || forwarding.mirrors.length > 0 ? new RequestBodyCopy() : undefined;
}

/** A ready endpoint of a mirror target, as "address:port", or undefined when it has none. */
function mirrorEndpoint(target: MirrorTarget, random: () => number): UpstreamTarget | undefined {
  const candidates: UpstreamTarget[] = [];
  for (const endpoint of target.service.endpoints) {
    if (!endpoint.ready) continue;
    const port = target.port.name === "" ? endpoint.ports[0] : endpoint.ports.find((p) => p.name === target.port.name);
    const number = port?.port ?? (typeof target.port.targetPort === "number" ? target.port.targetPort : undefined);
    if (number === undefined) continue;
    candidates.push({ address: endpoint.address, port: number, addressType: endpoint.addressType, identity: "mirror" });
  }
  return candidates.length === 0 ? undefined : candidates[Math.floor(random() * candidates.length)];
}

/**
 * Sends a copy of the request to each mirror, fire and forget (HTTPRequestMirrorFilter: "responses
 * from the mirrored backends are ignored"): the method and fields as sent upstream, and the body
 * as the transport copied it (`copy`), through the runtime's fetch (a Web API on both Node and
 * Deno). A request with a body is mirrored once its body has been read through, so the mirror
 * never holds the real request back; a body past the copy's bound (request-body-copy.ts), or one
 * that broke off, is not mirrored at all, and the log says so: without its body the mirror would
 * see a request the client never sent. Failures are logged, never seen by the client. A GRPCRoute's
 * mirrors go through the transport's `h2c` (UpstreamTransport.mirrorH2c) in HTTP/2 with prior
 * knowledge, the only way a gRPC pod takes a call; fetch speaks HTTP/1.1.
 */
export function sendMirrors(forwarding: GatewayForwarding, method: string, path: string, headers: HeaderList, copy: RequestBodyCopy | undefined, random: () => number, log: (line: string) => void, h2c?: UpstreamTransport["mirrorH2c"]): void {
  if (forwarding.mirrors.length === 0) return;
  const grpc = forwarding.rule.kind === "GRPCRoute";
  if (grpc && h2c === undefined) {
    log(`RequestMirror of ${method} ${path} on GRPCRoute ${forwarding.rule.routeKey}: this transport sends no HTTP/2 copies; not mirrored`);
    return;
  }
  if (copy === undefined || !copy.bodyExpected) {
    mirrorAll(forwarding, method, path, headers, undefined, random, log, h2c);
    return;
  }
  const fields = [...headers]; // the list may change after this try
  void copy.settled().then((result) => {
    if (result.kind === "whole") mirrorAll(forwarding, method, path, fields, result.body, random, log, h2c);
    else if (result.kind === "none") mirrorAll(forwarding, method, path, fields, undefined, random, log, h2c);
    else {
      const why = result.kind === "too_large" ? `is larger than the ${copy.limitBytes} bytes vipr copies` : "was not read through";
      log(`RequestMirror of ${method} ${path} on ${forwarding.rule.kind ?? "HTTPRoute"} ${forwarding.rule.routeKey}: the request body ${why}; not mirrored`);
    }
  });
}

/** The fields a copy carries: framing and hop-by-hop fields belong to the original request's
 * connection (RFC 9110 section 7.6.1), and fetch or HTTP/2 frames the copied body itself. */
function mirrorFields(headers: readonly string[]): string[] {
  const fields: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name === "content-length" || name === "transfer-encoding" || name === "connection" || name === "host" || name === "keep-alive") continue;
    fields.push(name, headers[i + 1]!);
  }
  return fields;
}

function mirrorAll(forwarding: GatewayForwarding, method: string, path: string, headers: readonly string[], body: Uint8Array | undefined, random: () => number, log: (line: string) => void, h2c: UpstreamTransport["mirrorH2c"]): void {
  const fields = mirrorFields(headers);
  for (const target of forwarding.mirrors) {
    const endpoint = mirrorEndpoint(target, random);
    if (endpoint === undefined) {
      log(`RequestMirror to ${target.service.key}: no ready endpoint; not mirrored`);
      continue;
    }
    const where = targetKey(endpoint);
    if (forwarding.rule.kind === "GRPCRoute") {
      h2c!(endpoint, method, path, fields, body).catch((error: unknown) => log(`RequestMirror to ${target.service.key} (${where}, h2c): ${(error as Error).message}`));
      continue;
    }
    const web = new Headers();
    for (let i = 0; i < fields.length; i += 2) web.append(fields[i]!, fields[i + 1]!);
    fetch(`http://${where}${path}`, { method, headers: web, ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }) })
      .then((response) => response.body?.cancel())
      .catch((error: unknown) => log(`RequestMirror to ${target.service.key} (${where}): ${(error as Error).message}`));
  }
}
