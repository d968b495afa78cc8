// Gateway API objects (YAML or API JSON) to validated values (gateway-api-objects.ts), with the
// CRD's defaults applied and a precise problem for each field the API server's CRD validation
// would refuse (gateway-api apis/v1 kubebuilder markers and CEL rules). An object with a problem
// is dropped whole, as the API server would never have stored it; the others are kept.
import {
  GATEWAY_API_GROUP,
  type BackendObjectRef,
  type Gateway,
  type GatewayApiObjects,
  type GatewayClass,
  type GRPCRoute,
  type HTTPBackendRef,
  type HTTPRoute,
  type HTTPRouteFilter,
  type HTTPRouteMatch,
  type HTTPRouteRule,
  type HeaderModifier,
  type LabelSelector,
  type Listener,
  type ListenerTLS,
  type ObjectMeta,
  type ParentRef,
  type PathModifier,
  type ReferenceGrant,
  type ValueMatch,
} from "./gateway-api-objects.ts";
import { parseGatewayDuration } from "./gateway-duration.ts";
// A cycle by design: parse-grpc-route.ts reads its fields with this file's Reader and field
// parsers, and this file dispatches to it; neither uses the other while loading.
import { parseGRPCRoute } from "./parse-grpc-route.ts";

export type GatewayApiKind = "GatewayClass" | "Gateway" | "HTTPRoute" | "GRPCRoute" | "ReferenceGrant";

/** The apiVersions vipr reads each kind at (v1 is the standard channel; ReferenceGrant is v1beta1). */
export const GATEWAY_API_VERSIONS: Readonly<Record<GatewayApiKind, readonly string[]>> = {
  GatewayClass: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"],
  Gateway: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"],
  HTTPRoute: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"],
  GRPCRoute: ["gateway.networking.k8s.io/v1"],
  ReferenceGrant: ["gateway.networking.k8s.io/v1beta1", "gateway.networking.k8s.io/v1"],
};

/** One refused field: its path in the object ("spec.rules[0].matches[0].path.value") and why. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  /** `problems` as lines naming the object; `fields` the same, for a caller that names the object itself. */
  | { readonly ok: false; readonly problems: readonly string[]; readonly fields: readonly FieldProblem[] };

export type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw => typeof value === "object" && value !== null && !Array.isArray(value);

// RFC 1123 subdomain, optionally with a leading "*." (gateway-api apis/v1/shared_types.go Hostname).
const hostnamePattern = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// HTTPHeaderName: an RFC 7230 token.
const headerNamePattern = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const methods = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

/** Collects problems under one object's name and field paths. */
export class Reader {
  readonly problems: string[] = [];
  readonly fields: FieldProblem[] = [];
  readonly where: string;
  constructor(where: string) {
    this.where = where;
  }

  problem(field: string, message: string): void {
    this.problems.push(`${this.where}: ${field}: ${message}`);
    this.fields.push({ field, message });
  }

  record(value: unknown, field: string): Raw {
    if (value === undefined || value === null) return {};
    if (isRecord(value)) return value;
    this.problem(field, `expected a mapping, got ${Array.isArray(value) ? "a list" : typeof value}`);
    return {};
  }

