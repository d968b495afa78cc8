// The Gateway API objects of bench:grpc --grpcroute, beside the echo Service's manifest in the same
// folder: vipr's GatewayClass, a Gateway with one HTTP listener, and a GRPCRoute for the bench's
// host whose first ten rules match other methods of the service (and one of them a header), so
// that a call is looked up past them to the rule that sends it to the echo Service.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { viprGatewayYaml } from "../../tests/gateway-api/gateway-yaml.ts";
import { echoMethod } from "./echo-method.ts";

/** The :authority the calls carry: a GRPCRoute host name, no Service's name. */
export const GRPCROUTE_AUTHORITY = "grpc.bench.example";

export function writeGrpcRouteManifest(folder: string): string {
  const [, service, method] = echoMethod.path.split("/");
  const others = Array.from({ length: 10 }, (_, i) => `  - matches: [{ method: { service: ${service}, method: ${method}${i} }${i === 0 ? ", headers: [{ name: x-bench, value: other }]" : ""} }]
    backendRefs: [{ name: no-such-backend, port: 80 }]`).join("\n");
  const path = join(folder, "grpcroute.yaml");
  writeFileSync(
    path,
    `${viprGatewayYaml("default", "bench", "[{ name: http, port: 80, protocol: HTTP }]")}---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: bench, namespace: default }
spec:
  parentRefs: [{ name: bench }]
  hostnames: [${GRPCROUTE_AUTHORITY}]
  rules:
${others}
  - matches: [{ method: { service: ${service}, method: ${method} } }]
    backendRefs: [{ name: echo, port: 80 }]
`,
  );
  return path;
}
