// grpc-timeout, the call's deadline as the client sent it (gRPC's PROTOCOL-HTTP2.md):
//   Timeout → "grpc-timeout" TimeoutValue TimeoutUnit
//   TimeoutValue → {positive integer as ASCII string of at most 8 digits}
//   TimeoutUnit → Hour "H" / Minute "M" / Second "S" / Millisecond "m" / Microsecond "u" / Nanosecond "n"
// vipr honours it as the request's overall timeout (timeout-config.ts requestMs), the shorter of
// the two winning, and answers DEADLINE_EXCEEDED when it passes (grpc-status.ts).
import { headerListGet } from "./header-list.ts";

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
const TIMEOUT = /^([0-9]{1,8})([HMSmun])$/;

/** Milliseconds of a grpc-timeout value, rounded up (at least 1: 0 would mean no limit); undefined
 * when the value does not follow the grammar above (the field is then ignored, as grpc-go's
 * server does not fail the call over it either). */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = TIMEOUT.exec(value.trim());
  if (match === null) return undefined;
  return Math.max(1, Math.ceil(Number(match[1]) * UNIT_MS[match[2]!]!));
}

/** The request's grpc-timeout in milliseconds, undefined when absent or malformed. */
export function grpcTimeoutOf(headers: readonly string[]): number | undefined {
  const value = headerListGet(headers, "grpc-timeout");
  return value === undefined ? undefined : parseGrpcTimeout(value);
}
