// The Gateway API configuration a router serves: vipr's own route list (route-rules.ts, fixed at
// start) merged with the objects a table source reads (file or Kubernetes), compiled into one
// table (compile-gateway-routes.ts), and GRPCRoutes into their own (compile-grpc-routes.ts). A new
// set of objects replaces the tables by reference swaps; requests already matched keep the rule
// they matched.
import { compileGatewayRoutes, EMPTY_GATEWAY_ROUTE_TABLE, type CompileOptions, type CompiledGatewayRoutes, type GatewayRouteTable, type ListenerTlsEntry } from "./compile-gateway-routes.ts";
import { EMPTY_GATEWAY_API_OBJECTS, type GatewayApiObjects } from "./gateway-api-objects.ts";
import type { GatewayApiStatus } from "./gateway-conditions.ts";
import { compileGRPCRoutes, withGRPCRouteStatus } from "./compile-grpc-routes.ts";
import type { ServiceEntry } from "../table/routing-table.ts";

function merge(a: GatewayApiObjects, b: GatewayApiObjects): GatewayApiObjects {
  return {
    gatewayClasses: [...a.gatewayClasses, ...b.gatewayClasses],
    gateways: [...a.gateways, ...b.gateways],
    httpRoutes: [...a.httpRoutes, ...b.httpRoutes],
    grpcRoutes: [...(a.grpcRoutes ?? []), ...(b.grpcRoutes ?? [])],
    referenceGrants: [...a.referenceGrants, ...b.referenceGrants],
    namespaceLabels: b.namespaceLabels ?? a.namespaceLabels,
    secrets: [...(a.secrets ?? []), ...(b.secrets ?? [])],
  };
}

export class GatewayRouteState {
  readonly #fixed: GatewayApiObjects;
  #compiled: CompiledGatewayRoutes;
  /** GRPCRoutes: their own table, looked up for gRPC requests only. */
  #grpcTable: GatewayRouteTable = EMPTY_GATEWAY_ROUTE_TABLE;

  constructor(fixed: GatewayApiObjects = EMPTY_GATEWAY_API_OBJECTS) {
    this.#fixed = fixed;
    this.#compiled = fixed.httpRoutes.length === 0 ? { table: EMPTY_GATEWAY_ROUTE_TABLE, status: { gatewayClasses: [], gateways: [], httpRoutes: [] } } : compileGatewayRoutes(fixed);
  }

  get table(): GatewayRouteTable {
    return this.#compiled.table;
  }

  get grpcTable(): GatewayRouteTable {
    return this.#grpcTable;
  }

  get status(): GatewayApiStatus {
    return this.#compiled.status;
  }

  /** The HTTPS listeners served and their certificates, from the last compile. */
  get listenerTls(): readonly ListenerTlsEntry[] {
    return this.#compiled.listenerTls ?? [];
  }

  /** Replaces the source's objects (the route list stays); returns the status to write back. */
  update(objects: GatewayApiObjects, options: CompileOptions = {}): GatewayApiStatus {
    const merged = merge(this.#fixed, objects);
    const compiled = compileGatewayRoutes(merged, options);
    const grpc = compileGRPCRoutes(merged, options);
    this.#compiled = { ...compiled, status: withGRPCRouteStatus(compiled.status, grpc) };
    this.#grpcTable = grpc.table;
    return this.#compiled.status;
  }
}

/** Where a table source hands its Gateway API objects: a ServiceRouter, or `vipr serve --workers`'
 * supervisor, which passes them on to every worker. */
export interface GatewayObjectsSink {
  setGatewayObjects(objects: GatewayApiObjects, options?: CompileOptions): GatewayApiStatus;
  /** The routing table now, for ResolvedRefs BackendNotFound in status. */
  readonly table: { readonly services: { has(key: string): boolean; get(key: string): ServiceEntry | undefined } } | undefined;
}
