// Gateway API objects for tests, written as YAML the way a user writes them, parsed by the same
// code the sources use (router/gateway-api/parse-gateway-api.ts).
import { parseAllDocuments } from "yaml";
import type { GatewayApiObjects } from "../../router/gateway-api/gateway-api-objects.ts";
import { gatewayApiObjectsFrom } from "../../router/gateway-api/parse-gateway-api.ts";

/** The objects of a multi-document YAML text; throws on any problem, so a test's own manifest
 * can never be silently dropped. */
export function gatewayObjects(yaml: string, namespace = "default"): GatewayApiObjects {
  const { objects, problems } = gatewayApiObjectsFrom(parseAllDocuments(yaml).map((d) => d.toJS()), namespace);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return objects;
}

/** The problems of a YAML text's objects. */
export function gatewayProblems(yaml: string, namespace = "default"): string[] {
  return gatewayApiObjectsFrom(parseAllDocuments(yaml).map((d) => d.toJS()), namespace).problems;
}

/** vipr's GatewayClass "vipr" (controllerName vipr.io/gateway-controller). */
export const VIPR_GATEWAY_CLASS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: vipr }
spec: { controllerName: vipr.io/gateway-controller }
`;

/** A Gateway `namespace`/`name` of vipr's GatewayClass with `listeners`, a YAML flow sequence
 * such as `[{ name: http, port: 80, protocol: HTTP }]`. */
export function gatewayYaml(namespace: string, name: string, listeners: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  gatewayClassName: vipr
  listeners: ${listeners}
`;
}

/** vipr's GatewayClass and a Gateway of it (gatewayYaml). */
export function viprGatewayYaml(namespace: string, name: string, listeners: string): string {
  return `${VIPR_GATEWAY_CLASS}---
${gatewayYaml(namespace, name, listeners)}`;
}

/** Backends' Services and EndpointSlices as YAML documents (JSON is YAML), for a manifest folder. */
export function backendsYaml(...backends: readonly { objects(): { services: readonly unknown[]; endpointSlices: readonly unknown[] } }[]): string {
  return backends.flatMap((b) => [...b.objects().services, ...b.objects().endpointSlices]).map((o) => JSON.stringify(o)).join("\n---\n");
}

/** vipr's GatewayClass and a Gateway "same-namespace" in gateway-conformance-infra with one HTTP
 * listener on port 80 taking routes from its own namespace, as the conformance suite's base
 * manifests have it. */
export const BASE_GATEWAY = `
${VIPR_GATEWAY_CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: same-namespace, namespace: gateway-conformance-infra }
spec:
  gatewayClassName: vipr
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: { namespaces: { from: Same } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: all-namespaces, namespace: gateway-conformance-infra }
spec:
  gatewayClassName: vipr
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: { namespaces: { from: All } }
`;
