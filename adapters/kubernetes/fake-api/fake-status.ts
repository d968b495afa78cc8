// metav1.Status answers, as the API server writes them for a failed request or a watch ERROR event.

export interface StatusOptions {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  /** StatusDetails: the object named, and for 422 Invalid the causes by field. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export function statusObject({ code, reason, message, details }: StatusOptions): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details === undefined ? {} : { details }), code };
}

/** The reason the API server gives with each status code (apimachinery StatusReason). */
export function reasonFor(code: number): string {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return code >= 500 ? "InternalError" : "BadRequest";
  }
}

export function statusResponse(options: StatusOptions, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(statusObject(options)), {
    status: options.code,
    headers: { "content-type": "application/json", ...headers },
  });
}
