// Child processes for the packaging test and the footprint bench: run one to completion (failing
// with its output), or start one and wait for the line that says it got somewhere.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface Finished {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; rejects with its output when it exits with anything but 0. */
export function runProcess(command: string, args: readonly string[], options: SpawnOptions): Promise<Finished> {
  const running = startProcess(command, args, options);
  return running.exited.then(({ code, signal }) => {
    if (code === 0) return { stdout: running.stdout(), stderr: running.stderr() };
    throw new Error(`${command} ${args.join(" ")} exited with ${code ?? signal}:\n${running.output()}`);
  });
}

export interface StartedProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout then stderr, for error messages. */
  output(): string;
  /** Resolves with the first match in stdout or stderr; rejects if the process exits first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  signal(name: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(command: string, args: readonly string[], options: SpawnOptions): StartedProcess {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out.stdout += chunk;
    notify();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    out.stderr += chunk;
    notify();
  });
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      ended = true;
      notify();
      resolve({ code, signal });
    });
  });
  const output = (): string => `${out.stdout}${out.stderr}`;
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    output,
    exited,
    signal(name) {
      if (!ended) child.kill(name);
    },
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(out.stdout) ?? pattern.exec(out.stderr);
          if (match === null && !ended) return;
          listeners.delete(check);
          clearTimeout(timer);
          if (match !== null) resolve(match);
          else reject(new Error(`${command} ${args.join(" ")} exited before printing ${pattern}:\n${output()}`));
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${command} ${args.join(" ")} did not print ${pattern} within ${timeoutMs} ms:\n${output()}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
