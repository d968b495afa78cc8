// The PATCH bodies the API server takes from kubectl: JSON merge patch (RFC 7386, `kubectl scale`
// and `kubectl patch --type=merge`) and strategic merge patch (what client-side `kubectl apply`
// sends; k8s.io/apimachinery/pkg/util/strategicpatch). A strategic patch merges lists of objects
// by their patchMergeKey (containers by name, container ports by containerPort, service ports by
// port, ...) instead of replacing them, and honours the directives `$patch` (replace, delete,
// merge), `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
// The merge keys are the struct tags of the kinds the fake serves, keyed by field name, which
// is enough for them (`ports` tells container ports from service ports by their key).

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (value: Json): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** RFC 7386: objects merge, null deletes, anything else replaces. */
export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}

/** patchMergeKey of the list fields with patchStrategy "merge" in core/v1, apps/v1, meta/v1. */
function mergeKeyOf(field: string, items: readonly Json[]): string | undefined {
  switch (field) {
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "env":
    case "volumes":
    case "imagePullSecrets":
      return "name";
    case "volumeMounts":
      return "mountPath";
    case "volumeDevices":
      return "devicePath";
    case "conditions":
      return "type";
    case "ownerReferences":
      return "uid";
    case "hostAliases":
      return "ip";
    case "ports":
      // Container ports merge by containerPort (with protocol), service ports by port.
      return items.some((item) => isObject(item) && "containerPort" in item) ? "containerPort" : "port";
    default:
      return undefined;
  }
}

/** Lists of scalars with patchStrategy "merge" (metadata.finalizers). */
const mergedPrimitiveLists = new Set(["finalizers"]);

export class PatchError extends Error {}

/** Applies a strategic merge patch to `target` (never changed); throws PatchError on a bad patch. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError(`a strategic merge patch must be a JSON object, got ${JSON.stringify(patch)}`);
  return mergeObject(isObject(target) ? target : {}, patch);
}

function mergeObject(target: JsonObject, patch: JsonObject): JsonObject {
  const directive = patch["$patch"];
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const remove = new Set(Array.isArray(value) ? value.map((v) => JSON.stringify(v)) : []);
      const current = result[field];
      if (Array.isArray(current)) result[field] = current.filter((v) => !remove.has(JSON.stringify(v)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (isObject(value)) {
      if (value["$patch"] === "delete") delete result[key];
      else result[key] = mergeObject(isObject(current) ? current : {}, value);
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, Array.isArray(current) ? current : [], value, patch[`$setElementOrder/${key}`]);
    } else {
      result[key] = value;
    }
  }
  const retain = patch["$retainKeys"];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(field: string, current: readonly Json[], patch: readonly Json[], order: Json): Json[] {
  if (patch.some((item) => isObject(item) && item["$patch"] === "replace")) {
    return structuredClone(patch.filter((item) => !(isObject(item) && item["$patch"] === "replace")));
  }
  if (mergedPrimitiveLists.has(field)) {
    const merged = [...current];
    for (const item of patch) if (!merged.some((m) => JSON.stringify(m) === JSON.stringify(item))) merged.push(item);
    return merged;
  }
  const mergeKey = mergeKeyOf(field, [...current, ...patch]);
  if (mergeKey === undefined) return structuredClone([...patch]);
  const merged: JsonObject[] = current.filter(isObject).map((item) => ({ ...item }));
  const indexOf = (item: JsonObject): number => merged.findIndex((m) => m[mergeKey] === item[mergeKey]);
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`${field}: a list merged by ${mergeKey} holds objects, got ${JSON.stringify(item)}`);
    const at = indexOf(item);
    if (item["$patch"] === "delete") {
      if (at !== -1) merged.splice(at, 1);
    } else if (at === -1) {
      merged.push(mergeObject({}, item));
    } else {
      merged[at] = mergeObject(merged[at]!, item);
    }
  }
  // $setElementOrder lists the merge keys in the wanted order; items it does not name keep theirs.
  if (Array.isArray(order)) {
    const rank = (item: JsonObject): number => {
      const i = order.findIndex((o) => isObject(o) && o[mergeKey] === item[mergeKey]);
      return i === -1 ? order.length : i;
    };
    merged.sort((a, b) => rank(a) - rank(b));
  }
  return merged;
}
