// Which load-balancing policy a service uses, read from its annotations over the router's
// configured defaults (DESIGN.md, "Choosing one endpoint"). Annotations are written by people and
// a typo must not take a service down, so a bad value never throws: the default stays in force and
// a diagnostic says which annotation, which value, and what was expected (as the table builder
// reports odd Kubernetes fields).
import type { PolicyName } from "./policy-name.ts";
import { slowStartFromAnnotations, type SlowStartConfig } from "./slow-start-config.ts";

export type { PolicyName } from "./policy-name.ts";

/** Where a request's hash key comes from; see hash-key.ts for how each is read. */
export type HashKeySource =
  | { readonly from: "header"; readonly name: string }
  | { readonly from: "cookie"; readonly name: string }
  | { readonly from: "query"; readonly name: string }
  | { readonly from: "client-ip" }
  | { readonly from: "path" };

export interface PolicyConfig {
  readonly policy: PolicyName;
  /** Needed by maglev and bounded-load; a request without the key falls back to least-request. */
  readonly hashKey?: HashKeySource;
  /** Bounded-load factor c >= 1 (Mirrokni, Thorup, Zadimoghaddam 2016); 1.25 keeps every
   * endpoint within 25% of the average in-flight load. */
  readonly loadFactor: number;
  /** A request header whose value is a label selector: the pick is made among matching endpoints. */
  readonly subsetHeader?: string;
  /** Ramp up endpoints that just turned ready (slow-start.ts); only with least-request or
   * round-robin, absent when off. */
  readonly slowStart?: SlowStartConfig;
}

export const LB_POLICY_ANNOTATION = "vipr.io/lb-policy";
export const HASH_KEY_ANNOTATION = "vipr.io/hash-key";
export const LOAD_FACTOR_ANNOTATION = "vipr.io/bounded-load-factor";
export const SUBSET_HEADER_ANNOTATION = "vipr.io/subset-header";

export const DEFAULT_LOAD_FACTOR = 1.25;
export const DEFAULT_POLICY_CONFIG: PolicyConfig = Object.freeze({ policy: "least-request", loadFactor: DEFAULT_LOAD_FACTOR });

const POLICIES: readonly PolicyName[] = ["least-request", "round-robin", "maglev", "bounded-load"];
const SOURCES_EXPECTED = "header:<name>, cookie:<name>, query:<name>, client-ip or path";
// RFC 9110 section 5.6.2 token: header names are tokens, and so are cookie names (RFC 6265 4.1.1).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A plain decimal: "1.25", "2"; not "0x2", "1e1" or "", which Number() would also accept.
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/** A hash key text that does not parse; `detail` is the message without the "hash key " prefix. */
export class HashKeySourceError extends Error {
  readonly detail: string;
  constructor(detail: string) {
    super(`hash key ${detail}`);
    this.name = "HashKeySourceError";
    this.detail = detail;
  }
}

/**
 * Parses `header:x-user`, `cookie:session`, `query:id`, `client-ip` or `path`. Header names are
 * lowercased (HTTP field names are case-insensitive); cookie and query names are kept as written.
 *
 * @example parseHashKeySource("header:X-User") // { from: "header", name: "x-user" }
 * @throws HashKeySourceError, e.g. `hash key "ip" is not a hash key source; expected header:<name>, ...`
 */
export function parseHashKeySource(text: string): HashKeySource {
  const shown = JSON.stringify(text);
  const colon = text.indexOf(":");
  const kind = colon === -1 ? text : text.slice(0, colon);
  const name = colon === -1 ? undefined : text.slice(colon + 1);
  if (kind === "client-ip" || kind === "path") {
    if (name !== undefined) throw new HashKeySourceError(`${shown} takes no name; expected ${kind}`);
    return { from: kind };
  }
  if (kind !== "header" && kind !== "cookie" && kind !== "query") {
    throw new HashKeySourceError(`${shown} is not a hash key source; expected ${SOURCES_EXPECTED}`);
  }
  if (name === undefined || name === "") throw new HashKeySourceError(`${shown} has no name; expected ${kind}:<name>`);
  if (kind === "query") return { from: kind, name };
  if (!TOKEN.test(name)) {
    const rule = kind === "header" ? "a header name (an RFC 9110 token)" : "a cookie name (an RFC 6265 token)";
    throw new HashKeySourceError(`${shown}: ${JSON.stringify(name)} is not ${rule}`);
  }
  return kind === "header" ? { from: kind, name: name.toLowerCase() } : { from: kind, name };
}

/** The text form parseHashKeySource reads: `header:x-user`. */
export function formatHashKeySource(source: HashKeySource): string {
  return source.from === "client-ip" || source.from === "path" ? source.from : `${source.from}:${source.name}`;
}

