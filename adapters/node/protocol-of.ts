// Which protocol a request reached vipr over, for the access log: "http/1.1" (or "http/1.0"),
// "h2" (HTTP/2 over TLS, by ALPN) or "h2c" (HTTP/2 over cleartext, prior knowledge); the ALPN
// identifiers of RFC 7301 and RFC 9113 section 3.
import type { Context } from "hono";
import { IncomingMessage } from "node:http";
import { Http2ServerRequest } from "node:http2";

/** Whether the request's connection is TLS (an https listener's socket, HTTP/1.1 or h2). */
export function nodeRequestIsTls(c: Context): boolean {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Http2ServerRequest || incoming instanceof IncomingMessage) return (incoming.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true;
  return false;
}

export function nodeRequestProtocol(c: Context): string {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Http2ServerRequest) return (incoming.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? "h2" : "h2c";
  // The common versions as constants: one string per request saved (issue 11's profile).
  if (incoming instanceof IncomingMessage) return incoming.httpVersion === "1.1" ? "http/1.1" : incoming.httpVersion === "1.0" ? "http/1.0" : `http/${incoming.httpVersion}`;
  return "";
}
