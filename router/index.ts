/**
 * vipr as a library: the runtime-neutral pieces, for mounting vipr's router inside your own Hono
 * app, building routing tables from Kubernetes objects, and asking where a request would go.
 *
 * @example Mount vipr under your own Hono app (Node):
 * ```ts
 * import { Hono } from "hono";
 * import { ServiceRouter, buildRoutingTable, createWasmCore } from "vipr";
 * import { createUndiciTransport, nodeClientAddress, nodeRequestHeaders, serveNode } from "vipr/node";
 *
 * const router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(),
 *   clientAddress: nodeClientAddress, requestHeaders: nodeRequestHeaders });
 * router.setTable(buildRoutingTable({ services, endpointSlices }));
 * const app = new Hono();
 * app.get("/healthz", (c) => c.text("ok"));
 * app.route("/", router.app); // everything else is routed by service name
 * await serveNode(app, { port: 8080 });
 * ```
 * @module
 */
export { ServiceRouter, type ServiceRouterOptions, type RouterTimeouts, type ExplainQuery, type ExplainAnswer } from "./service-router.ts";
export { buildRoutingTable, isBuiltFrom, type RoutingTableInput } from "./table/build-routing-table.ts";
export { RoutingTableBuilder, type BuildOptions } from "./table/routing-table-builder.ts";
export { TableInputStore, StoreCollection, routingTableKinds, type ObjectChange, type TableInputChanges, type StoreChanges, type KindIndexing } from "./table/table-input-store.ts";
export { objectKey } from "./table/object-identity.ts";
export type { RoutingTable, ServiceEntry, EndpointEntry, ServicePortEntry, TableDiagnostic } from "./table/routing-table.ts";
export type { KubeService, KubeEndpointSlice, KubePod } from "./table/kubernetes-objects.ts";
export { eligibleEndpoints, type EligibleEndpoints } from "./table/eligible-endpoints.ts";
export { resolveServiceHost, type ServiceHostResolution } from "./resolve-service-host.ts";
export { compileRouteRules, matchRoute, type RouteRuleConfig } from "./route-rules.ts";
export { policyFromAnnotations, parseHashKeySource, type PolicyConfig, type HashKeySource } from "./balancing/policy-config.ts";
export { timeoutsFromAnnotations, parseDurationMs, DEFAULT_ROUTER_TIMEOUTS, type TimeoutResolution } from "./timeout-config.ts";
export { createRouterMetrics, type MetricsRecorder } from "./observability/router-metrics.ts";
export { createAccessLog, type AccessLog } from "./observability/access-log.ts";
export { createAdminApp, type AdminDeps } from "./admin/admin-app.ts";
export { errorResponse, type RouterErrorCode } from "./router-errors.ts";
export type { UpstreamTransport, UpstreamTarget, UpstreamCall, ClientAddressOf, RequestHeadersOf } from "./forward/upstream-transport.ts";
export { UpstreamError } from "./forward/upstream-transport.ts";
export { createWasmCore, createReferenceCore, type CoreEngine } from "../wasm/core-engine.ts";
export { parseSelector, selectorFromLabelSelector, SelectorParseError } from "../wasm/label-selector.ts";
