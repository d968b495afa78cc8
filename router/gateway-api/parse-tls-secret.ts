// A core v1 Secret (YAML or API JSON) as a listener's certificate source (gateway-api-objects.ts
// TLSSecret): its type and the PEM text of tls.crt and tls.key. `data` values are base64 (the API
// server's form); `stringData` values are plain text and win over `data` for the same key, as the
// API server merges them on write (core/v1 Secret.stringData). Whether the PEM is a certificate
// and its key is not checked here: the compiler asks its CompileOptions.checkCertificate, and
// reports a bad pair as the listener's ResolvedRefs False InvalidCertificateRef.
import type { TLSSecret } from "./gateway-api-objects.ts";

type Raw = Record<string, unknown>;
const isRecord = (value: unknown): value is Raw => typeof value === "object" && value !== null && !Array.isArray(value);

/** The secret type a listener's certificate must have (gateway-api: "a Kubernetes Secret of type
 * kubernetes.io/tls" is the Core support level). */
export const TLS_SECRET_TYPE = "kubernetes.io/tls";

function decodeBase64(text: string): string | undefined {
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  try {
    const binary = atob(clean);
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

/** A Secret's value of `key`: stringData first, then base64 data; undefined when absent or not base64. */
function valueOf(raw: Raw, key: string): string | undefined {
  const stringData = isRecord(raw["stringData"]) ? raw["stringData"] : {};
  if (typeof stringData[key] === "string") return stringData[key];
  const data = isRecord(raw["data"]) ? raw["data"] : {};
  return typeof data[key] === "string" ? decodeBase64(data[key]) : undefined;
}

/** The Secret, or undefined when it is not an object with a name. Any type is kept: a listener
 * naming a Secret of another type gets InvalidCertificateRef, which needs the Secret to exist. */
export function parseTLSSecret(raw: unknown, defaultNamespace: string): TLSSecret | undefined {
  if (!isRecord(raw) || !isRecord(raw["metadata"])) return undefined;
  const metadata = raw["metadata"];
  if (typeof metadata["name"] !== "string" || metadata["name"] === "") return undefined;
  const created = typeof metadata["creationTimestamp"] === "string" ? Date.parse(metadata["creationTimestamp"]) : 0;
  return {
    meta: {
      namespace: typeof metadata["namespace"] === "string" ? metadata["namespace"] : defaultNamespace,
      name: metadata["name"],
      created: Number.isNaN(created) ? 0 : created,
      generation: typeof metadata["generation"] === "number" ? metadata["generation"] : 1,
      labels: {},
    },
    type: typeof raw["type"] === "string" ? raw["type"] : "Opaque",
    certPem: valueOf(raw, "tls.crt"),
    keyPem: valueOf(raw, "tls.key"),
  };
}
