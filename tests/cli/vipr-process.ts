// The vipr CLI as a process of the runtime running the tests: `node adapters/cli/vipr.ts ...` on
// Node, `deno run -A adapters/cli/vipr.ts ...` on Deno, so each runtime tests its own CLI. Every
// process started here is remembered, so a suite's afterAll can kill what is still running.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";

/** The repository root: the CLI runs there, so examples/... paths work as in the README. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export const onDeno = "Deno" in globalThis;

/** The command and arguments that run `vipr ARGS` on this runtime. */
export function viprCommand(args: readonly string[]): { command: string; args: string[] } {
  if (onDeno) {
    const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno;
    return { command: deno.execPath(), args: ["run", "-A", "adapters/cli/vipr.ts", ...args] };
  }
  return { command: process.execPath, args: ["adapters/cli/vipr.ts", ...args] };
}

/** The environment without proxy settings, so nothing the CLI dials goes elsewhere. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const name of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  return env;
}

const running = new Set<ChildProcess>();

/** Kills every vipr process still running (for afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
  running.clear();
}

export interface ViprProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the match once stdout or stderr (as chosen) matches, rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr", timeoutMs?: number): Promise<RegExpMatchArray>;
  /**
   * Sends a signal through process.kill(pid): Deno's ChildProcess.kill() marks the child as killed
   * by that signal (code null) even when the child handles it and exits 0 on its own.
   */
  signal(name: NodeJS.Signals): void;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `vipr ARGS` in the repository root. */
export function startVipr(args: readonly string[]): ViprProcess {
  const { command, args: argv } = viprCommand(args);
  const child = spawn(command, argv, { cwd: repoRoot, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const out = { stdout: "", stderr: "" };
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out.stdout += chunk;
    for (const listener of [...listeners]) listener();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    out.stderr += chunk;
    for (const listener of [...listeners]) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      for (const listener of [...listeners]) listener();
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    signal: (name) => void process.kill(child.pid!, name),
    exited,
    waitFor(pattern, stream = "stderr", timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = out[stream].match(pattern);
          if (match !== null) {
            done();
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`vipr exited (${child.exitCode ?? child.signalCode}) before ${stream} matched ${pattern}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${stream} did not match ${pattern} within ${timeoutMs} ms\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `vipr ARGS` to its end (killed after `timeoutMs`). The kill is a guard against a process
 * that hangs, not a measure of speed: a short command takes about 1 s of CPU to start, which on a
 * shared, busy machine has taken more than 15 s of wall time, so the default stays under the
 * test timeout (30 s) with room to spare but well above a normal start. */
export async function runVipr(args: readonly string[], timeoutMs = 25_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const vipr = startVipr(args);
  const timer = setTimeout(() => vipr.child.kill("SIGKILL"), timeoutMs);
  const { code } = await vipr.exited;
  clearTimeout(timer);
  return { code, stdout: vipr.stdout(), stderr: vipr.stderr() };
}

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * One HTTP/1.1 request over a fresh socket, with exactly the request line and Host given (fetch
 * will not send a foreign Host, nor an absolute-form target).
 */
export function rawRequest(port: number, requestLine: string, host: string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(`${requestLine}\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer to ${requestLine} (host ${host}) within ${timeoutMs} ms`)));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const data = Buffer.concat(chunks);
      const split = data.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no response head to ${requestLine}: ${JSON.stringify(data.toString("latin1"))}`));
      const head = data.subarray(0, split).toString("latin1");
      let rest = data.subarray(split + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        // Chunk sizes count bytes, so the body is decoded as bytes and only then as UTF-8.
        const parts: Buffer[] = [];
        for (;;) {
          const eol = rest.indexOf("\r\n");
          const size = parseInt(rest.subarray(0, eol).toString("latin1"), 16);
          if (!(size > 0)) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 2 + size + 2);
        }
        rest = Buffer.concat(parts);
      }
      const body = rest.toString("utf8");
      resolve({ status: Number(head.split(" ")[1]), head, body });
    });
  });
}

/** GET `path` on a loopback port with Host 127.0.0.1 (the admin listener). */
export function get(port: number, path: string): Promise<RawResponse> {
  return rawRequest(port, `GET ${path} HTTP/1.1`, `127.0.0.1:${port}`);
}
