// The WASM core's single entry: every export of the module is re-exported here.
export { alloc, free } from "./memory";
export { xxh32 } from "./hash";
export {
  maglevBuild,
  maglevFree,
  maglevEntries,
  maglevLoads,
  maglevTotal,
  maglevIsWide,
  maglevLookup,
  maglevPickBounded,
  maglevLookupKey,
  maglevPickBoundedKey,
} from "./maglev";
export { labelsMatch } from "./labels";
