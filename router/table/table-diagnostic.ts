// Diagnostics: how the builder reports an odd input value instead of throwing. Each names the
// object (kind, namespace/name), the field path inside it, what was wrong and what was done.

import type { TableDiagnostic } from "./routing-table.ts";

export type DiagnosticKind = TableDiagnostic["kind"];

/** The object a diagnostic is about: its kind and where it lives. */
export interface DiagnosticSubject {
  readonly kind: DiagnosticKind;
  readonly namespace: string;
  readonly name: string;
}

export function diagnostic(subject: DiagnosticSubject, field: string, problem: string): TableDiagnostic {
  const where = `${subject.namespace || "<no namespace>"}/${subject.name || "<no name>"}`;
  return Object.freeze({
    kind: subject.kind,
    namespace: subject.namespace,
    name: subject.name,
    field,
    problem,
    message: `${subject.kind} ${where}: ${field}: ${problem}`,
  });
}

/** A value as it appears in a message: strings quoted, objects as JSON, never throwing. */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
