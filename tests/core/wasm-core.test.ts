// The WASM binding itself: memory reuse, views across growth, and the debug build's assertions.
import { describe, expect, test } from "vitest";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { WasmCore } from "../../wasm/wasm-core.ts";

describe("wasm binding", () => {
  test("freed tables are reused: 100 build/free cycles do not grow memory", () => {
    const core = new WasmCore("release");
    const endpoints = Array.from({ length: 50 }, (_, i) => ({ id: `pod-${i}` }));
    const engine = createWasmCore(core);
    engine.buildMaglev(endpoints).free();
    const before = core.exports.memory.buffer.byteLength;
    for (let i = 0; i < 100; i++) engine.buildMaglev(endpoints).free();
    expect(core.exports.memory.buffer.byteLength).toBe(before);
    // Without the frees, the same cycles need more memory: the check above can fail.
    for (let i = 0; i < 100; i++) engine.buildMaglev(endpoints);
    expect(core.exports.memory.buffer.byteLength).toBeGreaterThan(before);
  });

  test("views are remade when memory grows: loads stay readable after a big allocation", () => {
    const engine = createWasmCore("release");
    const table = engine.buildMaglev([{ id: "a" }, { id: "b" }], { size: 7 });
    table.acquire(1);
    // A table of 4 million slots grows linear memory by megabytes, detaching old buffers.
    const big = engine.buildMaglev(Array.from({ length: 40000 }, (_, i) => ({ id: `p${i}` })));
    expect(table.load(1)).toBe(1);
    table.acquire(1);
    expect(table.load(1)).toBe(2);
    expect(table.total).toBe(2);
    expect(table.lookupKey("x".repeat(5000))).toBeLessThan(2);
    big.free();
    table.free();
  });

  test("the debug build reports a failed assertion with its message", () => {
    const core = new WasmCore("debug");
    // Freeing a pointer inside a block, not at its start, trips the TLSF allocator's assertion.
    const block = core.exports.alloc(64);
    expect(() => core.exports.free(block + 4)).toThrow(/^wasm core aborted: assertion failed at ~lib\/rt\/tlsf\.ts:\d+:\d+$/);
  });
});
