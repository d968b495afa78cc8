// Minimal structural types for the JSON of the Kubernetes objects the routing table reads:
// core/v1 Service and Pod, discovery.k8s.io/v1 EndpointSlice. Only the fields vipr reads are
// declared; every field is optional (and may be null) because the API omits unset fields and files
// written by hand omit even more. These are the wire shapes, not @kubernetes/client-node's classes,
// so the table builder stays free of that dependency and accepts objects from any source (a watch
// stream, a YAML file, a test). Values are untrusted: the builder checks each one it uses.
// Field docs: https://kubernetes.io/docs/reference/kubernetes-api/

/** A field the API may omit or send as null. */
export type Maybe<T> = T | null | undefined;

export interface KubeObjectMeta {
  name?: Maybe<string>;
  namespace?: Maybe<string>;
  uid?: Maybe<string>;
  resourceVersion?: Maybe<string>;
  labels?: Maybe<Readonly<Record<string, string>>>;
  annotations?: Maybe<Readonly<Record<string, string>>>;
  /** Set once deletion was requested: the EndpointSlice controller marks such pods terminating. */
  deletionTimestamp?: Maybe<string>;
}

/** An IntOrString: a number, or the name of a container port. */
export type KubeIntOrString = number | string;

// --- core/v1 Service -----------------------------------------------------------------------------

export interface KubeServicePort {
  name?: Maybe<string>;
  /** "TCP" (the default), "UDP" or "SCTP". */
  protocol?: Maybe<string>;
  appProtocol?: Maybe<string>;
  port?: Maybe<number>;
  /** Defaults to `port`. */
  targetPort?: Maybe<KubeIntOrString>;
  nodePort?: Maybe<number>;
}

export interface KubeSessionAffinityConfig {
  clientIP?: Maybe<{ timeoutSeconds?: Maybe<number> }>;
}

export interface KubeServiceSpec {
  ports?: Maybe<readonly KubeServicePort[]>;
  selector?: Maybe<Readonly<Record<string, string>>>;
  /** "None" makes the service headless. */
  clusterIP?: Maybe<string>;
  clusterIPs?: Maybe<readonly string[]>;
  /** "ClusterIP" (the default), "NodePort", "LoadBalancer" or "ExternalName". */
  type?: Maybe<string>;
  externalName?: Maybe<string>;
  /** "None" (the default) or "ClientIP". */
  sessionAffinity?: Maybe<string>;
  sessionAffinityConfig?: Maybe<KubeSessionAffinityConfig>;
  /** "Cluster" (the default) or "Local". */
  internalTrafficPolicy?: Maybe<string>;
  /** "Cluster" (the default) or "Local"; applies to NodePort and LoadBalancer traffic. */
  externalTrafficPolicy?: Maybe<string>;
  /** "PreferClose", "PreferSameZone", "PreferSameNode": advice to the controller that sets hints. */
  trafficDistribution?: Maybe<string>;
  publishNotReadyAddresses?: Maybe<boolean>;
}

export interface KubeService {
  kind?: Maybe<string>;
  apiVersion?: Maybe<string>;
  metadata?: Maybe<KubeObjectMeta>;
  spec?: Maybe<KubeServiceSpec>;
}

// --- discovery.k8s.io/v1 EndpointSlice -----------------------------------------------------------

export interface KubeEndpointConditions {
  /** nil means true. */
  ready?: Maybe<boolean>;
  /** nil means true. */
  serving?: Maybe<boolean>;
  /** nil means false. */
  terminating?: Maybe<boolean>;
}

export interface KubeObjectReference {
  kind?: Maybe<string>;
  namespace?: Maybe<string>;
  name?: Maybe<string>;
  uid?: Maybe<string>;
}

export interface KubeEndpointHints {
  forZones?: Maybe<readonly { name?: Maybe<string> }[]>;
  forNodes?: Maybe<readonly { name?: Maybe<string> }[]>;
}

export interface KubeEndpoint {
  /** At least one; consumers may use only the first (the API docs say they are fungible). */
  addresses?: Maybe<readonly string[]>;
  conditions?: Maybe<KubeEndpointConditions>;
  hostname?: Maybe<string>;
  targetRef?: Maybe<KubeObjectReference>;
  nodeName?: Maybe<string>;
  zone?: Maybe<string>;
  hints?: Maybe<KubeEndpointHints>;
}

export interface KubeEndpointPort {
  name?: Maybe<string>;
  protocol?: Maybe<string>;
  port?: Maybe<number>;
  appProtocol?: Maybe<string>;
}

export interface KubeEndpointSlice {
  kind?: Maybe<string>;
  apiVersion?: Maybe<string>;
  metadata?: Maybe<KubeObjectMeta>;
  /** "IPv4", "IPv6" or "FQDN". */
  addressType?: Maybe<string>;
  endpoints?: Maybe<readonly KubeEndpoint[]>;
  ports?: Maybe<readonly KubeEndpointPort[]>;
}

/** The label that ties an EndpointSlice to its Service (discovery.LabelServiceName). */
export const serviceNameLabel = "kubernetes.io/service-name";

// --- core/v1 Pod ---------------------------------------------------------------------------------

export interface KubeContainerPort {
  name?: Maybe<string>;
  containerPort?: Maybe<number>;
  protocol?: Maybe<string>;
}

export interface KubeContainer {
  name?: Maybe<string>;
  ports?: Maybe<readonly KubeContainerPort[]>;
}

export interface KubePodCondition {
  type?: Maybe<string>;
  status?: Maybe<string>;
}

export interface KubePod {
  kind?: Maybe<string>;
  apiVersion?: Maybe<string>;
  metadata?: Maybe<KubeObjectMeta>;
  spec?: Maybe<{
    containers?: Maybe<readonly KubeContainer[]>;
    nodeName?: Maybe<string>;
    hostname?: Maybe<string>;
  }>;
  status?: Maybe<{
    /** "Pending", "Running", "Succeeded", "Failed", "Unknown". */
    phase?: Maybe<string>;
    podIP?: Maybe<string>;
    conditions?: Maybe<readonly KubePodCondition[]>;
  }>;
}
