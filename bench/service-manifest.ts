// The one Service the load benchmarks route to, as a file source for `vipr serve --source file:`:
// a Service and its EndpointSlice with one endpoint, the backend on 127.0.0.1:port.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BenchService {
  /** The Service's name, which is the Host vipr routes by. */
  readonly name: string;
  /** The backend's port on 127.0.0.1. */
  readonly port: number;
  /** The Service's selector's app label and the endpoint's pod, as a cluster would have them. */
  readonly app: string;
  readonly pod: string;
  /** The Service's annotations (e.g. vipr.io/hash-key), as YAML flow text. */
  readonly annotations?: string;
  /** The port's appProtocol (e.g. grpc: vipr speaks h2c to the pod). */
  readonly appProtocol?: string;
}

/** Writes NAME.yaml into `folder` and returns its path. */
export function writeServiceManifest(folder: string, service: BenchService): string {
  const { name, port, app, pod, annotations, appProtocol } = service;
  const protocol = appProtocol === undefined ? "" : `, appProtocol: ${appProtocol}`;
  const manifest = join(folder, `${name}.yaml`);
  writeFileSync(
    manifest,
    `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default${annotations === undefined ? "" : `, annotations: ${annotations}`} }
spec: { ports: [{ port: 80, targetPort: ${port}${protocol} }], selector: { app: ${app} } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ port: ${port}${protocol} }]
endpoints: [{ addresses: ["127.0.0.1"], targetRef: { kind: Pod, name: ${pod} } }]
`,
  );
  return manifest;
}
