// The CORS filter (HTTPCORSFilter, GEP-1767; the Fetch standard's CORS protocol): vipr answers a
// preflight itself (an OPTIONS request with Origin and Access-Control-Request-Method) and adds the
// CORS response fields to an actual request's response, for the origins the filter allows. The
// allowed origin is sent back as the request gave it (never "*"), with Vary: Origin, so the
// answer is right for credentialed requests and for caches alike (as Envoy does).
import type { CORSPolicy } from "./gateway-api-objects.ts";

const patterns = new WeakMap<CORSPolicy, RegExp[]>();

/** An origin pattern as a regular expression: "*" any origin; "https://*.bar.com" any host with
 * one or more labels before "bar.com" (GEP-1767); compared case-insensitively. */
function originPatterns(policy: CORSPolicy): RegExp[] {
  let list = patterns.get(policy);
  if (list === undefined) {
    list = policy.allowOrigins.map((origin) =>
      origin === "*" ? /^.+$/ : new RegExp(`^${origin.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace("*\\.", "[^/:]+\\.")}$`, "i"),
    );
    patterns.set(policy, list);
  }
  return list;
}

export function originAllowed(policy: CORSPolicy, origin: string): boolean {
  return originPatterns(policy).some((re) => re.test(origin));
}

/** The answer to a preflight: 204 with the allowed methods, headers and max age, or without CORS
 * fields when the origin is not allowed (the browser then refuses the actual request). */
export function preflightAnswer(policy: CORSPolicy, origin: string, requestMethod: string, requestHeaders: string | undefined): { status: number; headers: Record<string, string> } {
  if (!originAllowed(policy, origin)) return { status: 204, headers: { vary: "Origin" } };
  const headers: Record<string, string> = { "access-control-allow-origin": origin, vary: "Origin", "access-control-max-age": String(policy.maxAgeSeconds) };
  const methods = policy.allowMethods.includes("*") ? requestMethod : policy.allowMethods.join(", ");
  if (methods !== "") headers["access-control-allow-methods"] = methods;
  const allowHeaders = policy.allowHeaders.includes("*") ? (requestHeaders ?? "") : policy.allowHeaders.join(", ");
  if (allowHeaders !== "") headers["access-control-allow-headers"] = allowHeaders;
  if (policy.exposeHeaders.length > 0) headers["access-control-expose-headers"] = policy.exposeHeaders.join(", ");
  if (policy.allowCredentials) headers["access-control-allow-credentials"] = "true";
  return { status: 204, headers };
}

/** The CORS fields for an actual request's response (name, value, ...), none for an origin not allowed. */
export function corsResponseFields(policy: CORSPolicy, origin: string): string[] {
  if (!originAllowed(policy, origin)) return [];
  const fields = ["access-control-allow-origin", origin, "vary", "Origin"];
  if (policy.allowCredentials) fields.push("access-control-allow-credentials", "true");
  if (policy.exposeHeaders.length > 0) fields.push("access-control-expose-headers", policy.exposeHeaders.join(", "));
  return fields;
}
