// npm run bench:core [-- --json]: the WASM core against its plain-TS reference, in one run.
// Every figure is a median time per operation; ratio = WASM / reference (below 1: WASM faster).
import { parseArgs } from "node:util";
import { createReferenceCore, createWasmCore, type CoreEngine } from "../wasm/core-engine.ts";
import { encodeKeyInto, encodeKeyIntoWords, encodeKeyWithEncodeInto } from "../wasm/key-encoding.ts";
import { parseSelector } from "../wasm/label-selector.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { measureNs } from "./measure.ts";

const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
const json = values.json === true;
const runtime = "Deno" in globalThis ? "deno" : "node";
const bench = `core-${runtime}`;

const reference = createReferenceCore();
const wasm = createWasmCore("release");
const rows: BenchRow[] = [];

// 1024 distinct 32-character ASCII keys, like session ids or client addresses with a prefix.
const keys = Array.from({ length: 1024 }, (_, i) => `session-${i.toString(16).padStart(8, "0")}-abcdefghijklmno`);

function endpoints(count: number): { id: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: `simpleservice-rc-${i.toString(36)}` }));
}

// Key encoding: the charCodeAt loop against TextEncoder.encodeInto, for short ASCII keys.
{
  const bytes = new Uint8Array(256);
  const loop = measureNs((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += encodeKeyInto(keys[i & 1023]!, bytes, 0);
    return sum;
  }, { batch: 200_000 });
  const encodeInto = measureNs((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += encodeKeyWithEncodeInto(keys[i & 1023]!, bytes, 0);
    return sum;
  }, { batch: 200_000 });
  const words = new Uint32Array(bytes.buffer);
  const packed = measureNs((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += encodeKeyIntoWords(keys[i & 1023]!, bytes, words, 0);
    return sum;
  }, { batch: 200_000 });
  rows.push(row(bench, "encode_key_32b_charcode_bytes", loop, "ns/op", encodeInto, "baseline: TextEncoder.encodeInto"));
  rows.push(row(bench, "encode_key_32b_charcode_words", packed, "ns/op", encodeInto, "baseline: TextEncoder.encodeInto (used by the WASM binding)"));
}

function both(metric: string, unit: "ns/op" | "ms/op", measure: (engine: CoreEngine) => number): void {
  const scale = unit === "ms/op" ? 1e-6 : 1;
  const w = measure(wasm) * scale;
  const r = measure(reference) * scale;
  rows.push(row(bench, metric, w, unit, r, "baseline: plain-TS reference"));
}

// Hash and pick, end to end from a JS string key of 32 characters.
both("hash_key_32b", "ns/op", (engine) =>
  measureNs((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum ^= engine.hashKey(keys[i & 1023]!);
    return sum;
  }, { batch: 200_000 }),
);

for (const [count, metric] of [
  [100, "maglev_pick_key_32b_100ep"],
  [1000, "maglev_pick_key_32b_1000ep"],
] as const) {
  both(metric, "ns/op", (engine) => {
    const table = engine.buildMaglev(endpoints(count));
    const ns = measureNs((n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += table.lookupKey(keys[i & 1023]!);
      return sum;
    }, { batch: 200_000 });
    table.free();
    return ns;
  });
}

// Retry walk: the third choice of a key (attempt 2).
both("maglev_walk_attempt2_100ep", "ns/op", (engine) => {
  const table = engine.buildMaglev(endpoints(100));
  const ns = measureNs((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += table.lookupKey(keys[i & 1023]!, 2);
    return sum;
  }, { batch: 100_000 });
  table.free();
  return ns;
});

// Bounded-load pick with 100 endpoints, a steady in-flight load, and c = 1.25: requests come and
// go so that loads stay near the bound and walks past full endpoints happen.
both("bounded_pick_key_32b_100ep_c1.25", "ns/op", (engine) => {
  const table = engine.buildMaglev(endpoints(100));
  const inFlight: number[] = [];
  const ns = measureNs((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const picked = table.pickBoundedKey(keys[i & 1023]!, 1.25);
      table.acquire(picked);
      inFlight.push(picked);
      if (inFlight.length > 500) table.release(inFlight.shift()!);
      sum += picked;
    }
    return sum;
  }, { batch: 50_000 });
  table.free();
  return ns;
});

// Selector evaluation over 10000 endpoints with pod-like labels (app, version, zone, a canary flag
// on 1 in 10), for a selector of four requirements; compiled once, as a router caches it.
{
  const labels = Array.from({ length: 10000 }, (_, i) => ({
    app: `app-${i % 50}`,
    version: `v${i % 7}`,
    "topology.kubernetes.io/zone": `zone-${i % 3}`,
    "pod-template-hash": (i * 2654435761 >>> 0).toString(36),
    ...(i % 10 === 0 ? { canary: "" } : {}),
  }));
  const selector = parseSelector("app in (app-1,app-2,app-3),version!=v3,topology.kubernetes.io/zone,!canary");
  both("selector_eval_10000ep_4req", "ns/op", (engine) => {
    const index = engine.buildLabelIndex(labels);
    const compiled = index.compile(selector);
    const out = new Uint8Array(index.size);
    const ns = measureNs((n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += index.matchInto(compiled, out);
      return sum;
    }, { batch: 200 });
    index.free();
    return ns;
  });
}

// Maglev table builds.
for (const [count, size] of [
  [10, 65537],
  [100, 65537],
  [1000, 65537],
  [10000, undefined],
] as const) {
  const label = size === undefined ? "default_m" : `m${size}`;
  both(`maglev_build_${count}ep_${label}`, "ms/op", (engine) =>
    measureNs((n) => {
      let last = 0;
      const input = endpoints(count);
      for (let i = 0; i < n; i++) {
        const table = size === undefined ? engine.buildMaglev(input) : engine.buildMaglev(input, { size });
        last = table.size;
        table.free();
      }
      return last;
    }, { batch: 1, samples: count === 10000 ? 5 : 15, warmup: 2 }),
  );
}

printRows(rows, json);
