// Builders of the objects the fake API server holds, in the shapes the API returns, for tests
// that want a Service or its endpoints in one line. Every field can still be given in full through
// FakeKubeApi.apply().

import type { KubeEndpointSlice, KubePod, KubeService } from "../../../router/table/kubernetes-objects.ts";

/** Marks the EndpointSlices that FakeKubeApi.setEndpoints manages (the controller's label). */
export const fakeManagedBy = "fake-kube-api.vipr.io";
export const managedByLabel = "endpointslice.kubernetes.io/managed-by";

export interface FakeServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
}

export interface FakeServiceOptions {
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Default one unnamed port 80. */
  readonly ports?: readonly FakeServicePort[];
  /** Default { app: name }. */
  readonly selector?: Readonly<Record<string, string>> | null;
  readonly type?: string;
  readonly clusterIP?: string;
  readonly externalName?: string;
  readonly publishNotReadyAddresses?: boolean;
  readonly sessionAffinity?: string;
  readonly internalTrafficPolicy?: string;
}

/** @example fakeService("simpleservice", { ports: [{ port: 80, targetPort: 9876 }] }) */
export function fakeService(name: string, options: FakeServiceOptions = {}): KubeService {
  const ports = options.ports ?? [{ port: 80 }];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      ...(options.labels === undefined ? {} : { labels: { ...options.labels } }),
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    },
    spec: {
      ports: ports.map((p) => ({ ...(p.name === undefined ? {} : { name: p.name }), protocol: p.protocol ?? "TCP", port: p.port, targetPort: p.targetPort ?? p.port })),
      ...(options.selector === null ? {} : { selector: { ...(options.selector ?? { app: name }) } }),
      type: options.type ?? "ClusterIP",
      ...(options.clusterIP === undefined ? {} : { clusterIP: options.clusterIP }),
      ...(options.externalName === undefined ? {} : { externalName: options.externalName }),
      ...(options.publishNotReadyAddresses === undefined ? {} : { publishNotReadyAddresses: options.publishNotReadyAddresses }),
      ...(options.sessionAffinity === undefined ? {} : { sessionAffinity: options.sessionAffinity }),
      ...(options.internalTrafficPolicy === undefined ? {} : { internalTrafficPolicy: options.internalTrafficPolicy }),
    },
  };
}

/** One endpoint: an address, or an address with its port, pod and conditions. */
export type FakeEndpoint =
  | string
  | {
      readonly address: string;
      /** The port the pod listens on; default the service port's numeric targetPort, else 80. */
      readonly port?: number;
      /** The pod's name (targetRef); default none. */
      readonly pod?: string;
      /** Conditions; default ready and serving. */
      readonly ready?: boolean;
      readonly serving?: boolean;
      readonly terminating?: boolean;
      readonly nodeName?: string;
      readonly zone?: string;
      readonly hostname?: string;
    };

export interface FakeEndpointSliceOptions {
  readonly namespace?: string;
  /** Default one unnamed TCP port 80. */
  readonly ports?: readonly { readonly name?: string; readonly port: number; readonly protocol?: string }[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly addressType?: "IPv4" | "IPv6";
}

/** @example fakeEndpointSlice("web-abc", "web", ["10.0.0.1", { address: "10.0.0.2", ready: false }]) */
export function fakeEndpointSlice(name: string, service: string, endpoints: readonly FakeEndpoint[], options: FakeEndpointSliceOptions = {}): KubeEndpointSlice {
  const namespace = options.namespace ?? "default";
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name,
      namespace,
      labels: { ...options.labels, "kubernetes.io/service-name": service },
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    },
    addressType: options.addressType ?? (endpoints.some((e) => (typeof e === "string" ? e : e.address).includes(":")) ? "IPv6" : "IPv4"),
    ports: (options.ports ?? [{ port: 80 }]).map((p) => ({ ...(p.name === undefined ? {} : { name: p.name }), protocol: p.protocol ?? "TCP", port: p.port })),
    endpoints: endpoints.map((e) => {
      const endpoint = typeof e === "string" ? { address: e } : e;
      return {
        addresses: [endpoint.address],
        conditions: { ready: endpoint.ready ?? true, serving: endpoint.serving ?? endpoint.ready ?? true, terminating: endpoint.terminating ?? false },
        ...(endpoint.pod === undefined ? {} : { targetRef: { kind: "Pod", namespace, name: endpoint.pod } }),
        ...(endpoint.nodeName === undefined ? {} : { nodeName: endpoint.nodeName }),
        ...(endpoint.zone === undefined ? {} : { zone: endpoint.zone }),
        ...(endpoint.hostname === undefined ? {} : { hostname: endpoint.hostname }),
      };
    }),
  };
}

export interface FakePodOptions {
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ip?: string;
  /** The Ready condition; default true. */
  readonly ready?: boolean;
  readonly containerPorts?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly nodeName?: string;
}

/** @example fakePod("web-7d4b9-x2k", { labels: { app: "web" }, ip: "10.0.0.7" }) */
export function fakePod(name: string, options: FakePodOptions = {}): KubePod {
  const ready = options.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: options.namespace ?? "default", labels: { ...options.labels } },
    spec: {
      containers: [{ name: "app", ports: (options.containerPorts ?? []).map((p) => ({ ...(p.name === undefined ? {} : { name: p.name }), containerPort: p.containerPort, protocol: "TCP" })) }],
      ...(options.nodeName === undefined ? {} : { nodeName: options.nodeName }),
    },
    status: {
      phase: "Running",
      ...(options.ip === undefined ? {} : { podIP: options.ip }),
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}
