// The API server's validation of the fields vipr reads (and the few a workload needs to make
// pods), answered as a 422 Invalid Status whose causes name each field, with the messages of
// k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation:
//   Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive

import type { ServedResource } from "./fake-resources.ts";

export interface FieldCause {
  readonly reason: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueDuplicate";
  readonly field: string;
  readonly message: string;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const show = (value: unknown): string => (typeof value === "string" || (typeof value === "object" && value !== null) ? JSON.stringify(value) : String(value));

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ianaSvcName = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

class Causes {
  readonly all: FieldCause[] = [];
  invalid(field: string, value: unknown, detail: string): void {
    this.all.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${show(value)}: ${detail}` });
  }
  required(field: string, detail = ""): void {
    this.all.push({ reason: "FieldValueRequired", field, message: `Required value${detail === "" ? "" : `: ${detail}`}` });
  }
  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    this.all.push({ reason: "FieldValueNotSupported", field, message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}` });
  }
  duplicate(field: string, value: unknown): void {
    this.all.push({ reason: "FieldValueDuplicate", field, message: `Duplicate value: ${show(value)}` });
  }
  port(field: string, value: unknown): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) this.invalid(field, value, "must be between 1 and 65535, inclusive");
  }
}

function validateName(resource: ServedResource, name: unknown, causes: Causes): void {
  if (typeof name !== "string" || name === "") return causes.required("metadata.name", "name or generateName is required");
  // Services and Namespaces are DNS labels (a Service's name is a DNS name in its namespace).
  if (resource.kind === "Service") {
    if (!dns1035Label.test(name) || name.length > 63) causes.invalid("metadata.name", name, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  } else if (resource.kind === "Namespace") {
    if (!dns1123Label.test(name) || name.length > 63) causes.invalid("metadata.name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  } else if (!dns1123Subdomain.test(name) || name.length > 253) {
    causes.invalid("metadata.name", name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }
}

function validateTargetPort(field: string, value: unknown, causes: Causes): void {
  if (value === undefined) return;
  if (typeof value === "number") return causes.port(field, value);
  if (typeof value !== "string" || value.length > 15 || !ianaSvcName.test(value) || !/[a-z]/.test(value) || value.includes("--")) {
    causes.invalid(field, value, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, with at least one letter (IANA_SVC_NAME)");
  }
}

function validateService(spec: Obj, old: Obj | undefined, causes: Causes): void {
  const type = spec["type"] ?? "ClusterIP";
  if (!["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].includes(String(type))) causes.notSupported("spec.type", type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]);
  const affinity = spec["sessionAffinity"];
  if (affinity !== undefined && affinity !== "None" && affinity !== "ClientIP") causes.notSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]);
  const ports = list(spec["ports"]);
  if (type !== "ExternalName" && ports.length === 0) causes.required("spec.ports");
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const port = obj(p) ?? {};
    const at = `spec.ports[${i}]`;
    const name = port["name"];
    if (ports.length > 1 && (name === undefined || name === "")) causes.required(`${at}.name`);
    if (typeof name === "string" && name !== "") {
      if (names.has(name)) causes.duplicate(`${at}.name`, name);
      names.add(name);
    }
    causes.port(`${at}.port`, port["port"]);
    const protocol = port["protocol"];
    if (protocol !== undefined && !["TCP", "UDP", "SCTP"].includes(String(protocol))) causes.notSupported(`${at}.protocol`, protocol, ["SCTP", "TCP", "UDP"]);
    validateTargetPort(`${at}.targetPort`, port["targetPort"], causes);
  });
  const clusterIP = spec["clusterIP"];
  if (clusterIP !== undefined && clusterIP !== "" && clusterIP !== "None" && !ipv4.test(String(clusterIP))) causes.invalid("spec.clusterIP", clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  // core/validation ValidateServiceUpdate: clusterIP cannot change once allocated.
  const oldIP = old?.["clusterIP"];
  if (oldIP !== undefined && clusterIP !== undefined && clusterIP !== "" && clusterIP !== oldIP) causes.invalid("spec.clusterIP", clusterIP, "field is immutable");
}

function validateEndpointSlice(object: Obj, causes: Causes): void {
  const addressType = object["addressType"];
  if (!["IPv4", "IPv6", "FQDN"].includes(String(addressType))) causes.notSupported("addressType", addressType, ["FQDN", "IPv4", "IPv6"]);
  list(object["endpoints"]).forEach((e, i) => {
    const addresses = list(obj(e)?.["addresses"]);
    if (addresses.length === 0) causes.required(`endpoints[${i}].addresses`, "must contain at least 1 address");
    addresses.forEach((a, j) => {
      if (addressType === "IPv4" && !ipv4.test(String(a))) causes.invalid(`endpoints[${i}].addresses[${j}]`, a, "must be a valid IPv4 address");
    });
  });
  list(object["ports"]).forEach((p, i) => {
    const port = obj(p)?.["port"];
    if (port !== undefined && port !== null) causes.port(`ports[${i}].port`, port);
  });
}

function validatePodSpec(at: string, spec: Obj | undefined, causes: Causes): void {
  const containers = list(spec?.["containers"]);
  if (containers.length === 0) return causes.required(`${at}.containers`);
  containers.forEach((c, i) => {
    const container = obj(c) ?? {};
    if (typeof container["name"] !== "string" || container["name"] === "") causes.required(`${at}.containers[${i}].name`);
    list(container["ports"]).forEach((p, j) => causes.port(`${at}.containers[${i}].ports[${j}].containerPort`, obj(p)?.["containerPort"]));
  });
}

function validateWorkload(resource: ServedResource, spec: Obj, causes: Causes): void {
  const replicas = spec["replicas"];
  if (replicas !== undefined && (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)) causes.invalid("spec.replicas", replicas, "must be greater than or equal to 0");
  const template = obj(spec["template"]);
  const labels = obj(obj(template?.["metadata"])?.["labels"]) ?? {};
  // An RC's selector is a plain map; apps/v1 has a LabelSelector, required.
  const selector = resource.kind === "ReplicationController" ? obj(spec["selector"]) : obj(obj(spec["selector"])?.["matchLabels"]);
  if (resource.kind !== "ReplicationController" && obj(spec["selector"]) === undefined) causes.required("spec.selector");
  if (template === undefined) return causes.required("spec.template");
  if (selector !== undefined && Object.entries(selector).some(([k, v]) => labels[k] !== v)) {
    causes.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`");
  }
  validatePodSpec("spec.template.spec", obj(template["spec"]), causes);
}

/** The causes for a write of `object` (after defaults), empty when it is valid. */
export function validateObject(resource: ServedResource, object: Obj, old: Obj | undefined): FieldCause[] {
  const causes = new Causes();
  validateName(resource, obj(object["metadata"])?.["name"], causes);
  const spec = obj(object["spec"]) ?? {};
  if (resource.kind === "Service") validateService(spec, obj(old?.["spec"]), causes);
  else if (resource.kind === "EndpointSlice") validateEndpointSlice(object, causes);
  else if (resource.kind === "Pod") validatePodSpec("spec", spec, causes);
  // Gateway API kinds are CRDs: their schema is not compiled into the fake (vipr checks their fields itself).
  else if (resource.kind !== "Namespace" && resource.group !== "gateway.networking.k8s.io") validateWorkload(resource, spec, causes);
  return causes.all;
}
