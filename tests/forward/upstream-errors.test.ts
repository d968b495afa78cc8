// Transport errors as UpstreamError kinds, table-driven: what the undici transport (the one
// transport of both runtimes) maps, and to what. Runs on Node and on Deno.

import { describe, expect, it } from "vitest";
import type { UpstreamErrorKind, UpstreamTarget } from "../../router/forward/upstream-transport.ts";
import { UpstreamError, targetKey } from "../../router/forward/upstream-transport.ts";

const target: UpstreamTarget = { address: "10.0.0.7", port: 8080, addressType: "IPv4", identity: "web-7f9c" };

const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe("undici errors", async () => {
  const { errors } = await import("undici");
  const { upstreamErrorFromUndici } = await import("../../adapters/node/undici-transport.ts");
  const cases: [string, unknown, boolean | undefined, UpstreamErrorKind, boolean][] = [
    ["ECONNREFUSED, before sending", withCode("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.7:8080"), false, "connect", false],
    ["EHOSTUNREACH", withCode("EHOSTUNREACH"), false, "connect", false],
    ["pool closed while queued", new errors.ClientClosedError(), false, "connect", false],
    ["connect timeout", new errors.ConnectTimeoutError(), false, "timeout", false],
    ["response head timeout", new errors.HeadersTimeoutError(), true, "timeout", true],
    ["body idle timeout", new errors.BodyTimeoutError(), true, "timeout", true],
    ["socket closed by the backend", new errors.SocketError("other side closed"), true, "reset", true],
    ["ECONNRESET", withCode("ECONNRESET", "read ECONNRESET"), true, "reset", true],
    ["response shorter than its Content-Length", new errors.ResponseContentLengthMismatchError(), true, "protocol", true],
    ["unparseable response", withCode("HPE_INVALID_CONSTANT", "Expected HTTP/"), true, "protocol", true],
    ["request aborted", new errors.RequestAbortedError(), true, "aborted", true],
    // Pool.request() cannot tell whether it sent anything: inferred from the kind.
    ["ECONNREFUSED, sent unknown", withCode("ECONNREFUSED"), undefined, "connect", false],
    ["connect timeout, sent unknown", new errors.ConnectTimeoutError(), undefined, "timeout", false],
    ["headers timeout, sent unknown", new errors.HeadersTimeoutError(), undefined, "timeout", true],
  ];
  it.each(cases)("%s", (_name, error, sent, kind, sentRequest) => {
    const mapped = upstreamErrorFromUndici(error, target, sent);
    expect(mapped).toBeInstanceOf(UpstreamError);
    expect([mapped.kind, mapped.sentRequest]).toEqual([kind, sentRequest]);
    expect(mapped.target).toBe(target);
    expect(mapped.cause).toBe(error);
    expect(mapped.message.startsWith(`upstream 10.0.0.7:8080 (web-7f9c): ${kind}: `)).toBe(true);
  });
});

describe("targetKey", () => {
  it("brackets IPv6 addresses", () => {
    expect(targetKey(target)).toBe("10.0.0.7:8080");
    expect(targetKey({ address: "fd00::7", port: 80, addressType: "IPv6" })).toBe("[fd00::7]:80");
  });
});
