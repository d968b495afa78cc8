// GRPCRoute (gateway.networking.k8s.io/v1) YAML or API JSON to a validated value, refusing what the
// CRD's validation refuses (gateway-api apis/v1/grpcroute_types.go kubebuilder markers and CEL
// rules), with the shared field readers of parse-gateway-api.ts. An object with a problem is
// dropped whole, as the API server would never have stored it.
import type { GRPCMethodMatch, GRPCRoute, GRPCRouteFilter, GRPCRouteMatch, GRPCRouteRule, HTTPBackendRef, ValueMatch } from "./gateway-api-objects.ts";
import { backendOf, backendWeightOf, checkRegExp, done, filterOf, Reader, routeOf, valueMatchOf, type Parsed, type Raw } from "./parse-gateway-api.ts";

// GRPCMethodMatch's CEL rules for Exact matches: a protobuf service name (package-qualified, an
// optional leading dot, case-insensitive) and a method name.
const servicePattern = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
const methodPattern = /^[A-Za-z_][A-Za-z_0-9]*$/;
const GRPC_FILTERS = new Set(["RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "ExtensionRef"]);

function methodMatchOf(value: unknown, at: string, r: Reader): GRPCMethodMatch | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = r.record(value, at);
  const type = r.oneOf(raw["type"], `${at}.type`, ["Exact", "RegularExpression"] as const, "Exact");
  const part = (field: "service" | "method", pattern: RegExp): string | undefined => {
    const text = r.string(raw[field], `${at}.${field}`, false);
    if (text === undefined || text === "") return undefined;
    if (text.length > 1024) r.problem(`${at}.${field}`, `at most 1024 characters, got ${text.length}`);
    else if (type === "RegularExpression") checkRegExp(text, `${at}.${field}`, r);
    else if (!pattern.test(text)) r.problem(`${at}.${field}`, `${JSON.stringify(text)} must match ${pattern.source} for an Exact match`);
    return text;
  };
  const service = part("service", servicePattern);
  const method = part("method", methodPattern);
  if (service === undefined && method === undefined) r.problem(at, "one or both of service and method must be given");
  return { type, service, method };
}

function matchOf(value: unknown, at: string, r: Reader): GRPCRouteMatch {
  const raw = r.record(value, at);
  const method = methodMatchOf(raw["method"], `${at}.method`, r);
  const headers: ValueMatch[] = [];
  r.list(raw["headers"], `${at}.headers`, 16).forEach((item, i) => {
    const header = valueMatchOf(item, `${at}.headers[${i}]`, r, true);
    if (header.value === "") r.problem(`${at}.headers[${i}].value`, "must not be empty");
    // GRPCHeaderMatch.Name: "only the first entry with an equivalent name MUST be considered".
    if (!headers.some((h) => h.name === header.name)) headers.push(header);
  });
  return { method, headers };
}

function filtersOf(value: unknown, at: string, namespace: string, r: Reader): GRPCRouteFilter[] {
  const filters: GRPCRouteFilter[] = [];
  r.list(value, at, 16).forEach((item, i) => {
    const type = r.record(item, `${at}[${i}]`)["type"];
    if (typeof type === "string" && !GRPC_FILTERS.has(type)) {
      r.problem(`${at}[${i}].type`, `${JSON.stringify(type)} is not a GRPCRoute filter type (${[...GRPC_FILTERS].join(", ")})`);
      return;
    }
    const filter = filterOf(item, `${at}[${i}]`, namespace, r);
    if (filter !== undefined) filters.push(filter as GRPCRouteFilter);
  });
  // The CRD's CEL rules: each header modifier at most once.
  for (const type of ["RequestHeaderModifier", "ResponseHeaderModifier"]) {
    if (filters.filter((f) => f.type === type).length > 1) r.problem(at, `${type} filter cannot be repeated`);
  }
  return filters;
}

function ruleOf(value: unknown, at: string, namespace: string, r: Reader): GRPCRouteRule {
  const raw = r.record(value, at);
  const matches = r.list(raw["matches"], `${at}.matches`, 64).map((m, i) => matchOf(m, `${at}.matches[${i}]`, r));
  const filters = filtersOf(raw["filters"], `${at}.filters`, namespace, r);
  const backendRefs: HTTPBackendRef[] = r.list(raw["backendRefs"], `${at}.backendRefs`, 16).map((item, i) => {
    const b = r.record(item, `${at}.backendRefs[${i}]`);
    const weight = backendWeightOf(b, `${at}.backendRefs[${i}]`, r);
    if (b["filters"] !== undefined) r.problem(`${at}.backendRefs[${i}].filters`, "per-backend filters are not supported by vipr; put the filters on the rule");
    return { ...backendOf(b, `${at}.backendRefs[${i}]`, namespace, r), weight };
  });
  return { name: r.string(raw["name"], `${at}.name`, false), matches, filters, backendRefs };
}

export function parseGRPCRoute(raw: Raw, defaultNamespace: string): Parsed<GRPCRoute> {
  const { r, meta, spec, parentRefs, hostnames } = routeOf("GRPCRoute", raw, defaultNamespace);
  const rules = r.list(spec["rules"], "spec.rules", 16).map((rule, i) => ruleOf(rule, `spec.rules[${i}]`, meta.namespace, r));
  // The CRD's CEL rule on spec.rules: fewer than 128 matches in all.
  const total = rules.reduce((sum, rule) => sum + rule.matches.length, 0);
  if (total > 128) r.problem("spec.rules", `at most 128 matches across all rules, got ${total}`);
  return done(r, { meta, parentRefs, hostnames, rules });
}