  list(value: unknown, field: string, max?: number): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problem(field, `expected a list, got ${typeof value}`);
      return [];
    }
    if (max !== undefined && value.length > max) this.problem(field, `at most ${max} entries, got ${value.length}`);
    return value;
  }

  string(value: unknown, field: string, required: boolean): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.problem(field, "required");
      return undefined;
    }
    if (typeof value !== "string") {
      this.problem(field, `expected a string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  port(value: unknown, field: string, required: boolean): number | undefined {
    if (value === undefined || value === null) {
      if (required) this.problem(field, "required");
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
      this.problem(field, `${JSON.stringify(value)} is not a port (1-65535)`);
      return undefined;
    }
    return value;
  }

  hostname(value: unknown, field: string): string | undefined {
    const text = this.string(value, field, false);
    if (text === undefined) return undefined;
    const lower = text.toLowerCase();
    if (!hostnamePattern.test(lower) || lower.length > 253) this.problem(field, `${JSON.stringify(text)} is not a host name or *.domain`);
    return lower;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    this.problem(field, `${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
    return fallback;
  }

  duration(value: unknown, field: string): number | undefined {
    const text = this.string(value, field, false);
    if (text === undefined) return undefined;
    const ms = parseGatewayDuration(text);
    if (ms === undefined) this.problem(field, `${JSON.stringify(text)} is not a Gateway API duration (such as "10s", "500ms", "1m30s")`);
    return ms;
  }
}

export function metaOf(raw: Raw, r: Reader, defaultNamespace: string, clusterScoped: boolean): ObjectMeta {
  const metadata = r.record(raw["metadata"], "metadata");
  const name = r.string(metadata["name"], "metadata.name", true) ?? "";
  const namespace = clusterScoped ? "" : (r.string(metadata["namespace"], "metadata.namespace", false) ?? defaultNamespace);
  const createdText = r.string(metadata["creationTimestamp"], "metadata.creationTimestamp", false);
  const created = createdText === undefined ? 0 : Date.parse(createdText);
  if (Number.isNaN(created)) r.problem("metadata.creationTimestamp", `${JSON.stringify(createdText)} is not an RFC 3339 time`);
  const generation = typeof metadata["generation"] === "number" ? metadata["generation"] : 1;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(r.record(metadata["labels"], "metadata.labels"))) labels[key] = String(value);
  return { namespace, name, created: Number.isNaN(created) ? 0 : created, generation, labels };
}

