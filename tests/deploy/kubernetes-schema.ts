// Offline validation of Kubernetes objects, in two independent checks:
// - schemaErrors: the JSON schema of the kind, from kubernetes-models (ajv validators generated from
//   the Kubernetes OpenAPI spec, shipped precompiled: no network, same result under Node and Deno).
//   It catches wrong types, missing required fields and bad enum values (`replicas: "two"`).
// - unknownFields: fields the API does not define. The OpenAPI schemas allow extra properties, so a
//   typo such as `readinesProbe` passes them, while `kubectl apply` (strict field validation, the
//   default since Kubernetes 1.27) rejects it. The field lists come from @kubernetes/client-node's
//   generated models (`attributeTypeMap`), generated from the same OpenAPI spec.
import * as kubernetesClient from "@kubernetes/client-node";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { KubeObject } from "./deploy-manifests.ts";

type Validatable = new (data: never) => { validate(): void };

/** The kinds deploy/ may use, by "apiVersion kind". A kind not listed here fails validation. */
const models: ReadonlyMap<string, Validatable> = new Map<string, Validatable>([
  ["v1 Service", Service],
  ["v1 ServiceAccount", ServiceAccount],
  ["apps/v1 Deployment", Deployment],
  ["autoscaling/v2 HorizontalPodAutoscaler", HorizontalPodAutoscaler],
  ["policy/v1 PodDisruptionBudget", PodDisruptionBudget],
  ["rbac.authorization.k8s.io/v1 ClusterRole", ClusterRole],
  ["rbac.authorization.k8s.io/v1 ClusterRoleBinding", ClusterRoleBinding],
  ["rbac.authorization.k8s.io/v1 Role", Role],
  ["rbac.authorization.k8s.io/v1 RoleBinding", RoleBinding],
]);

/** ajv's error objects, as kubernetes-models' ValidationError carries them. */
interface SchemaError {
  readonly instancePath: string;
  readonly message?: string;
}

/** "/spec/template/spec/containers/0/name" -> "spec.template.spec.containers[0].name" */
function fieldPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === "" ? part : `${path}.${part}`), "");
}

/** Schema violations as "field: message" lines; empty when the object is valid. */
export function schemaErrors(object: KubeObject): string[] {
  const Model = models.get(`${object.apiVersion} ${object.kind}`);
  if (Model === undefined) return [`no schema for ${object.apiVersion} ${object.kind}: add the kind to tests/deploy/kubernetes-schema.ts`];
  try {
    new Model(object as never).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: readonly SchemaError[] }).errors;
    if (errors === undefined) throw error;
    return errors.map((e) => `${fieldPath(e.instancePath) || "(document)"}: ${e.message ?? "invalid"}`);
  }
}

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

/** The generated model's fields for a type name such as "V1Container"; undefined for scalars. */
function attributesOf(type: string): readonly Attribute[] | undefined {
  const model = (kubernetesClient as unknown as Record<string, { attributeTypeMap?: readonly Attribute[] } | undefined>)[type];
  return model?.attributeTypeMap;
}

const mapType = /^\{ \[key: string\]: (.+); \}$/;

function collectUnknown(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || typeof value !== "object") return; // scalars: schemaErrors checks their types
  if (type.startsWith("Array<") && type.endsWith(">")) {
    if (Array.isArray(value)) value.forEach((item, i) => collectUnknown(item, type.slice(6, -1), `${path}[${i}]`, out));
    return;
  }
  const map = mapType.exec(type);
  if (map !== null) {
    for (const [key, item] of Object.entries(value)) collectUnknown(item, map[1]!, `${path}.${key}`, out);
    return;
  }
  const attributes = attributesOf(type);
  if (attributes === undefined || Array.isArray(value)) return; // "any", IntOrString, free-form objects
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    const field = path === "" ? key : `${path}.${key}`;
    if (attribute === undefined) out.push(field);
    else collectUnknown(item, attribute.type, field, out);
  }
}

/** Fields the Kubernetes API does not define, as paths ("spec.template.spec.containers[0].readinesProbe"). */
export function unknownFields(object: KubeObject): string[] {
  const version = object.apiVersion.slice(object.apiVersion.lastIndexOf("/") + 1);
  const rootType = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`; // apps/v1 Deployment -> V1Deployment
  if (attributesOf(rootType) === undefined) return [`(no field list for ${object.apiVersion} ${object.kind})`];
  const out: string[] = [];
  collectUnknown(object, rootType, "", out);
  return out;
}
