// The Gateway API objects vipr programs (gateway.networking.k8s.io/v1 GatewayClass, Gateway,
// HTTPRoute, GRPCRoute; v1beta1 ReferenceGrant), as validated values: defaults filled in the way the API
// server's CRD defaults fill them (gateway-api apis/v1 kubebuilder:default markers), so the
// compiler never has to ask "was this field given?". parse-gateway-api.ts builds them from YAML or
// API objects. Pure data, frozen by the compiler's callers' convention (readonly everywhere).

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";

/** vipr's GatewayClass controllerName: the Gateways of a class naming it are the ones vipr programs
 * (gateway-api apis/v1/gatewayclass_types.go: "a domain prefixed path"). */
export const VIPR_CONTROLLER_NAME = "vipr.io/gateway-controller";

export interface ObjectMeta {
  readonly namespace: string;
  readonly name: string;
  /** Milliseconds since the epoch; 0 when absent (then it sorts as the oldest). */
  readonly created: number;
  readonly generation: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface GatewayClass {
  readonly meta: ObjectMeta;
  readonly controllerName: string;
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly { readonly key: string; readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; readonly values: readonly string[] }[];
}

export interface RouteGroupKind {
  readonly group: string;
  readonly kind: string;
}

export type ListenerProtocol = "HTTP" | "HTTPS" | "TLS" | "TCP" | "UDP" | string;

export interface Listener {
  readonly name: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  /** Lowercase; undefined: any host. */
  readonly hostname: string | undefined;
  readonly allowedRoutes: {
    readonly from: "Same" | "All" | "Selector";
    readonly selector: LabelSelector | undefined;
    /** Empty: the protocol's default kinds (HTTPRoute for HTTP). */
    readonly kinds: readonly RouteGroupKind[];
  };
  /** HTTPS (and TLS) listeners: how TLS is handled (ListenerTLSConfig); undefined for HTTP. */
  readonly tls?: ListenerTLS | undefined;
}

/** A certificateRefs entry (SecretObjectReference): group "" and kind "Secret" by default, the
 * Gateway's namespace when none is given. */
export interface SecretObjectRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface ListenerTLS {
  /** Terminate (the default) or Passthrough (TLS listeners only: the CRD refuses it on HTTPS). */
  readonly mode: "Terminate" | "Passthrough";
  readonly certificateRefs: readonly SecretObjectRef[];
}

/** A core Secret as a listener's certificate source: its type and, decoded, the PEM text of its
 * tls.crt and tls.key (from `data`, base64, or `stringData`, as the API server merges them). */
export interface TLSSecret {
  readonly meta: ObjectMeta;
  readonly type: string;
  readonly certPem: string | undefined;
  readonly keyPem: string | undefined;
}

export interface Gateway {
  readonly meta: ObjectMeta;
  readonly gatewayClassName: string;
  readonly listeners: readonly Listener[];
}

export interface ParentRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly sectionName: string | undefined;
  readonly port: number | undefined;
}

export type PathMatchType = "Exact" | "PathPrefix" | "RegularExpression";
export type ValueMatchType = "Exact" | "RegularExpression";

export interface PathMatch {
  readonly type: PathMatchType;
  readonly value: string;
}

export interface ValueMatch {
  readonly type: ValueMatchType;
  /** Header names lowercase (case-insensitive, RFC 9110 section 5.1); query names as written. */
  readonly name: string;
  readonly value: string;
}

export interface HTTPRouteMatch {
  readonly path: PathMatch;
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
  readonly method: string | undefined;
}

export interface HeaderModifier {
  /** Lowercase names. */
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}

export type PathModifier = { readonly type: "ReplaceFullPath"; readonly value: string } | { readonly type: "ReplacePrefixMatch"; readonly value: string };

export interface RequestRedirect {
  readonly scheme: "http" | "https" | undefined;
  readonly hostname: string | undefined;
  readonly path: PathModifier | undefined;
  readonly port: number | undefined;
  readonly statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface URLRewrite {
  readonly hostname: string | undefined;
  readonly path: PathModifier | undefined;
}

export interface BackendObjectRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** A number from YAML (required for a Service); vipr's own route list may name a port by name or
   * leave it to the service's default port (service-port.ts). */
  readonly port: number | string | undefined;
}

export interface RequestMirror {
  readonly backend: BackendObjectRef;
  /** The share of requests mirrored, 0..1 (percent/100, or numerator/denominator; default 1). */
  readonly fraction: number;
}