export function whereOf(kind: string, raw: Raw, defaultNamespace: string, clusterScoped: boolean): string {
  const metadata = isRecord(raw["metadata"]) ? raw["metadata"] : {};
  const name = typeof metadata["name"] === "string" ? metadata["name"] : "?";
  const namespace = typeof metadata["namespace"] === "string" ? metadata["namespace"] : defaultNamespace;
  return clusterScoped ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

export function done<T>(r: Reader, value: T): Parsed<T> {
  return r.problems.length === 0 ? { ok: true, value } : { ok: false, problems: r.problems, fields: r.fields };
}

export function parseGatewayClass(raw: Raw): Parsed<GatewayClass> {
  const r = new Reader(whereOf("GatewayClass", raw, "", true));
  const meta = metaOf(raw, r, "", true);
  const spec = r.record(raw["spec"], "spec");
  const controllerName = r.string(spec["controllerName"], "spec.controllerName", true) ?? "";
  return done(r, { meta, controllerName });
}

function selectorOf(value: unknown, field: string, r: Reader): LabelSelector {
  const raw = r.record(value, field);
  const matchLabels: Record<string, string> = {};
  for (const [key, v] of Object.entries(r.record(raw["matchLabels"], `${field}.matchLabels`))) matchLabels[key] = String(v);
  const matchExpressions = r.list(raw["matchExpressions"], `${field}.matchExpressions`).map((item, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const e = r.record(item, at);
    return {
      key: r.string(e["key"], `${at}.key`, true) ?? "",
      operator: r.oneOf(e["operator"], `${at}.operator`, ["In", "NotIn", "Exists", "DoesNotExist"] as const, "Exists"),
      values: r.list(e["values"], `${at}.values`).map(String),
    };
  });
  return { matchLabels, matchExpressions };
}

function listenerOf(value: unknown, at: string, r: Reader): Listener {
  const raw = r.record(value, at);
  const name = r.string(raw["name"], `${at}.name`, true) ?? "";
  const port = r.port(raw["port"], `${at}.port`, true) ?? 0;
  const protocol = r.string(raw["protocol"], `${at}.protocol`, true) ?? "";
  const hostname = r.hostname(raw["hostname"], `${at}.hostname`);
  const allowed = r.record(raw["allowedRoutes"], `${at}.allowedRoutes`);
  const namespaces = r.record(allowed["namespaces"], `${at}.allowedRoutes.namespaces`);
  const from = r.oneOf(namespaces["from"], `${at}.allowedRoutes.namespaces.from`, ["Same", "All", "Selector"] as const, "Same");
  if (from === "Selector" && namespaces["selector"] === undefined) r.problem(`${at}.allowedRoutes.namespaces.selector`, 'required when from is "Selector"');
  const selector = from === "Selector" ? selectorOf(namespaces["selector"], `${at}.allowedRoutes.namespaces.selector`, r) : undefined;
  const kinds = r.list(allowed["kinds"], `${at}.allowedRoutes.kinds`, 8).map((item, i) => {
    const k = r.record(item, `${at}.allowedRoutes.kinds[${i}]`);
    return { group: r.string(k["group"], `${at}.allowedRoutes.kinds[${i}].group`, false) ?? GATEWAY_API_GROUP, kind: r.string(k["kind"], `${at}.allowedRoutes.kinds[${i}].kind`, true) ?? "" };
  });
  const tls = tlsOf(raw["tls"], `${at}.tls`, protocol, r);
  return { name, port, protocol, hostname, allowedRoutes: { from, selector, kinds }, ...(tls === undefined ? {} : { tls }) };
}

/** ListenerTLSConfig, with the CRD's CEL rules on Listeners (gateway-api apis/v1/gateway_types.go):
 * no tls for HTTP, TCP, UDP; a mode for TLS; mode Terminate (the default) only for HTTPS;
 * Terminate needs certificateRefs (or options, which vipr does not read). The certificate
 * refs' namespace is filled in by the caller (the Gateway's). */
function tlsOf(value: unknown, at: string, protocol: string, r: Reader): ListenerTLS | undefined {
  const given = value !== undefined && value !== null;
  if (given && ["HTTP", "TCP", "UDP"].includes(protocol)) r.problem(at, `tls must not be specified for protocol ${protocol}`);
  // The CRD requires a mode for TLS listeners; an HTTPS listener without tls is stored, and gets
  // ResolvedRefs False InvalidCertificateRef (gateway-listener-tls.ts).
  if (!given) {
    if (protocol === "TLS") r.problem(`${at}.mode`, "tls mode must be set for protocol TLS");
    return undefined;
  }
  const raw = r.record(value, at);
  const mode = r.oneOf(raw["mode"], `${at}.mode`, ["Terminate", "Passthrough"] as const, "Terminate");
  if (protocol === "HTTPS" && mode !== "Terminate") r.problem(`${at}.mode`, "tls mode must be Terminate for protocol HTTPS");
  const certificateRefs = r.list(raw["certificateRefs"], `${at}.certificateRefs`, 64).map((item, i) => {
    const c = r.record(item, `${at}.certificateRefs[${i}]`);
    return {
      group: r.string(c["group"], `${at}.certificateRefs[${i}].group`, false) ?? "",
      kind: r.string(c["kind"], `${at}.certificateRefs[${i}].kind`, false) ?? "Secret",
      namespace: r.string(c["namespace"], `${at}.certificateRefs[${i}].namespace`, false) ?? "",
      name: r.string(c["name"], `${at}.certificateRefs[${i}].name`, true) ?? "",
    };
  });
  const options = r.record(raw["options"], `${at}.options`);
  if (mode === "Terminate" && certificateRefs.length === 0 && Object.keys(options).length === 0) r.problem(`${at}.certificateRefs`, "certificateRefs or options must be specified when mode is Terminate");
  return { mode, certificateRefs };
}

export function parseGateway(raw: Raw, defaultNamespace: string): Parsed<Gateway> {
  const r = new Reader(whereOf("Gateway", raw, defaultNamespace, false));
  const meta = metaOf(raw, r, defaultNamespace, false);
  const spec = r.record(raw["spec"], "spec");
  const gatewayClassName = r.string(spec["gatewayClassName"], "spec.gatewayClassName", true) ?? "";
  const listeners = r
    .list(spec["listeners"], "spec.listeners", 64)
    .map((item, i) => listenerOf(item, `spec.listeners[${i}]`, r))
    // A certificateRef without a namespace names a Secret in the Gateway's own namespace.
    .map((l) => (l.tls === undefined ? l : { ...l, tls: { ...l.tls, certificateRefs: l.tls.certificateRefs.map((c) => (c.namespace === "" ? { ...c, namespace: meta.namespace } : c)) } }));
  if (listeners.length === 0) r.problem("spec.listeners", "at least one listener");
  const names = new Set<string>();
  listeners.forEach((listener, i) => {
    if (names.has(listener.name)) r.problem(`spec.listeners[${i}].name`, `${JSON.stringify(listener.name)} is used by another listener; names must be unique`);
    names.add(listener.name);
  });
  return done(r, { meta, gatewayClassName, listeners });
}

export function parentRefOf(value: unknown, at: string, namespace: string, r: Reader): ParentRef {
  const raw = r.record(value, at);
  return {
    group: r.string(raw["group"], `${at}.group`, false) ?? GATEWAY_API_GROUP,
    kind: r.string(raw["kind"], `${at}.kind`, false) ?? "Gateway",
    namespace: r.string(raw["namespace"], `${at}.namespace`, false) ?? namespace,
    name: r.string(raw["name"], `${at}.name`, true) ?? "",
    sectionName: r.string(raw["sectionName"], `${at}.sectionName`, false),
    port: r.port(raw["port"], `${at}.port`, false),
  };
}

export function valueMatchOf(value: unknown, at: string, r: Reader, header: boolean): ValueMatch {
  const raw = r.record(value, at);
  const type = r.oneOf(raw["type"], `${at}.type`, ["Exact", "RegularExpression"] as const, "Exact");
  const name = r.string(raw["name"], `${at}.name`, true) ?? "";
  if (name !== "" && header && !headerNamePattern.test(name)) r.problem(`${at}.name`, `${JSON.stringify(name)} is not a header name`);
  const text = r.string(raw["value"], `${at}.value`, true) ?? "";
  if (type === "RegularExpression") checkRegExp(text, `${at}.value`, r);
  return { type, name: header ? name.toLowerCase() : name, value: text };
}

export function checkRegExp(pattern: string, field: string, r: Reader): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    r.problem(field, `${JSON.stringify(pattern)} is not a regular expression: ${(error as Error).message}`);
  }
}

