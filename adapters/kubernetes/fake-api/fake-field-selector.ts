// fieldSelector on the fake's lists and watches, for the fields every kind supports
// (metadata.name, metadata.namespace; `=`, `==`, `!=`, comma for "and"), which is what kubectl
// sends (`kubectl delete` waits on `fieldSelector=metadata.name=<name>`, `kubectl get <name> -w`
// watches with it), and `type` on Secrets (the API server's secret field selector, which vipr's
// Gateway API source sends to list only kubernetes.io/tls Secrets). The API server answers 400 for
// a field a kind does not index.

export type FieldMatcher = (object: { readonly name: string; readonly namespace: string; readonly object?: Readonly<Record<string, unknown>> }) => boolean;

export const matchAllFields: FieldMatcher = () => true;

export class FieldSelectorError extends Error {}

/** Throws FieldSelectorError for a field other than metadata.name and metadata.namespace (and type,
 * for `kind` Secret). */
export function compileFieldSelector(text: string | null, kind?: string): FieldMatcher {
  if (text === null || text.trim() === "") return matchAllFields;
  const terms = text.split(",").map((term) => {
    const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*([^\s]*)\s*$/.exec(term);
    if (match === null) throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, operator, value] = match as unknown as [string, string, string, string];
    if (field !== "metadata.name" && field !== "metadata.namespace" && !(field === "type" && kind === "Secret")) throw new FieldSelectorError(`field label not supported: ${field}`);
    return { field, equal: operator !== "!=", value };
  });
  const valueOf = (object: Parameters<FieldMatcher>[0], field: string): unknown => (field === "metadata.name" ? object.name : field === "metadata.namespace" ? object.namespace : object.object?.["type"]);
  return (object) => terms.every(({ field, equal, value }) => (valueOf(object, field) === value) === equal);
}
