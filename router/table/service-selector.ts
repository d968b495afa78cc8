// The equality-based selector of a Service (spec.selector): a map whose every pair must be among
// the pod's labels (labels.SelectorFromSet in apimachinery). The general selector language
// (matchExpressions, the string form) is another module's job; a Service can only say this much.

/**
 * Whether `labels` satisfy a Service's `selector`.
 *
 * An empty or absent selector selects no pod: the EndpointSlice controller skips a Service whose
 * selector is nil (pkg/controller/endpointslice: "services without a selector receive no
 * endpoints"), and an empty map is nil once the API has stored it (the field is omitempty).
 *
 * @example matchesServiceSelector({ app: "sise" }, { app: "sise", tier: "web" }) // true
 */
export function matchesServiceSelector(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | null | undefined,
): boolean {
  if (selector === undefined) return false;
  let pairs = 0;
  for (const key in selector) {
    if (!Object.hasOwn(selector, key)) continue;
    pairs++;
    if (labels == null || !Object.hasOwn(labels, key) || labels[key] !== selector[key]) return false;
  }
  return pairs > 0;
}