function matchOf(value: unknown, at: string, r: Reader): HTTPRouteMatch {
  const raw = r.record(value, at);
  const pathRaw = r.record(raw["path"], `${at}.path`);
  const type = r.oneOf(pathRaw["type"], `${at}.path.type`, ["Exact", "PathPrefix", "RegularExpression"] as const, "PathPrefix");
  const pathValue = r.string(pathRaw["value"], `${at}.path.value`, false) ?? "/";
  if (type === "RegularExpression") checkRegExp(pathValue, `${at}.path.value`, r);
  else if (!pathValue.startsWith("/")) r.problem(`${at}.path.value`, `${JSON.stringify(pathValue)} must start with "/"`);
  // The CRD's CEL rules: no "//", "/./", "/../", "%2f", "#" in a prefix or exact path.
  else if (/\/\/|\/\.\.?(\/|$)|%2f|%2F|#/.test(pathValue)) r.problem(`${at}.path.value`, `${JSON.stringify(pathValue)} must be an absolute path without "//", "/./", "/../", "%2f" or "#"`);
  const headers = r.list(raw["headers"], `${at}.headers`, 16).map((item, i) => valueMatchOf(item, `${at}.headers[${i}]`, r, true));
  const queryParams = r.list(raw["queryParams"], `${at}.queryParams`, 16).map((item, i) => valueMatchOf(item, `${at}.queryParams[${i}]`, r, false));
  const method = r.string(raw["method"], `${at}.method`, false);
  if (method !== undefined && !methods.has(method)) r.problem(`${at}.method`, `${JSON.stringify(method)} is not one of ${[...methods].join(", ")}`);
  return { path: { type, value: pathValue }, headers, queryParams, method };
}

function headerModifierOf(value: unknown, at: string, r: Reader): HeaderModifier {
  const raw = r.record(value, at);
  const pairs = (field: string) =>
    r.list(raw[field], `${at}.${field}`, 16).map((item, i) => {
      const p = r.record(item, `${at}.${field}[${i}]`);
      const name = r.string(p["name"], `${at}.${field}[${i}].name`, true) ?? "";
      if (name !== "" && !headerNamePattern.test(name)) r.problem(`${at}.${field}[${i}].name`, `${JSON.stringify(name)} is not a header name`);
      return { name: name.toLowerCase(), value: r.string(p["value"], `${at}.${field}[${i}].value`, true) ?? "" };
    });
  return { set: pairs("set"), add: pairs("add"), remove: r.list(raw["remove"], `${at}.remove`, 16).map((name) => String(name).toLowerCase()) };
}

function pathModifierOf(value: unknown, at: string, r: Reader): PathModifier | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = r.record(value, at);
  const type = r.oneOf(raw["type"], `${at}.type`, ["ReplaceFullPath", "ReplacePrefixMatch"] as const, "ReplaceFullPath");
  const field = type === "ReplaceFullPath" ? "replaceFullPath" : "replacePrefixMatch";
  const text = r.string(raw[field], `${at}.${field}`, true) ?? "/";
  if (!text.startsWith("/")) r.problem(`${at}.${field}`, `${JSON.stringify(text)} must start with "/"`);
  return { type, value: text };
}

