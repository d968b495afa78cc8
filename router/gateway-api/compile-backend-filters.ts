// A backendRef's own filters (HTTPBackendRef.filters: "executed if and only if the request is
// being forwarded to the backend defined here"), compiled once for the routing step
// (gateway-routing.ts), which applies them after the rule's when that backend is the weighted
// choice. Pure.
//
// vipr applies RequestHeaderModifier, ResponseHeaderModifier, URLRewrite, RequestRedirect and
// RequestMirror there. CORS is the rule's: a preflight is answered before any backend is chosen,
// so a backend's CORS could not hold for it; like an ExtensionRef it is a filter vipr cannot
// apply, and the spec's rule for those is an error answer, never a skipped filter
// (HTTPRouteFilter: "the filter MUST NOT be skipped").
import type { BackendObjectRef, HTTPRouteFilter, HeaderModifier, RequestMirror, RequestRedirect, URLRewrite } from "./gateway-api-objects.ts";

export interface BackendFilters {
  readonly requestHeaders: HeaderModifier | undefined;
  readonly responseHeaders: HeaderModifier | undefined;
  readonly rewrite: URLRewrite | undefined;
  readonly redirect: RequestRedirect | undefined;
  readonly mirrors: readonly { readonly mirror: RequestMirror; readonly invalid: string | undefined }[];
  /** A filter vipr cannot apply here: requests sent to this backend get a 500 saying so. */
  readonly unsupported: string | undefined;
}

/**
 * The filters of a backendRef, or undefined when it has none. `checkMirror` says why a mirror's
 * backend cannot be used (the rule's reference checks: kind, ReferenceGrant, existence), or
 * undefined when it can.
 */
export function compileBackendFilters(filters: readonly HTTPRouteFilter[] | undefined, checkMirror: (ref: BackendObjectRef) => string | undefined): BackendFilters | undefined {
  if (filters === undefined || filters.length === 0) return undefined;
  let requestHeaders: HeaderModifier | undefined;
  let responseHeaders: HeaderModifier | undefined;
  let rewrite: URLRewrite | undefined;
  let redirect: RequestRedirect | undefined;
  let unsupported: string | undefined;
  const mirrors: { mirror: RequestMirror; invalid: string | undefined }[] = [];
  for (const filter of filters) {
    if (filter.type === "RequestHeaderModifier") requestHeaders = filter.modifier;
    else if (filter.type === "ResponseHeaderModifier") responseHeaders = filter.modifier;
    else if (filter.type === "URLRewrite") rewrite = filter.rewrite;
    else if (filter.type === "RequestRedirect") redirect = filter.redirect;
    else if (filter.type === "RequestMirror") mirrors.push({ mirror: filter.mirror, invalid: checkMirror(filter.mirror.backend) });
    else if (filter.type === "CORS") unsupported ??= "a CORS filter on a backendRef is not supported by vipr (a preflight is answered before a backend is chosen); put it on the rule";
    else unsupported ??= filter.unsupported;
  }
  return { requestHeaders, responseHeaders, rewrite, redirect, mirrors, unsupported };
}
