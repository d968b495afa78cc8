// How many workers `vipr serve --workers auto` starts: the CPUs this container may use. Three
// limits apply, and the smallest wins:
// - the CPU set the process may run on (cgroup cpuset, taskset): os.availableParallelism() reads
//   sched_getaffinity, so it already sees it (Node docs, os.availableParallelism);
// - the CFS quota (a pod's `resources.limits.cpu`): cgroup v2 `cpu.max` is "QUOTA PERIOD" or
//   "max PERIOD" (kernel Documentation/admin-guide/cgroup-v2.rst, "cpu.max"); cgroup v1 splits it
//   into cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us. A quota of 1.5 CPUs rounds up to 2, as
//   Go's runtime (GOMAXPROCS, Go 1.25) and the JDK's container support do: the last worker is then
//   throttled, not idle.
// - at least 1.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { UsageError } from "../cli/cli-errors.ts";

export interface CpuProbe {
  /** A file's text, or undefined when it cannot be read (no cgroup, another layout). */
  readText(path: string): string | undefined;
  availableParallelism(): number;
}

const systemProbe: CpuProbe = {
  readText(path) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
  availableParallelism,
};

/** CPUs the cgroup quota allows, rounded up; undefined when there is no quota. */
export function quotaCpus(probe: CpuProbe): number | undefined {
  const v2 = probe.readText("/sys/fs/cgroup/cpu.max")?.trim();
  if (v2 !== undefined && v2 !== "") {
    const [quota, period] = v2.split(/\s+/);
    if (quota === "max") return undefined;
    const cpus = Number(quota) / Number(period ?? "100000");
    return Number.isFinite(cpus) && cpus > 0 ? Math.ceil(cpus) : undefined;
  }
  const quota = Number(probe.readText("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?.trim());
  const period = Number(probe.readText("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?.trim());
  if (!(quota > 0 && period > 0)) return undefined;
  return Math.ceil(quota / period);
}

/** The CPUs this process may use: the smallest of its CPU set and its quota, at least 1. */
export function usableCpus(probe: CpuProbe = systemProbe): number {
  const set = Math.max(1, probe.availableParallelism());
  const quota = quotaCpus(probe);
  return Math.max(1, quota === undefined ? set : Math.min(set, quota));
}

/** Most workers one vipr starts: more than this is a typo, not a machine. */
export const MAX_WORKERS = 256;

/** `--workers N|auto` -> a count; throws a UsageError naming what was wrong. */
export function parseWorkerCount(text: string, probe: CpuProbe = systemProbe): number {
  if (text.trim() === "auto") return usableCpus(probe);
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new UsageError(`--workers ${JSON.stringify(text)}: expected auto or a whole number from 1 to ${MAX_WORKERS}`);
  }
  return n;
}