export function backendOf(raw: Raw, at: string, namespace: string, r: Reader): BackendObjectRef {
  const group = r.string(raw["group"], `${at}.group`, false) ?? "";
  const kind = r.string(raw["kind"], `${at}.kind`, false) ?? "Service";
  // The CRD's CEL rule: a Service backendRef must name a port.
  const port = r.port(raw["port"], `${at}.port`, group === "" && kind === "Service");
  return { group, kind, namespace: r.string(raw["namespace"], `${at}.namespace`, false) ?? namespace, name: r.string(raw["name"], `${at}.name`, true) ?? "", port };
}

export function filterOf(value: unknown, at: string, namespace: string, r: Reader): HTTPRouteFilter | undefined {
  const raw = r.record(value, at);
  const type = r.string(raw["type"], `${at}.type`, true);
  switch (type) {
    case "RequestHeaderModifier":
      return { type, modifier: headerModifierOf(raw["requestHeaderModifier"], `${at}.requestHeaderModifier`, r) };
    case "ResponseHeaderModifier":
      return { type, modifier: headerModifierOf(raw["responseHeaderModifier"], `${at}.responseHeaderModifier`, r) };
    case "RequestRedirect": {
      const f = r.record(raw["requestRedirect"], `${at}.requestRedirect`);
      const scheme = f["scheme"] === undefined ? undefined : r.oneOf(f["scheme"], `${at}.requestRedirect.scheme`, ["http", "https"] as const, "http");
      const statusCode = f["statusCode"] ?? 302;
      if (![301, 302, 303, 307, 308].includes(statusCode as number)) r.problem(`${at}.requestRedirect.statusCode`, `${JSON.stringify(statusCode)} is not one of 301, 302, 303, 307, 308`);
      return {
        type,
        redirect: {
          scheme,
          hostname: r.hostname(f["hostname"], `${at}.requestRedirect.hostname`),
          path: pathModifierOf(f["path"], `${at}.requestRedirect.path`, r),
          port: r.port(f["port"], `${at}.requestRedirect.port`, false),
          statusCode: statusCode as 301 | 302 | 303 | 307 | 308,
        },
      };
    }
    case "URLRewrite": {
      const f = r.record(raw["urlRewrite"], `${at}.urlRewrite`);
      return { type, rewrite: { hostname: r.hostname(f["hostname"], `${at}.urlRewrite.hostname`), path: pathModifierOf(f["path"], `${at}.urlRewrite.path`, r) } };
    }
    case "RequestMirror": {
      const f = r.record(raw["requestMirror"], `${at}.requestMirror`);
      const backend = backendOf(r.record(f["backendRef"], `${at}.requestMirror.backendRef`), `${at}.requestMirror.backendRef`, namespace, r);
      let fraction = 1;
      if (f["percent"] !== undefined) {
        const percent = f["percent"];
        if (typeof percent !== "number" || !Number.isInteger(percent) || percent < 0 || percent > 100) r.problem(`${at}.requestMirror.percent`, `${JSON.stringify(percent)} is not a whole number 0-100`);
        else fraction = percent / 100;
      } else if (f["fraction"] !== undefined) {
        const fr = r.record(f["fraction"], `${at}.requestMirror.fraction`);
        const numerator = fr["numerator"];
        const denominator = fr["denominator"] ?? 100;
        if (typeof numerator !== "number" || typeof denominator !== "number" || numerator < 0 || denominator < 1 || numerator > denominator) {
          r.problem(`${at}.requestMirror.fraction`, "numerator must be 0..denominator and denominator at least 1");
        } else fraction = numerator / denominator;
      }
      return { type, mirror: { backend, fraction } };
    }
    case "CORS": {
      const f = r.record(raw["cors"], `${at}.cors`);
      const strings = (field: string) => r.list(f[field], `${at}.cors.${field}`, 64).map((v, i) => r.string(v, `${at}.cors.${field}[${i}]`, true) ?? "");
      const allowOrigins = strings("allowOrigins");
      allowOrigins.forEach((origin, i) => {
        if (origin !== "*" && !/^[a-z][a-z0-9+.-]*:\/\/(\*\.)?[a-z0-9.-]+(:[0-9]{1,5})?$/i.test(origin)) r.problem(`${at}.cors.allowOrigins[${i}]`, `${JSON.stringify(origin)} is not "*" or scheme://host[:port]`);
      });
      const maxAge = f["maxAge"] ?? 5;
      if (typeof maxAge !== "number" || !Number.isInteger(maxAge) || maxAge < 1) r.problem(`${at}.cors.maxAge`, `${JSON.stringify(maxAge)} is not a whole number of seconds, at least 1`);
      const credentials = f["allowCredentials"] ?? false;
      if (typeof credentials !== "boolean") r.problem(`${at}.cors.allowCredentials`, `${JSON.stringify(credentials)} is not true or false`);
      return {
        type,
        cors: {
          allowOrigins,
          allowCredentials: credentials === true,
          allowMethods: strings("allowMethods"),
          allowHeaders: strings("allowHeaders").map((h) => h.toLowerCase()),
          exposeHeaders: strings("exposeHeaders").map((h) => h.toLowerCase()),
          maxAgeSeconds: typeof maxAge === "number" ? maxAge : 5,
        },
      };
    }
    case "ExtensionRef":
      return { type, unsupported: `${type} filters are not supported by vipr` };
    case undefined:
      return undefined;
    default:
      r.problem(`${at}.type`, `${JSON.stringify(type)} is not a filter type`);
      return undefined;
  }
}

