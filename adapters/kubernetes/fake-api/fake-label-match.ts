// labelSelector on the fake's lists and watches, with the same parser the router uses
// (wasm/label-selector.ts) and labels.Requirement.Matches semantics.

import { parseSelector, type Selector } from "../../../wasm/label-selector.ts";

export type LabelMatcher = (labels: Readonly<Record<string, string>> | null | undefined) => boolean;

export const matchEverything: LabelMatcher = () => true;

/** Throws SelectorParseError for text that is not a selector (the fake answers 400). */
export function compileLabelSelector(text: string | null): LabelMatcher {
  if (text === null || text.trim() === "") return matchEverything;
  const selector: Selector = parseSelector(text);
  return (labels) => {
    for (const requirement of selector) {
      const value = labels?.[requirement.key];
      switch (requirement.operator) {
        case "In":
          if (value === undefined || !requirement.values.includes(value)) return false;
          break;
        case "NotIn":
          if (value !== undefined && requirement.values.includes(value)) return false;
          break;
        case "Exists":
          if (value === undefined) return false;
          break;
        case "DoesNotExist":
          if (value !== undefined) return false;
          break;
      }
    }
    return true;
  };
}
