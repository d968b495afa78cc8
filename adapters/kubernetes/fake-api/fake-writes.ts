// The write verbs of the fake API server, as kubectl uses them: create (POST to the collection),
// update (PUT), delete (DELETE, answered with a Success Status), JSON merge patch and strategic
// merge patch (PATCH), and the scale (autoscaling/v1 Scale) and status subresources. Each write
// is defaulted (fake-defaults.ts) and validated (fake-validation.ts) before it is stored, and a
// failure is the Status the API server sends: 404 NotFound, 409 AlreadyExists, 409 Conflict for a
// stale resourceVersion (optimistic concurrency), 422 Invalid with field causes, 415 for a patch
// type the fake does not take (JSON patch) and for a body that is not JSON (protobuf). Server-side
// apply (application/apply-patch+yaml) is fake-server-side-apply.ts.

import { applyDefaults, ClusterIPAllocator } from "./fake-defaults.ts";
import type { FakeObjectState, StoredObject } from "./fake-object-state.ts";
import { jsonMergePatch, PatchError, strategicMergePatch } from "./fake-patch.ts";
import { apiVersionOf, type ApiPath } from "./fake-paths.ts";
import { applyPatchContentType, appliedObject, parseAppliedConfiguration, recordApply } from "./fake-server-side-apply.ts";
import { servedResources, type ServedResource } from "./fake-resources.ts";
import { statusResponse } from "./fake-status.ts";
import { validateObject } from "./fake-validation.ts";
import { generatedName, scaleOf } from "./fake-workload-objects.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);

