// fieldSelector on the fake's lists and watches, for the fields every kind supports
// (metadata.name, metadata.namespace; `=`, `==`, `!=`, comma for "and"), which is what kubectl
// sends (`kubectl delete` waits on `fieldSelector=metadata.name=<name>`, `kubectl get <name> -w`
// watches with it). The API server answers 400 for a field a kind does not index.

export type FieldMatcher = (object: { readonly name: string; readonly namespace: string }) => boolean;

export const matchAllFields: FieldMatcher = () => true;

export class FieldSelectorError extends Error {}

/** Throws FieldSelectorError for a field other than metadata.name and metadata.namespace. */
export function compileFieldSelector(text: string | null): FieldMatcher {
  if (text === null || text.trim() === "") return matchAllFields;
  const terms = text.split(",").map((term) => {
    const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*([^\s]*)\s*$/.exec(term);
    if (match === null) throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, operator, value] = match as unknown as [string, string, string, string];
    if (field !== "metadata.name" && field !== "metadata.namespace") throw new FieldSelectorError(`field label not supported: ${field}`);
    return { field, equal: operator !== "!=", value };
  });
  return (object) => terms.every(({ field, equal, value }) => ((field === "metadata.name" ? object.name : object.namespace) === value) === equal);
}
