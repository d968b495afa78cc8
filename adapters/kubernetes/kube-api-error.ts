// Failures of a request to the API server, as one error type the list/watch loop can decide on:
// 410 Gone / reason Expired means "re-list", everything else means "back off and retry".
// The API server describes a failure with a metav1.Status object, in the body of a non-2xx
// response or as the object of a watch ERROR event:
// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource
//  version: 657887 (680402)","reason":"Expired","code":410}

/** A Status object as it arrives; every field untrusted. */
export interface KubeStatus {
  readonly kind?: unknown;
  readonly status?: unknown;
  readonly message?: unknown;
  readonly reason?: unknown;
  readonly code?: unknown;
  /** StatusDetails; its causes[].type are read (e.g. ResourceVersionTooLarge). */
  readonly details?: unknown;
}

export type KubeApiErrorKind =
  /** 410 Gone or reason Expired: the resourceVersion (or continue token) is too old. */
  | "expired"
  /** The request never got an answer: DNS, connection refused or reset, TLS. */
  | "network"
  /** An answer came, with a failure status (401, 403, 429, 5xx, ...). */
  | "status"
  /** An answer came that is not what the API sends: a body that is not JSON, a list without items. */
  | "protocol";

export class KubeApiError extends Error {
  readonly kind: KubeApiErrorKind;
  /** The HTTP status, or the Status object's code; 0 for network failures. */
  readonly code: number;
  readonly reason: string;
  /** From a Retry-After header (429, 503), in ms. */
  readonly retryAfterMs: number | undefined;
  /** The Status's details.causes[].type, e.g. ["ResourceVersionTooLarge"] with a 504 Timeout. */
  readonly causes: readonly string[];

  constructor(kind: KubeApiErrorKind, code: number, reason: string, message: string, retryAfterMs?: number, causes: readonly string[] = []) {
    super(message);
    this.name = "KubeApiError";
    this.kind = kind;
    this.code = code;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
    this.causes = causes;
  }
}

/** From a Status object (a watch ERROR event's object, or an error response's body). */
export function errorFromStatus(status: KubeStatus, what: string, httpStatus = 0, retryAfterMs?: number): KubeApiError {
  const code = typeof status.code === "number" ? status.code : httpStatus;
  const reason = typeof status.reason === "string" ? status.reason : "";
  const message = typeof status.message === "string" ? status.message : "no message";
  const kind: KubeApiErrorKind = code === 410 || reason === "Expired" || reason === "Gone" ? "expired" : "status";
  const found = (status.details as { causes?: unknown } | null | undefined)?.causes;
  const causes = Array.isArray(found) ? found.map((c: { type?: unknown } | null) => c?.type).filter((t): t is string => typeof t === "string") : [];
  return new KubeApiError(kind, code, reason, `${what}: ${code}${reason === "" ? "" : ` ${reason}`}: ${message}`, retryAfterMs, causes);
}

/** Retry-After in seconds (the only form the API server sends), as ms. */
function retryAfter(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** From a non-2xx response; reads (and so releases) its body. */
export async function errorFromResponse(response: Response, what: string): Promise<KubeApiError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The status line is enough to decide; a body cut short changes nothing.
  }
  let status: KubeStatus = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object") status = parsed as KubeStatus;
  } catch {
    status = { message: text.length > 200 ? `${text.slice(0, 200)}...` : text === "" ? response.statusText : text };
  }
  return errorFromStatus({ ...status, code: response.status }, what, response.status, retryAfter(response));
}

/** A thrown fetch failure (TypeError "fetch failed" and the like) as a network error. */
export function networkError(error: unknown, what: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  const message = error instanceof Error ? `${error.message}${cause}` : String(error);
  return new KubeApiError("network", 0, "", `${what}: ${message}`);
}