/** HTTPCORSFilter (GEP-1767). */
export interface CORSPolicy {
  /** "*", or origins "scheme://host[:port]" whose host may start with "*." (one or more labels). */
  readonly allowOrigins: readonly string[];
  readonly allowCredentials: boolean;
  /** Methods, or ["*"]. */
  readonly allowMethods: readonly string[];
  /** Lowercase names, or ["*"]. */
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

export type HTTPRouteFilter =
  | { readonly type: "RequestHeaderModifier"; readonly modifier: HeaderModifier }
  | { readonly type: "ResponseHeaderModifier"; readonly modifier: HeaderModifier }
  | { readonly type: "RequestRedirect"; readonly redirect: RequestRedirect }
  | { readonly type: "URLRewrite"; readonly rewrite: URLRewrite }
  | { readonly type: "RequestMirror"; readonly mirror: RequestMirror }
  | { readonly type: "CORS"; readonly cors: CORSPolicy }
  | { readonly type: "ExtensionRef"; readonly unsupported: string };

export interface HTTPBackendRef extends BackendObjectRef {
  readonly weight: number;
  /** vipr's own route list only (route-rules.ts `subset`): a label selector narrowing the pick. */
  readonly subset?: string | undefined;
  /** HTTPBackendRef.filters: applied "if and only if the request is being forwarded to the
   * backend defined here" (compile-backend-filters.ts). */
  readonly filters?: readonly HTTPRouteFilter[] | undefined;
}

export interface HTTPRouteTimeouts {
  /** Milliseconds; undefined: vipr's own (service annotation or router-wide); 0 disables. */
  readonly requestMs: number | undefined;
  readonly backendRequestMs: number | undefined;
}

export interface HTTPRouteRetry {
  readonly attempts: number | undefined;
  readonly codes: readonly number[];
  readonly backoffMs: number | undefined;
}

export interface HTTPRouteRule {
  readonly name: string | undefined;
  readonly matches: readonly HTTPRouteMatch[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly backendRefs: readonly HTTPBackendRef[];
  readonly timeouts: HTTPRouteTimeouts;
  readonly retry: HTTPRouteRetry | undefined;
}

export interface HTTPRoute {
  readonly meta: ObjectMeta;
  readonly parentRefs: readonly ParentRef[];
  /** Lowercase. */
  readonly hostnames: readonly string[];
  readonly rules: readonly HTTPRouteRule[];
}

/** GRPCMethodMatch (gateway-api apis/v1/grpcroute_types.go): at least one of service and method. */
export interface GRPCMethodMatch {
  readonly type: "Exact" | "RegularExpression";
  readonly service: string | undefined;
  readonly method: string | undefined;
}

export interface GRPCRouteMatch {
  /** Undefined: every service and method. */
  readonly method: GRPCMethodMatch | undefined;
  /** Names lowercase; of names given twice only the first (GRPCHeaderMatch.Name). */
  readonly headers: readonly ValueMatch[];
}

/** GRPCRouteFilter: the header modifiers, RequestMirror, ExtensionRef (unsupported). */
export type GRPCRouteFilter = Extract<HTTPRouteFilter, { readonly type: "RequestHeaderModifier" | "ResponseHeaderModifier" | "RequestMirror" | "ExtensionRef" }>;

export interface GRPCRouteRule {
  readonly name: string | undefined;
  /** Empty: every gRPC request. */
  readonly matches: readonly GRPCRouteMatch[];
  readonly filters: readonly GRPCRouteFilter[];
  readonly backendRefs: readonly HTTPBackendRef[];
}

export interface GRPCRoute {
  readonly meta: ObjectMeta;
  readonly parentRefs: readonly ParentRef[];
  /** Lowercase. */
  readonly hostnames: readonly string[];
  readonly rules: readonly GRPCRouteRule[];
}

export interface ReferenceGrant {
  readonly meta: ObjectMeta;
  readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
  readonly to: readonly { readonly group: string; readonly kind: string; readonly name: string | undefined }[];
}

/** Everything the compiler reads. */
export interface GatewayApiObjects {
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  /** Absent: none (sources and tests that predate GRPCRoute). */
  readonly grpcRoutes?: readonly GRPCRoute[] | undefined;
  readonly referenceGrants: readonly ReferenceGrant[];
  /** Namespace labels, for allowedRoutes.namespaces.from Selector; absent namespaces have none. */
  readonly namespaceLabels?: ReadonlyMap<string, Readonly<Record<string, string>>> | undefined;
  /** Secrets that listeners' certificateRefs may name (gateway-listener-tls.ts). */
  readonly secrets?: readonly TLSSecret[] | undefined;

}

export const EMPTY_GATEWAY_API_OBJECTS: GatewayApiObjects = { gatewayClasses: [], gateways: [], httpRoutes: [], referenceGrants: [] };
