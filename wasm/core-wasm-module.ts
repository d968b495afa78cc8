// Compiles and instantiates the WASM core from the base64 bytes that scripts/build-wasm.ts
// embeds in a generated module. Synchronous on purpose: the module is a few kilobytes, and a
// synchronous constructor keeps every table builder synchronous on both runtimes.
import { wasmBase64 as releaseBase64 } from "./build/core-release.wasm.ts";
import { wasmBase64 as debugBase64 } from "./build/core-debug.wasm.ts";

/** The exports of wasm/assembly/index.ts: numbers and pointers only. */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  xxh32(ptr: number, len: number, seed: number): number;
  maglevBuild(size: number, count: number, bytes: number, offsets: number, weights: number): number;
  maglevFree(table: number): void;
  maglevEntries(table: number): number;
  maglevLoads(table: number): number;
  maglevTotal(table: number): number;
  maglevIsWide(table: number): number;
  maglevLookup(table: number, hash: number, attempt: number): number;
  maglevPickBounded(table: number, hash: number, factor: number): number;
  maglevLookupKey(table: number, key: number, len: number, seed: number, attempt: number): number;
  maglevPickBoundedKey(table: number, key: number, len: number, seed: number, factor: number): number;
  labelsMatch(columns: number, count: number, stride: number, words: number, program: number, length: number, acc: number, out: number): number;
}

/** Which binary: release (-O3, no assertions) ships; debug (assertions) is for tests. */
export type CoreBuild = "release" | "debug";

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const modules = new Map<CoreBuild, WebAssembly.Module>();

/** Reads an AssemblyScript string (UTF-16, byte length at ptr - 4) for abort messages. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return "";
  const byteLength = new Uint32Array(memory.buffer, ptr - 4, 1)[0] ?? 0;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, byteLength >>> 1));
}

/** A fresh instance of the core, with its own linear memory. */
export function instantiateCore(build: CoreBuild = "release"): CoreExports {
  let module = modules.get(build);
  if (module === undefined) {
    module = new WebAssembly.Module(decodeBase64(build === "release" ? releaseBase64 : debugBase64));
    modules.set(build, module);
  }
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        const text =
          memory === undefined
            ? "assertion failed"
            : `${readAsString(memory, message) || "assertion failed"} at ${readAsString(memory, file)}:${line}:${column}`;
        throw new Error(`wasm core aborted: ${text}`);
      },
    },
  };
  const instance = new WebAssembly.Instance(module, imports);
  const exports = instance.exports as unknown as CoreExports;
  memory = exports.memory;
  return exports;
}
