// `--workers auto`: the smallest of the CPU set and the cgroup quota (adapters/workers/cpu-count.ts).
import { describe, expect, test } from "vitest";
import { parseWorkerCount, quotaCpus, usableCpus, type CpuProbe } from "../../adapters/workers/cpu-count.ts";

function probe(files: Record<string, string>, cpus: number): CpuProbe {
  return { readText: (path) => files[path], availableParallelism: () => cpus };
}

describe("usable CPUs", () => {
  test("cgroup v2 cpu.max: a quota of 1.5 CPUs rounds up to 2; max is no quota", () => {
    expect(quotaCpus(probe({ "/sys/fs/cgroup/cpu.max": "150000 100000\n" }, 8))).toBe(2);
    expect(quotaCpus(probe({ "/sys/fs/cgroup/cpu.max": "max 100000\n" }, 8))).toBeUndefined();
    expect(usableCpus(probe({ "/sys/fs/cgroup/cpu.max": "400000 100000\n" }, 8))).toBe(4);
    expect(usableCpus(probe({ "/sys/fs/cgroup/cpu.max": "max 100000\n" }, 8))).toBe(8);
  });

  test("cgroup v1: cfs_quota_us -1 is no quota; a CPU set smaller than the quota wins", () => {
    expect(quotaCpus(probe({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n" }, 4))).toBeUndefined();
    expect(usableCpus(probe({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "300000\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n" }, 2))).toBe(2);
    expect(usableCpus(probe({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n" }, 16))).toBe(1);
  });

  test("no cgroup files: the CPU set (os.availableParallelism); never below 1", () => {
    expect(usableCpus(probe({}, 6))).toBe(6);
    expect(usableCpus(probe({}, 0))).toBe(1);
  });
});

describe("--workers N|auto", () => {
  test("auto is the usable CPUs; N is N", () => {
    expect(parseWorkerCount("auto", probe({ "/sys/fs/cgroup/cpu.max": "200000 100000" }, 8))).toBe(2);
    expect(parseWorkerCount("3")).toBe(3);
    expect(parseWorkerCount("1")).toBe(1);
  });

  test.each(["0", "-1", "1.5", "", "many", "257"])("%j is refused with the reason", (text) => {
    expect(() => parseWorkerCount(text)).toThrow(`--workers ${JSON.stringify(text)}: expected auto or a whole number from 1 to 256`);
  });
});
