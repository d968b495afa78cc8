// An endpoint's weight: how much of the service's traffic it takes relative to the others (1 when
// nothing says otherwise). Kubernetes has no per-endpoint weight (EndpointSlice v1 has none), so
// vipr reads one annotation, `vipr.io/weight`, from the two objects that describe an endpoint:
// - on the Pod, for that pod's endpoint, wherever the Pod is known (always when endpoints come
//   from Pods; with EndpointSlices when pods are watched and the targetRef is the same pod);
// - on an EndpointSlice, for every endpoint the slice lists (slices written by hand or by a
//   controller that splits traffic, such as a Gateway API backend's share).
// The Pod's value wins over the slice's: it is the more specific of the two.
//
// The value is a whole number from 1 to 65535, the range the weighted Maglev table takes
// (wasm/maglev-plan.ts); least-request and round robin read the same number. A value outside it
// is reported as a table diagnostic and ignored (the build never fails on an annotation).

import { MAX_MAGLEV_WEIGHT } from "../../wasm/maglev-plan.ts";
import type { TableDiagnostic } from "./routing-table.ts";
import { diagnostic, show, type DiagnosticSubject } from "./table-diagnostic.ts";

export const WEIGHT_ANNOTATION = "vipr.io/weight";

/**
 * The `vipr.io/weight` annotation of an object's metadata, or undefined when it has none or it is
 * not a whole number from 1 to 65535 (then a diagnostic names the value).
 * @example readWeightAnnotation({ "vipr.io/weight": "3" }, subject, out) // 3
 */
export function readWeightAnnotation(annotations: unknown, subject: DiagnosticSubject, out: TableDiagnostic[]): number | undefined {
  if (annotations == null || typeof annotations !== "object") return undefined;
  const raw: unknown = (annotations as Record<string, unknown>)[WEIGHT_ANNOTATION];
  if (raw === undefined) return undefined;
  // Digits only: "2.5", "1e3" or " 2" are refused rather than read in a way the author did not mean.
  const weight = typeof raw === "string" && /^[0-9]{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (weight >= 1 && weight <= MAX_MAGLEV_WEIGHT) return weight;
  out.push(
    diagnostic(subject, `metadata.annotations[${show(WEIGHT_ANNOTATION)}]`, `${show(raw)} is not a weight; expected a whole number from 1 to ${MAX_MAGLEV_WEIGHT}; annotation ignored`),
  );
  return undefined;
}