function filtersOf(value: unknown, at: string, namespace: string, r: Reader): HTTPRouteFilter[] {
  const filters = r.list(value, at, 16)
    .map((item, i) => filterOf(item, `${at}[${i}]`, namespace, r))
    .filter((f): f is HTTPRouteFilter => f !== undefined);
  // The CRD's CEL rules: a redirect and a rewrite cannot be combined; each of these at most once.
  const count = (type: string) => filters.filter((f) => f.type === type).length;
  if (count("RequestRedirect") > 0 && count("URLRewrite") > 0) r.problem(at, "RequestRedirect and URLRewrite cannot both be set");
  for (const type of ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "CORS"]) {
    if (count(type) > 1) r.problem(at, `${type} may appear at most once`);
  }
  return filters;
}

/** A backendRef's weight (BackendRef.Weight: 0 to 1000000, default 1). */
export function backendWeightOf(b: Raw, at: string, r: Reader): number {
  const weight = b["weight"] ?? 1;
  if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 0 || weight > 1_000_000) r.problem(`${at}.weight`, `${JSON.stringify(weight)} is not a whole number 0-1000000`);
  return typeof weight === "number" ? weight : 1;
}

/** What every route kind's spec shares (CommonRouteSpec.ParentRefs and Hostnames), with the
 * object's meta, its spec and the Reader that collects its problems. */
