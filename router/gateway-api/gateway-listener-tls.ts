// The certificates of a Gateway's HTTPS listener (pure): its tls.certificateRefs resolved to core
// Secrets of type kubernetes.io/tls, or the reason the listener's ResolvedRefs is False
// (gateway-api apis/v1/gateway_types.go, ListenerTLSConfig.CertificateRefs and the
// ListenerConditionResolvedRefs reasons):
// - RefNotPermitted: a Secret in another namespace than the Gateway's with no ReferenceGrant there
//   from Gateways of the Gateway's namespace to that Secret (or to all Secrets);
// - InvalidCertificateRef: a ref to another group or kind than core Secret, a Secret that does not
//   exist, is not of type kubernetes.io/tls, lacks tls.crt or tls.key, or holds no certificate and
//   matching key. The spec: "This reason must be used only when the reference is allowed".
// vipr serves a listener only when every ref resolves (one bad ref is a listener to fix, not one
// to half-serve); the adapter's certificate store reads the PEM again (adapters/node/).
import { GATEWAY_API_GROUP, type Gateway, type GatewayApiObjects, type Listener, type SecretObjectRef } from "./gateway-api-objects.ts";
import { TLS_SECRET_TYPE } from "./parse-tls-secret.ts";

export interface ListenerCertificate {
  /** "namespace/name" of the Secret. */
  readonly secret: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export type ListenerTlsResolution =
  | { readonly ok: true; readonly certificates: readonly ListenerCertificate[] }
  | { readonly ok: false; readonly reason: "InvalidCertificateRef" | "RefNotPermitted"; readonly message: string };

/** Whether a PEM certificate and key are usable together: a problem, or undefined. The runtime's
 * crypto check comes from the adapter (CompileOptions.checkCertificate); without one, this
 * syntax check of the PEM blocks (RFC 7468) stands in. */
export type CertificateCheck = (certPem: string, keyPem: string) => string | undefined;

export const checkPemBlocks: CertificateCheck = (certPem, keyPem) => {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(certPem)) return "tls.crt holds no PEM certificate";
  if (!/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END ([A-Z]+ )?PRIVATE KEY-----/.test(keyPem)) return "tls.key holds no PEM private key";
  return undefined;
};

/** ReferenceGrant (apis/v1beta1/referencegrant_types.go) in the Secret's namespace letting
 * Gateways of `fromNamespace` refer to it. */
function secretGranted(objects: GatewayApiObjects, fromNamespace: string, ref: SecretObjectRef): boolean {
  return objects.referenceGrants.some(
    (g) =>
      g.meta.namespace === ref.namespace &&
      g.from.some((f) => f.group === GATEWAY_API_GROUP && f.kind === "Gateway" && f.namespace === fromNamespace) &&
      g.to.some((t) => t.group === "" && t.kind === "Secret" && (t.name === undefined || t.name === ref.name)),
  );
}

/** The certificates of an HTTPS listener, or why it has none. */
export function resolveListenerTls(gateway: Gateway, listener: Listener, objects: GatewayApiObjects, check: CertificateCheck = checkPemBlocks): ListenerTlsResolution {
  const refs = listener.tls?.certificateRefs ?? [];
  const gatewayNamespace = gateway.meta.namespace;
  // Permission first: a ref that is not allowed is RefNotPermitted whatever it points at.
  for (const ref of refs) {
    if (ref.namespace !== gatewayNamespace && !secretGranted(objects, gatewayNamespace, ref)) {
      return { ok: false, reason: "RefNotPermitted", message: `certificateRef ${ref.namespace}/${ref.name} is in another namespace and no ReferenceGrant in ${ref.namespace} allows Gateways of ${gatewayNamespace} to refer to it` };
    }
  }
  if (refs.length === 0) return { ok: false, reason: "InvalidCertificateRef", message: "no certificateRefs: vipr terminates TLS only with a certificate from a Secret" };
  const certificates: ListenerCertificate[] = [];
  for (const ref of refs) {
    const key = `${ref.namespace}/${ref.name}`;
    const invalid = (why: string): ListenerTlsResolution => ({ ok: false, reason: "InvalidCertificateRef", message: `certificateRef ${key}: ${why}` });
    if (ref.group !== "" || ref.kind !== "Secret") return invalid(`${ref.group === "" ? "" : `${ref.group}/`}${ref.kind} is not supported; vipr reads core Secrets of type ${TLS_SECRET_TYPE}`);
    const secret = objects.secrets?.find((s) => s.meta.namespace === ref.namespace && s.meta.name === ref.name);
    if (secret === undefined) return invalid("no such Secret");
    if (secret.type !== TLS_SECRET_TYPE) return invalid(`the Secret is of type ${secret.type}, not ${TLS_SECRET_TYPE}`);
    if (secret.certPem === undefined || secret.keyPem === undefined) return invalid("the Secret needs tls.crt and tls.key");
    const problem = check(secret.certPem, secret.keyPem);
    if (problem !== undefined) return invalid(problem);
    certificates.push({ secret: key, certPem: secret.certPem, keyPem: secret.keyPem });
  }
  return { ok: true, certificates };
}
