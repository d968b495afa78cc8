// A metav1.LabelSelector against a label set, for allowedRoutes.namespaces.selector: matchLabels
// all equal, and every matchExpression holds (apimachinery pkg/apis/meta/v1 LabelSelector).
import type { LabelSelector } from "./gateway-api-objects.ts";

export function labelSelectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
    if (e.operator === "In" && (!has || !e.values.includes(value!))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(value!)) return false;
  }
  return true;
}