export function routeOf(kind: "HTTPRoute" | "GRPCRoute", raw: Raw, defaultNamespace: string): { r: Reader; meta: ObjectMeta; spec: Raw; parentRefs: ParentRef[]; hostnames: string[] } {
  const r = new Reader(whereOf(kind, raw, defaultNamespace, false));
  const meta = metaOf(raw, r, defaultNamespace, false);
  const spec = r.record(raw["spec"], "spec");
  const parentRefs = r.list(spec["parentRefs"], "spec.parentRefs", 32).map((item, i) => parentRefOf(item, `spec.parentRefs[${i}]`, meta.namespace, r));
  const hostnames = r
    .list(spec["hostnames"], "spec.hostnames", 16)
    .map((h, i) => r.hostname(h, `spec.hostnames[${i}]`))
    .filter((h): h is string => h !== undefined);
  return { r, meta, spec, parentRefs, hostnames };
}

function ruleOf(value: unknown, at: string, namespace: string, r: Reader): HTTPRouteRule {
  const raw = r.record(value, at);
  const matchesRaw = r.list(raw["matches"], `${at}.matches`, 64);
  // An omitted match list is one match of every request: a PathPrefix "/" (the CRD's default).
  const matches = matchesRaw.length === 0 ? [{ path: { type: "PathPrefix" as const, value: "/" }, headers: [], queryParams: [], method: undefined }] : matchesRaw.map((m, i) => matchOf(m, `${at}.matches[${i}]`, r));
  const filters = filtersOf(raw["filters"], `${at}.filters`, namespace, r);
  const backendRefs: HTTPBackendRef[] = r.list(raw["backendRefs"], `${at}.backendRefs`, 16).map((item, i) => {
    const b = r.record(item, `${at}.backendRefs[${i}]`);
    const weight = backendWeightOf(b, `${at}.backendRefs[${i}]`, r);
    const filters = b["filters"] === undefined ? undefined : filtersOf(b["filters"], `${at}.backendRefs[${i}].filters`, namespace, r);
    return { ...backendOf(b, `${at}.backendRefs[${i}]`, namespace, r), weight, ...(filters === undefined ? {} : { filters }) };
  });
  const t = r.record(raw["timeouts"], `${at}.timeouts`);
  const timeouts = { requestMs: r.duration(t["request"], `${at}.timeouts.request`), backendRequestMs: r.duration(t["backendRequest"], `${at}.timeouts.backendRequest`) };
  // GEP-1742: backendRequest must not exceed request (both nonzero).
  if (timeouts.requestMs && timeouts.backendRequestMs && timeouts.backendRequestMs > timeouts.requestMs) {
    r.problem(`${at}.timeouts.backendRequest`, "must not be longer than timeouts.request");
  }
  let retry: HTTPRouteRule["retry"];
  if (raw["retry"] !== undefined) {
    const rr = r.record(raw["retry"], `${at}.retry`);
    const attempts = rr["attempts"];
    if (attempts !== undefined && (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 0)) r.problem(`${at}.retry.attempts`, `${JSON.stringify(attempts)} is not a whole number`);
    const codes = r.list(rr["codes"], `${at}.retry.codes`).map((code, i) => {
      if (typeof code !== "number" || code < 400 || code > 599) r.problem(`${at}.retry.codes[${i}]`, `${JSON.stringify(code)} is not a status code 400-599`);
      return Number(code);
    });
    retry = { attempts: typeof attempts === "number" ? attempts : undefined, codes, backoffMs: r.duration(rr["backoff"], `${at}.retry.backoff`) };
  }
  return { name: r.string(raw["name"], `${at}.name`, false), matches, filters, backendRefs, timeouts, retry };
}

export function parseHTTPRoute(raw: Raw, defaultNamespace: string): Parsed<HTTPRoute> {
  const { r, meta, spec, parentRefs, hostnames } = routeOf("HTTPRoute", raw, defaultNamespace);
  const rulesRaw = r.list(spec["rules"], "spec.rules", 16);
  // The CRD's default: one rule matching every request, with no backends (answered 500).
  const rules = rulesRaw.length === 0 ? [ruleOf({}, "spec.rules[0]", meta.namespace, r)] : rulesRaw.map((rule, i) => ruleOf(rule, `spec.rules[${i}]`, meta.namespace, r));
  return done(r, { meta, parentRefs, hostnames, rules });
}

