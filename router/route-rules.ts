// Gateway route rules: traffic from outside the cluster carries public host names, not service
// names, so a gateway maps (host, path prefix) to a service, like an Ingress rule
// (networking.k8s.io/v1 Ingress, pathType Prefix) or a Gateway API HTTPRoute with a
// URLRewrite ReplacePrefixMatch filter. Rules are checked before service-name resolution.

/** One rule as written in configuration. */
export interface RouteRuleConfig {
  /** Exact host ("shop.example.com"), a wildcard of one label ("*.example.com"), or absent for any host. */
  readonly host?: string;
  /** Path prefix matched on whole segments ("/api" matches "/api" and "/api/x", not "/apix"); default "/". */
  readonly pathPrefix?: string;
  /** "name" (in the router's namespace) or "namespace/name". */
  readonly service: string;
  /** Service port number or name; default: the service's default port. */
  readonly port?: number | string;
  /** Replaces the matched prefix ("/api" -> "/" turns "/api/items" into "/items"). */
  readonly rewritePrefix?: string;
  /** A label selector: requests on this route go only to the endpoints it matches. */
  readonly subset?: string;
}

/** A validated rule. */
export interface RouteRule {
  readonly host: string | undefined;
  readonly wildcard: boolean;
  readonly pathPrefix: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number | string | undefined;
  readonly rewritePrefix: string | undefined;
  readonly subset: string | undefined;
}

export interface RouteMatch {
  readonly rule: RouteRule;
  /** The path (and query) to send upstream, after any rewrite. */
  readonly path: string;
}

const hostPattern = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Validates rules; throws one error naming every bad rule by index and field. */
export function compileRouteRules(configs: readonly RouteRuleConfig[], namespace: string): RouteRule[] {
  const problems: string[] = [];
  const rules = configs.map((config, index) => {
    const at = `routes[${index}]`;
    const host = config.host?.toLowerCase();
    if (host !== undefined && !hostPattern.test(host)) problems.push(`${at}.host: ${JSON.stringify(config.host)} is not a host name or *.domain`);
    const pathPrefix = config.pathPrefix ?? "/";
    if (!pathPrefix.startsWith("/")) problems.push(`${at}.pathPrefix: ${JSON.stringify(pathPrefix)} must start with "/"`);
    const parts = String(config.service ?? "").split("/");
    const [ns, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [namespace, parts[0]!];
    if (parts.length > 2 || !labelPattern.test(name) || !labelPattern.test(ns)) {
      problems.push(`${at}.service: ${JSON.stringify(config.service)} is not "name" or "namespace/name"`);
    }
    if (config.rewritePrefix !== undefined && !config.rewritePrefix.startsWith("/")) {
      problems.push(`${at}.rewritePrefix: ${JSON.stringify(config.rewritePrefix)} must start with "/"`);
    }
    return {
      host: host?.startsWith("*.") ? host.slice(1) : host,
      wildcard: host?.startsWith("*.") ?? false,
      pathPrefix: pathPrefix.length > 1 && pathPrefix.endsWith("/") ? pathPrefix.slice(0, -1) : pathPrefix,
      namespace: ns,
      service: name,
      port: config.port,
      rewritePrefix: config.rewritePrefix,
      subset: config.subset,
    };
  });
  if (problems.length > 0) throw new Error(`invalid route rules: ${problems.join("; ")}`);
  // Longest prefix first, exact hosts before wildcards, so the first match is the most specific.
  return rules.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || Number(a.wildcard) - Number(b.wildcard));
}

function hostMatches(rule: RouteRule, hostname: string): boolean {
  if (rule.host === undefined) return true;
  if (!rule.wildcard) return hostname === rule.host;
  // "*.example.com" matches exactly one more label: "a.example.com", not "a.b.example.com".
  return hostname.endsWith(rule.host) && hostname.lastIndexOf(".", hostname.length - rule.host.length - 1) === -1 && hostname.length > rule.host.length;
}

function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === "/") return true;
  if (!path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/** The first rule matching the host (without port, lowercase) and path (with query), or undefined. */
export function matchRoute(rules: readonly RouteRule[], hostname: string, pathAndQuery: string): RouteMatch | undefined {
  for (const rule of rules) {
    if (!hostMatches(rule, hostname) || !prefixMatches(rule.pathPrefix, pathAndQuery)) continue;
    if (rule.rewritePrefix === undefined) return { rule, path: pathAndQuery };
    const rest = rule.pathPrefix === "/" ? pathAndQuery.slice(1) : pathAndQuery.slice(rule.pathPrefix.length);
    const base = rule.rewritePrefix.endsWith("/") ? rule.rewritePrefix.slice(0, -1) : rule.rewritePrefix;
    const joined = rest === "" || rest.startsWith("?") ? `${base === "" ? "/" : base}${rest}` : `${base}${rest.startsWith("/") ? rest : `/${rest}`}`;
    return { rule, path: joined };
  }
  return undefined;
}
