// Load for the worker tests: clients that each keep one connection open (an http.Agent with one
// keep-alive socket) and send GETs one after another, recording which worker (x-vipr-worker)
// answered each and every failure. A connection stays with the worker that accepted it, so a
// client's worker is its connection's worker.
import http from "node:http";

export interface ClientRecord {
  readonly id: number;
  /** The worker of each answer, in order. */
  readonly workers: string[];
  readonly statuses: number[];
  readonly failures: string[];
  /** Answers since the mark (mark()). */
  sinceMark: number;
}

export interface KeepAliveClient {
  readonly record: ClientRecord;
  /** Sends one request (to `path`, default the client's); resolves with the worker that answered,
   * or undefined on failure. */
  once(path?: string): Promise<string | undefined>;
  /** Sends requests until stop(); resolves when the loop ends. */
  loop(): Promise<void>;
  stop(): void;
  close(): void;
}

export function keepAliveClient(id: number, port: number, host: string, path = "/info"): KeepAliveClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const record: ClientRecord = { id, workers: [], statuses: [], failures: [], sinceMark: 0 };
  let running = true;
  const once = (onPath = path): Promise<string | undefined> =>
    new Promise((resolve) => {
      const request = http.get({ host: "127.0.0.1", port, path: onPath, agent, headers: { host } }, (response) => {
        response.resume();
        response.on("end", () => {
          const worker = String(response.headers["x-vipr-worker"]);
          record.workers.push(worker);
          record.statuses.push(response.statusCode ?? 0);
          record.sinceMark++;
          resolve(worker);
        });
        response.on("error", (error) => {
          record.failures.push(`response: ${error.message}`);
          resolve(undefined);
        });
      });
      request.setTimeout(20_000, () => request.destroy(new Error("no answer within 20 s")));
      request.on("error", (error) => {
        record.failures.push(error.message);
        resolve(undefined);
      });
    });
  return {
    record,
    once,
    async loop() {
      while (running) if ((await once()) === undefined) return;
    },
    stop() {
      running = false;
    },
    close() {
      agent.destroy();
    },
  };
}

/** Waits until `condition` holds, checking every `everyMs`; throws `message` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, message: string, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${message} (waited ${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