export function parseReferenceGrant(raw: Raw, defaultNamespace: string): Parsed<ReferenceGrant> {
  const r = new Reader(whereOf("ReferenceGrant", raw, defaultNamespace, false));
  const meta = metaOf(raw, r, defaultNamespace, false);
  const spec = r.record(raw["spec"], "spec");
  const from = r.list(spec["from"], "spec.from", 16).map((item, i) => {
    const f = r.record(item, `spec.from[${i}]`);
    return { group: r.string(f["group"], `spec.from[${i}].group`, true) ?? "", kind: r.string(f["kind"], `spec.from[${i}].kind`, true) ?? "", namespace: r.string(f["namespace"], `spec.from[${i}].namespace`, true) ?? "" };
  });
  const to = r.list(spec["to"], "spec.to", 16).map((item, i) => {
    const t = r.record(item, `spec.to[${i}]`);
    return { group: r.string(t["group"], `spec.to[${i}].group`, true) ?? "", kind: r.string(t["kind"], `spec.to[${i}].kind`, true) ?? "", name: r.string(t["name"], `spec.to[${i}].name`, false) };
  });
  if (from.length === 0) r.problem("spec.from", "at least one entry");
  if (to.length === 0) r.problem("spec.to", "at least one entry");
  return done(r, { meta, from, to });
}

/** Parses one object of a Gateway API kind (its apiVersion already checked). */
export function parseGatewayApiObject(kind: GatewayApiKind, raw: Raw, defaultNamespace: string): Parsed<GatewayClass | Gateway | HTTPRoute | GRPCRoute | ReferenceGrant> {
  if (kind === "GatewayClass") return parseGatewayClass(raw);
  if (kind === "Gateway") return parseGateway(raw, defaultNamespace);
  if (kind === "HTTPRoute") return parseHTTPRoute(raw, defaultNamespace);
  if (kind === "GRPCRoute") return parseGRPCRoute(raw, defaultNamespace);
  return parseReferenceGrant(raw, defaultNamespace);
}

/** The Gateway API kind of an object, if it is one vipr reads (apiVersion checked by the caller). */
export function gatewayApiKindOf(kind: unknown): GatewayApiKind | undefined {
  return kind === "GatewayClass" || kind === "Gateway" || kind === "HTTPRoute" || kind === "GRPCRoute" || kind === "ReferenceGrant" ? kind : undefined;
}

/** Raw objects of the five kinds (any order) to the compiler's input, with every problem; an
 * object with a problem is left out. Objects of other kinds are ignored. */
export function gatewayApiObjectsFrom(raws: readonly unknown[], defaultNamespace: string): { objects: GatewayApiObjects; problems: string[] } {
  const gatewayClasses: GatewayClass[] = [];
  const gateways: Gateway[] = [];
  const httpRoutes: HTTPRoute[] = [];
  const grpcRoutes: GRPCRoute[] = [];
  const referenceGrants: ReferenceGrant[] = [];
  const problems: string[] = [];
  const keep = <T>(parsed: Parsed<T>, into: T[]): void => {
    if (parsed.ok) into.push(parsed.value);
    else problems.push(...parsed.problems);
  };
  for (const raw of raws) {
    if (!isRecord(raw)) continue;
    const kind = gatewayApiKindOf(raw["kind"]);
    if (kind === undefined) continue;
    if (!GATEWAY_API_VERSIONS[kind].includes(String(raw["apiVersion"]))) {
      problems.push(`${whereOf(kind, raw, defaultNamespace, kind === "GatewayClass")}: apiVersion: ${JSON.stringify(raw["apiVersion"] ?? null)} is not one of ${GATEWAY_API_VERSIONS[kind].join(", ")}`);
      continue;
    }
    if (kind === "GatewayClass") keep(parseGatewayClass(raw), gatewayClasses);
    else if (kind === "Gateway") keep(parseGateway(raw, defaultNamespace), gateways);
    else if (kind === "HTTPRoute") keep(parseHTTPRoute(raw, defaultNamespace), httpRoutes);
    else if (kind === "GRPCRoute") keep(parseGRPCRoute(raw, defaultNamespace), grpcRoutes);
    else keep(parseReferenceGrant(raw, defaultNamespace), referenceGrants);
  }
  return { objects: { gatewayClasses, gateways, httpRoutes, grpcRoutes, referenceGrants }, problems };
}