export interface PolicyResolution {
  readonly config: PolicyConfig;
  /** One line per annotation that was ignored or corrected, e.g.
   * `vipr.io/lb-policy: "ring-hash" is not a load-balancing policy; expected ...; using least-request`. */
  readonly diagnostics: readonly string[];
}

function isPolicy(value: string): value is PolicyName {
  return (POLICIES as readonly string[]).includes(value);
}

function hashed(policy: PolicyName): boolean {
  return policy === "maglev" || policy === "bounded-load";
}

/**
 * The policy of a service: each annotation overrides its default from `defaults` (the router's
 * configuration). A hash key annotation without a policy annotation means maglev (setting a key
 * says "hash on this"), unless the default is already a hashing policy. Maglev or bounded-load
 * with no hash key from either source falls back to least-request, with a diagnostic.
 *
 * @example
 * policyFromAnnotations({ "vipr.io/hash-key": "cookie:session" }).config
 * // { policy: "maglev", hashKey: { from: "cookie", name: "session" }, loadFactor: 1.25 }
 */
export function policyFromAnnotations(
  annotations: Readonly<Record<string, string>>,
  defaults: PolicyConfig = DEFAULT_POLICY_CONFIG,
): PolicyResolution {
  const diagnostics: string[] = [];
  const get = (name: string): string | undefined => (Object.hasOwn(annotations, name) ? annotations[name] : undefined);

  let hashKey = defaults.hashKey;
  let hashKeyAnnotated = false;
  const keyText = get(HASH_KEY_ANNOTATION);
  if (keyText !== undefined) {
    try {
      hashKey = parseHashKeySource(keyText.trim());
      hashKeyAnnotated = true;
    } catch (error) {
      const detail = error instanceof HashKeySourceError ? error.detail : String(error);
      const using = hashKey === undefined ? "no hash key" : formatHashKeySource(hashKey);
      diagnostics.push(`${HASH_KEY_ANNOTATION}: ${detail}; using ${using}`);
    }
  }

  let policy = hashKeyAnnotated && !hashed(defaults.policy) ? "maglev" : defaults.policy;
  let policyAnnotated = false;
  const policyText = get(LB_POLICY_ANNOTATION);
  if (policyText !== undefined) {
    const value = policyText.trim();
    if (isPolicy(value)) {
      policy = value;
      policyAnnotated = true;
    } else {
      diagnostics.push(
        `${LB_POLICY_ANNOTATION}: ${JSON.stringify(policyText)} is not a load-balancing policy; ` +
          `expected least-request, round-robin, maglev or bounded-load; using ${policy}`,
      );
    }
  }
  if (hashed(policy) && hashKey === undefined) {
    const source = policyAnnotated ? `${LB_POLICY_ANNOTATION}: ${JSON.stringify(policy)}` : `configured policy ${JSON.stringify(policy)}`;
    diagnostics.push(`${source} needs a hash key; set ${HASH_KEY_ANNOTATION} (${SOURCES_EXPECTED}); using least-request`);
    policy = "least-request";
  }

  let loadFactor = defaults.loadFactor;
  const factorText = get(LOAD_FACTOR_ANNOTATION);
  if (factorText !== undefined) {
    const value = factorText.trim();
    const factor = DECIMAL.test(value) ? Number(value) : Number.NaN;
    if (!(factor >= 1) || !Number.isFinite(factor)) {
      diagnostics.push(
        `${LOAD_FACTOR_ANNOTATION}: ${JSON.stringify(factorText)} is not a load factor; ` +
          `expected a decimal number of at least 1, such as 1.25; using ${loadFactor}`,
      );
    } else {
      loadFactor = factor;
      if (policy !== "bounded-load") {
        diagnostics.push(`${LOAD_FACTOR_ANNOTATION}: ${JSON.stringify(factorText)} has no effect with policy ${policy}; it applies to bounded-load`);
      }
    }
  }

  let subsetHeader = defaults.subsetHeader;
  const headerText = get(SUBSET_HEADER_ANNOTATION);
  if (headerText !== undefined) {
    const value = headerText.trim();
    if (TOKEN.test(value)) {
      subsetHeader = value.toLowerCase();
    } else {
      diagnostics.push(
        `${SUBSET_HEADER_ANNOTATION}: ${JSON.stringify(headerText)} is not a header name; ` +
          `expected an RFC 9110 token such as x-vipr-subset; using ${subsetHeader ?? "no subset header"}`,
      );
    }
  }

  const slowStart = slowStartFromAnnotations(get, defaults.slowStart, policy, diagnostics);

  const config: PolicyConfig = {
    policy,
    loadFactor,
    ...(hashKey === undefined ? {} : { hashKey }),
    ...(subsetHeader === undefined ? {} : { subsetHeader }),
    ...(slowStart === undefined ? {} : { slowStart }),
  };
  return { config: Object.freeze(config), diagnostics };
}