function objectResponse(stored: StoredObject | Obj, status = 200): Response {
  const body = "json" in stored && typeof stored.json === "string" ? stored.json : JSON.stringify(stored);
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

function qualified(resource: ServedResource): string {
  return resource.group === "" ? resource.resource : `${resource.resource}.${resource.group}`;
}

function notFound(resource: ServedResource, name: string): Response {
  return statusResponse({ code: 404, reason: "NotFound", message: `${qualified(resource)} "${name}" not found`, details: { name, group: resource.group, kind: resource.resource } });
}

function conflict(resource: ServedResource, name: string): Response {
  return statusResponse({
    code: 409,
    reason: "Conflict",
    message: `Operation cannot be fulfilled on ${qualified(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details: { name, group: resource.group, kind: resource.resource },
  });
}

function badRequest(message: string): Response {
  return statusResponse({ code: 400, reason: "BadRequest", message });
}

async function readJson(request: Request): Promise<Obj | Response> {
  // The fake speaks JSON only; a protobuf body (client-go's typed clients) gets 415, on which
  // client-go retries with JSON, as it does against an aggregated server without protobuf.
  const type = (request.headers.get("content-type") ?? "application/json").split(";")[0]!.trim();
  if (type !== "application/json" && !type.endsWith("+json")) {
    return statusResponse({ code: 415, reason: "UnsupportedMediaType", message: `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json; got ${type}` });
  }
  const text = await request.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return obj(parsed) ?? badRequest(`the body of the request must be a JSON object, got ${text.slice(0, 80)}`);
  } catch (error) {
    return badRequest(`the body of the request was in an unknown format: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export class FakeWrites {
  readonly #state: FakeObjectState;
  readonly #ips = new ClusterIPAllocator();

  readonly #now: () => number;

  constructor(state: FakeObjectState, now: () => number = Date.now) {
    this.#state = state;
    this.#now = now;
  }

  /** Answers a POST, PUT, PATCH or DELETE on a parsed API path. */
  async handle(request: Request, path: ApiPath, params: URLSearchParams): Promise<Response> {
    const { resource, name, subresource } = path;
    const namespace = resource.namespaced ? path.namespace : "";
    const dryRun = params.getAll("dryRun").includes("All");
    if (request.method === "POST" && name === undefined) {
      // POST to /api/v1/services (all namespaces) is not a route: the API server answers 405.
      if (namespace === undefined) return statusResponse({ code: 405, reason: "MethodNotAllowed", message: `the server does not allow this method on the requested resource (post ${resource.resource})` });
      const body = await readJson(request);
      return body instanceof Response ? body : this.#create(resource, namespace, body, dryRun);
    }
    if (name === undefined || namespace === undefined || request.method === "POST") {
      return statusResponse({ code: 405, reason: "MethodNotAllowed", message: `the server does not allow this method on the requested resource (${request.method.toLowerCase()} ${resource.resource})` });
    }
    const contentType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (request.method === "PATCH" && contentType === applyPatchContentType && subresource === undefined) return this.#apply(request, resource, namespace, name, params, dryRun);
    const stored = this.#state.get(resource, namespace, name);
    if (stored === undefined) return notFound(resource, name);
    if (request.method === "DELETE") return this.#delete(resource, stored, request, dryRun);
    const current = subresource === "scale" ? scaleOf(stored) : (stored.object as Obj);
    let wanted: Obj;
    if (request.method === "PUT") {
      const body = await readJson(request);
      if (body instanceof Response) return body;
      if (obj(body["metadata"])?.["name"] !== name) return badRequest(`the name of the object (${String(obj(body["metadata"])?.["name"])}) does not match the name on the URL (${name})`);
      wanted = body;
    } else if (request.method === "PATCH") {
      const patched = await this.#patch(request, current);
      if (patched instanceof Response) return patched;
      wanted = patched;
    } else {
      return statusResponse({ code: 405, reason: "MethodNotAllowed", message: `the server does not allow this method on the requested resource` });
    }
    // Optimistic concurrency: a resourceVersion in the request must be the stored one.
    const rv = obj(wanted["metadata"])?.["resourceVersion"];
    if (rv !== undefined && rv !== "" && rv !== String(stored.resourceVersion)) return conflict(resource, name);
    const next = this.#merge(resource, stored, wanted, subresource);
    return this.#store(resource, next, stored, dryRun, 200, subresource === "scale");
  }

  #create(resource: ServedResource, namespace: string, body: Obj, dryRun: boolean): Response {
    const metadata = { ...obj(body["metadata"]) };
    if (resource.namespaced) {
      if (metadata["namespace"] !== undefined && metadata["namespace"] !== "" && metadata["namespace"] !== namespace) {
        return badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      metadata["namespace"] = namespace;
    }
    if ((metadata["name"] === undefined || metadata["name"] === "") && typeof metadata["generateName"] === "string") metadata["name"] = generatedName(metadata["generateName"]);
    // Set by the server only: a client's uid and resourceVersion are dropped on create.
    delete metadata["uid"];
    delete metadata["resourceVersion"];
    delete metadata["generation"];
    const { status: _status, ...rest } = body;
    const object: Obj = structuredClone({ ...rest, metadata });
    const name = String(metadata["name"] ?? "");
    const existing = name === "" ? undefined : this.#state.get(resource, namespace, name);
    if (existing !== undefined) {
      return statusResponse({ code: 409, reason: "AlreadyExists", message: `${qualified(resource)} "${name}" already exists`, details: { name, group: resource.group, kind: resource.resource } });
    }
    return this.#store(resource, object, undefined, dryRun, 201, false);
  }

  /** Server-side apply: creates the object or merges the applied configuration into it. */
  async #apply(request: Request, resource: ServedResource, namespace: string, name: string, params: URLSearchParams, dryRun: boolean): Promise<Response> {
    const manager = params.get("fieldManager") ?? "";
    if (manager === "") return badRequest("PATCH " + new URL(request.url).pathname + ": fieldManager is required for apply requests");
    const applied = parseAppliedConfiguration(await request.text());
    if (typeof applied === "string") return badRequest(applied);
    const appliedName = obj(applied["metadata"])?.["name"];
    if (appliedName !== name) return badRequest(`the name of the object (${String(appliedName)}) does not match the name on the URL (${name})`);
    const stored = this.#state.get(resource, namespace, name);
    const apiVersion = apiVersionOf(resource);
    if (stored === undefined) {
      const { status: _status, ...rest } = appliedObject(undefined, applied, manager);
      const metadata = { ...obj(rest["metadata"]) };
      delete metadata["uid"];
      delete metadata["resourceVersion"];
      delete metadata["generation"];
      if (resource.namespaced) metadata["namespace"] = namespace;
      return this.#store(resource, recordApply({ ...rest, metadata }, applied, manager, apiVersion, this.#now()), undefined, dryRun, 201, false);
    }
    const rv = obj(applied["metadata"])?.["resourceVersion"];
    if (rv !== undefined && rv !== "" && rv !== String(stored.resourceVersion)) return conflict(resource, name);
    const next = this.#merge(resource, stored, appliedObject(stored.object as Obj, applied, manager), undefined);
    return this.#store(resource, recordApply(next, applied, manager, apiVersion, this.#now()), stored, dryRun, 200, false);
  }

  #delete(resource: ServedResource, stored: StoredObject, _request: Request, dryRun: boolean): Response {
    const uid = obj(stored.object["metadata"])?.["uid"];
    if (!dryRun && resource.kind === "Namespace") {
      // The namespace controller empties a deleted namespace; the fake does it at once.
      for (const r of servedResources) if (r.namespaced) for (const o of this.#state.list(r, stored.name)) this.#state.remove(r, o.namespace, o.name);
    }
    if (!dryRun) this.#state.remove(resource, stored.namespace, stored.name);
    // A deleted object without finalizers is gone at once; the answer is a Success Status.
    const body = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: stored.name, group: resource.group, kind: resource.resource, uid } };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  }

  async #patch(request: Request, current: Obj): Promise<Obj | Response> {
    const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json") {
      return statusResponse({ code: 415, reason: "UnsupportedMediaType", message: `the fake API server takes merge and strategic merge patches; got content-type ${JSON.stringify(type)}` });
    }
    const patch = await readJson(request);
    if (patch instanceof Response) return patch;
    try {
      return obj(type === "application/merge-patch+json" ? jsonMergePatch(current, patch) : strategicMergePatch(current, patch)) ?? {};
    } catch (error) {
      if (error instanceof PatchError) return statusResponse({ code: 422, reason: "Invalid", message: error.message });
      throw error;
    }
  }

  /** The object to store for a write to the resource or one of its subresources. */
  #merge(resource: ServedResource, stored: StoredObject, wanted: Obj, subresource: "scale" | "status" | undefined): Obj {
    const old = stored.object as Obj;
    const metadata = { ...obj(wanted["metadata"]) };
    if (subresource === "scale") {
      const replicas = obj(wanted["spec"])?.["replicas"];
      // A deep copy: the stored spec is frozen, and defaults may still fill the template's.
      return { ...structuredClone(old), spec: { ...structuredClone(obj(old["spec"])), replicas } };
    }
    if (subresource === "status") return { ...structuredClone(old), status: wanted["status"] };
    // The main resource keeps the stored status when it has a status subresource, and the
    // server-set metadata always.
    const { uid: _u, creationTimestamp: _c, resourceVersion: _r, generation: _g, ...own } = metadata;
    const next: Obj = { ...structuredClone(wanted), metadata: { ...own, namespace: stored.namespace === "" ? undefined : stored.namespace } };
    if (resource.status && old["status"] !== undefined) next["status"] = structuredClone(old["status"]);
    if (resource.kind === "EndpointSlice" || resource.kind === "Namespace") next["status"] ??= old["status"];
    return next;
  }

  #store(resource: ServedResource, object: Obj, old: StoredObject | undefined, dryRun: boolean, code: number, answerScale: boolean): Response {
    const oldObject = old?.object as Obj | undefined;
    applyDefaults(resource, object, oldObject, this.#ips);
    const causes = validateObject(resource, object, oldObject);
    if (causes.length > 0) {
      const name = String(obj(object["metadata"])?.["name"] ?? "");
      const listed = causes.map((c) => `${c.field}: ${c.message}`);
      const message = `${resource.kind} "${name}" is invalid: ${listed.length === 1 ? listed[0] : `[${listed.join(", ")}]`}`;
      return statusResponse({ code: 422, reason: "Invalid", message, details: { name, group: resource.group, kind: resource.kind, causes } });
    }
    if (dryRun) return objectResponse(object, code);
    const stored = this.#state.put(resource, object).stored;
    return answerScale ? objectResponse(scaleOf(stored), code) : objectResponse(stored, code);
  }
}
