import { describe, expect, test } from "vitest";
import { createAccessLog, formatAccessRecord, type AccessRecord } from "../../router/observability/access-log.ts";

const record: AccessRecord = {
  time: "2025-01-02T03:04:05.678Z",
  method: "GET",
  host: "simpleservice",
  path: "/info?x=1",
  status: 200,
  duration_ms: 1.2345678,
  service: "default/simpleservice",
  endpoint: "172.17.0.3:9876",
  upstream_status: 200,
  bytes: 42,
  client: "10.0.0.7",
};

/** A random source that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe("access log lines", () => {
  test("one JSON line, fields in a fixed order, duration rounded to microseconds", () => {
    expect(formatAccessRecord(record)).toBe(
      '{"time":"2025-01-02T03:04:05.678Z","method":"GET","host":"simpleservice","path":"/info?x=1","status":200,' +
        '"duration_ms":1.235,"service":"default/simpleservice","endpoint":"172.17.0.3:9876","upstream_status":200,' +
        '"bytes":42,"client":"10.0.0.7"}',
    );
  });

  test("the order holds whatever order the record's keys were written in; error and request_id come last", () => {
    const shuffled = Object.fromEntries(
      Object.entries({ ...record, request_id: "req-1", error: "upstream timed out" }).reverse(),
    ) as unknown as AccessRecord;
    expect(Object.keys(JSON.parse(formatAccessRecord(shuffled)) as object)).toEqual([
      "time", "method", "host", "path", "status", "duration_ms", "service", "endpoint", "upstream_status", "bytes", "client", "error", "request_id",
    ]);
  });

  test("an unknown host: no service, endpoint or upstream status, as null", () => {
    const line = formatAccessRecord({ ...record, status: 404, service: null, endpoint: null, upstream_status: null, error: "unknown-service" });
    expect(JSON.parse(line)).toMatchObject({ status: 404, service: null, endpoint: null, upstream_status: null, error: "unknown-service" });
  });

  test("line breaks in values are escaped: a record is always one line", () => {
    const line = formatAccessRecord({ ...record, path: "/a\nb", host: "x\r\ny" });
    expect(line).not.toMatch(/[\r\n]/);
    expect(JSON.parse(line)).toMatchObject({ path: "/a\nb", host: "x\r\ny" });
  });
});

describe("sampling", () => {
  test("sampleRate 1 logs every record", () => {
    const lines: string[] = [];
    const log = createAccessLog({ sampleRate: 1, write: (l) => lines.push(l), random: () => 0.999999 });
    for (let i = 0; i < 5; i++) log.log(record);
    expect(log.enabled).toBe(true);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(formatAccessRecord(record));
  });

  test("sampleRate 0 is off: nothing written, random never drawn", () => {
    const lines: string[] = [];
    let draws = 0;
    const log = createAccessLog({ sampleRate: 0, write: (l) => lines.push(l), random: () => (draws++, 0) });
    for (let i = 0; i < 5; i++) log.log(record);
    expect(log.enabled).toBe(false);
    expect(lines).toEqual([]);
    expect(draws).toBe(0);
  });

  test("a record is logged when random() < sampleRate", () => {
    const lines: string[] = [];
    const log = createAccessLog({ sampleRate: 0.25, write: (l) => lines.push(l), random: sequence(0.1, 0.25, 0.5, 0.2499, 0.9) });
    for (let i = 0; i < 5; i++) log.log({ ...record, path: `/${i}` });
    expect(lines.map((l) => (JSON.parse(l) as AccessRecord).path)).toEqual(["/0", "/3"]);
  });

  test("sample() then write(): the decision alone, so unsampled requests build no record", () => {
    const lines: string[] = [];
    const log = createAccessLog({ sampleRate: 0.5, write: (l) => lines.push(l), random: sequence(0.7, 0.3) });
    expect(log.sample()).toBe(false);
    expect(log.sample()).toBe(true);
    log.write(record);
    expect(lines).toHaveLength(1);
  });

  test("a sampleRate outside 0..1 is refused", () => {
    const write = () => {};
    expect(() => createAccessLog({ sampleRate: 1.5, write })).toThrow("access log sampleRate must be a number from 0 to 1, got 1.5");
    expect(() => createAccessLog({ sampleRate: Number.NaN, write })).toThrow("got NaN");
  });
});
