// One contract for vipr's fast paths, with two engines: the WASM core that ships and the plain-TS
// reference beside it. Callers and the conformance suites see only CoreEngine.
import type { MaglevEndpoint, MaglevOptions } from "./maglev-plan.ts";
import { buildReferenceMaglevTable, referenceHashKey } from "./maglev-reference.ts";
import { KEY_HASH_SEED, type MaglevTable } from "./maglev-table.ts";
import { buildWasmMaglevTable } from "./maglev-wasm.ts";
import type { CoreBuild } from "./core-wasm-module.ts";
import { buildReferenceLabelIndex } from "./label-index-reference.ts";
import { buildWasmLabelIndex } from "./label-index-wasm.ts";
import type { LabelIndex, Labels } from "./label-interning.ts";
import { WasmCore } from "./wasm-core.ts";
import { xxh32 } from "./xxhash32.ts";

export interface CoreEngine {
  /** "reference", "wasm" or "wasm-debug". */
  readonly name: string;
  /** xxHash32 of bytes. */
  hashBytes(bytes: Uint8Array, seed?: number): number;
  /** xxHash32 of a string key's UTF-8 bytes with KEY_HASH_SEED: the hash lookupKey uses. */
  hashKey(key: string): number;
  buildMaglev(endpoints: readonly MaglevEndpoint[], options?: MaglevOptions): MaglevTable;
  /** A label index over endpoints 0..n-1 with these labels, for selector matching. */
  buildLabelIndex(labels: readonly Labels[]): LabelIndex;
}

/** The plain-TS reference engine. */
export function createReferenceCore(): CoreEngine {
  return {
    name: "reference",
    hashBytes: (bytes, seed = 0) => xxh32(bytes, seed),
    hashKey: referenceHashKey,
    buildMaglev: buildReferenceMaglevTable,
    buildLabelIndex: buildReferenceLabelIndex,
  };
}

/** An engine on a fresh instance of the WASM core, or on the given one. */
export function createWasmCore(source: CoreBuild | WasmCore = "release"): CoreEngine {
  const core = typeof source === "string" ? new WasmCore(source) : source;
  const { exports } = core;
  return {
    name: core.build === "release" ? "wasm" : "wasm-debug",
    hashBytes(bytes, seed = 0) {
      const ptr = core.scratch(bytes.length);
      core.u8.set(bytes, ptr);
      return exports.xxh32(ptr, bytes.length, seed) >>> 0;
    },
    hashKey(key) {
      const length = core.writeKey(key);
      return exports.xxh32(core.keyPtr, length, KEY_HASH_SEED) >>> 0;
    },
    buildMaglev: (endpoints, options) => buildWasmMaglevTable(core, endpoints, options),
    buildLabelIndex: (labels) => buildWasmLabelIndex(core, labels),
  };
}

