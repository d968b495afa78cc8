// CPU time and memory of benchmark processes, read from /proc (Linux; NaN elsewhere or once the
// process is gone). CPU time per request moves far less with the machine's other load than
// requests/s does, so the load benchmarks report both.
import { readFileSync } from "node:fs";

/** User + system CPU time of a process so far, in ms (fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms). */
export function cpuTimeMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The CPU time of these processes together, in ms (NaN when one is gone). */
export function totalCpuTimeMs(pids: readonly number[]): number {
  return pids.reduce((total, pid) => total + cpuTimeMs(pid), 0);
}

/** A memory figure of /proc/PID/status in MiB: VmRSS (resident now) or VmHWM (peak resident). */
export function memoryMiB(pid: number | undefined, field: "VmRSS" | "VmHWM"): number {
  if (pid === undefined) return NaN;
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}
