// Server-side apply, minimal (Kubernetes docs, "Server-Side Apply"): a PATCH with content type
// application/apply-patch+yaml and a fieldManager (what `kubectl apply --server-side` sends)
// creates the object when it does not exist, else merges the applied configuration into it, and
// records in metadata.managedFields that the manager owns the fields it applied (operation
// Apply, fieldsType FieldsV1); a field the manager applied last time and leaves out now is
// removed. Lists are owned as a whole ("f:ports": {}) and replaced by the applied list, not merged
// per merge key ("k:{...}") as a real server does for lists with keys.
// Not modelled: conflicts between managers (409 without force), and fields shared by managers.

import { parse } from "yaml";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);

export const applyPatchContentType = "application/apply-patch+yaml";

/** The applied configuration (YAML, of which JSON is a subset), or why it cannot be read. */
export function parseAppliedConfiguration(text: string): Obj | string {
  try {
    return obj(parse(text)) ?? "the applied configuration must be an object";
  } catch (error) {
    return `error decoding YAML: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The FieldsV1 set of an applied configuration: "f:<field>" per map key, lists and scalars as leaves. */
export function fieldSet(applied: Obj): Obj {
  const walk = (value: Obj): Obj => {
    const out: Obj = {};
    for (const [key, child] of Object.entries(value)) {
      const map = obj(child);
      out[`f:${key}`] = map === undefined ? {} : walk(map);
    }
    return out;
  };
  // Identity is not owned: apiVersion, kind, metadata.name and metadata.namespace.
  const { apiVersion: _a, kind: _k, metadata, ...rest } = applied;
  const { name: _n, namespace: _ns, ...ownMetadata } = obj(metadata) ?? {};
  const fields = walk(rest);
  const metadataFields = walk(ownMetadata);
  if (Object.keys(metadataFields).length > 0) fields["f:metadata"] = metadataFields;
  return fields;
}

/** `object` (a fresh copy the caller owns) with the manager's Apply entry replaced. */
export function recordApply(object: Obj, applied: Obj, manager: string, apiVersion: string, now: number): Obj {
  const metadata = (object["metadata"] = { ...obj(object["metadata"]) });
  const others = (Array.isArray(metadata["managedFields"]) ? metadata["managedFields"] : []).filter((entry) => !(obj(entry)?.["manager"] === manager && obj(entry)?.["operation"] === "Apply"));
  const time = new Date(Math.floor(now / 1000) * 1000).toISOString().replace(".000Z", "Z");
  metadata["managedFields"] = [...others, { manager, operation: "Apply", apiVersion, time, fieldsType: "FieldsV1", fieldsV1: fieldSet(applied) }];
  return object;
}

/** Maps merged key by key; lists and scalars replaced whole (the fake owns lists atomically). */
function mergeApplied(current: Obj, applied: Obj): Obj {
  const out: Obj = { ...current };
  for (const [key, value] of Object.entries(applied)) {
    const into = obj(out[key]);
    const from = obj(value);
    out[key] = into !== undefined && from !== undefined ? mergeApplied(into, from) : structuredClone(value);
  }
  return out;
}

/** Removes from `object` the fields `before` owned that `after` no longer does. */
function dropReleased(object: Obj, before: Obj, after: Obj): void {
  for (const [owned, children] of Object.entries(before)) {
    if (!owned.startsWith("f:")) continue;
    const key = owned.slice(2);
    // The object's own metadata holds its identity, never owned, so it is never released whole.
    const still = obj(after[owned]) ?? (owned === "f:metadata" ? {} : undefined);
    if (still === undefined) delete object[key];
    else {
      const child = obj(object[key]);
      const grandChildren = obj(children);
      if (child !== undefined && grandChildren !== undefined && Object.keys(grandChildren).length > 0) dropReleased(child, grandChildren, still);
    }
  }
}

/** The manager's fields from its last Apply, as recorded in metadata.managedFields. */
function previousFields(current: Obj, manager: string): Obj | undefined {
  const entries = obj(current["metadata"])?.["managedFields"];
  const entry = (Array.isArray(entries) ? entries : []).map(obj).find((e) => e?.["manager"] === manager && e?.["operation"] === "Apply");
  return obj(entry?.["fieldsV1"]);
}

/**
 * The object after `manager` applies `applied` to `current` (undefined: it is created from
 * `applied`): the applied fields set, and those it applied last time but not now removed.
 */
export function appliedObject(current: Obj | undefined, applied: Obj, manager: string): Obj {
  if (current === undefined) return structuredClone(applied);
  const next = mergeApplied(structuredClone(current) as Obj, applied);
  const before = previousFields(current, manager);
  if (before !== undefined) dropReleased(next, before, fieldSet(applied));
  return next;
}
