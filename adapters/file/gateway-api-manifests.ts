// Gateway API objects in manifest files (GatewayClass, Gateway, HTTPRoute, GRPCRoute,
// ReferenceGrant): their field checks, run when a document is read so that a broken one keeps its
// last good version as any manifest does (manifest-set.ts), and the objects of a snapshot as the
// router's Gateway API input (ServiceRouter.setGatewayObjects). The parsing itself is
// router/gateway-api/, shared with the Kubernetes source.
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import { statusProblems } from "../../router/gateway-api/gateway-conditions.ts";
import type { GatewayObjectsSink } from "../../router/gateway-api/gateway-route-state.ts";
import { gatewayApiKindOf, gatewayApiObjectsFrom, parseGatewayApiObject } from "../../router/gateway-api/parse-gateway-api.ts";
import { parseTLSSecret } from "../../router/gateway-api/parse-tls-secret.ts";
import type { ManifestObject, ManifestProblem } from "./manifest-documents.ts";

export { GATEWAY_API_VERSIONS, type GatewayApiKind } from "../../router/gateway-api/parse-gateway-api.ts";

/** Objects without a namespace are in "default", as kubectl applies them. */
const DEFAULT_NAMESPACE = "default";

export function isGatewayApiManifest(kind: string): boolean {
  return gatewayApiKindOf(kind) !== undefined;
}

/** The problems that make a Gateway API document unusable, by file, document and field. */
export function gatewayApiFieldProblems(manifest: ManifestObject): ManifestProblem[] {
  const kind = gatewayApiKindOf(manifest.kind);
  if (kind === undefined) return [];
  const parsed = parseGatewayApiObject(kind, manifest.object, DEFAULT_NAMESPACE);
  if (parsed.ok) return [];
  return parsed.fields.map((p) => ({ file: manifest.file, index: manifest.index, field: manifest.path === undefined ? p.field : `${manifest.path}.${p.field}`, message: p.message }));
}

/** The Gateway API objects among a snapshot's manifests, with the Secrets listeners may name. */
export function gatewayApiObjectsOf(manifests: readonly ManifestObject[]): GatewayApiObjects {
  const objects = gatewayApiObjectsFrom(
    manifests.filter((m) => isGatewayApiManifest(m.kind)).map((m) => m.object),
    DEFAULT_NAMESPACE,
  ).objects;
  const secrets = manifests.filter((m) => m.kind === "Secret").flatMap((m) => parseTLSSecret(m.object, DEFAULT_NAMESPACE) ?? []);
  return secrets.length === 0 ? objects : { ...objects, secrets };
}

/** Hands each load's objects to the router and logs, when they change, the routes and listeners
 * that do not route and why (their status conditions: files have no status to write them to). */
export function gatewayApiLogger(router: GatewayObjectsSink, log: (line: string) => void): (objects: GatewayApiObjects) => void {
  let last = "";
  return (objects) => {
    const status = router.setGatewayObjects(objects, { serviceExists: (key) => router.table?.services.has(key) ?? true, service: (key) => router.table?.services.get(key) });
    const lines = statusProblems(status);
    const routes = status.httpRoutes.length;
    const summary = `Gateway API: ${status.gateways.length} gateways, ${routes} routes${lines.length === 0 ? "" : `, ${lines.length} problems`}`;
    const joined = [summary, ...lines].join("\n");
    if (joined === last) return;
    last = joined;
    if (routes > 0 || lines.length > 0) for (const line of [summary, ...lines]) log(line);
  };
}
