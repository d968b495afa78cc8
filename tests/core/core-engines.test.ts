import { createReferenceCore, createWasmCore } from "../../wasm/core-engine.ts";
import { runCoreConformance } from "./core.conformance.ts";

runCoreConformance("reference", createReferenceCore);
runCoreConformance("wasm release", () => createWasmCore("release"));
runCoreConformance("wasm debug", () => createWasmCore("debug"));
