// The demo's traffic and its chart: requests for simpleservice through vipr at a steady rate, and
// a bar per pod of where the last 5 s of them went, redrawn in place on a terminal (every 2 s as
// plain lines otherwise), then a final split.
import http from "node:http";
import type { DemoPod } from "./demo-pods.ts";
import { renderChart } from "./traffic-chart.ts";

/** GET /info with Host: simpleservice through vipr; resolves to the pod name or an error text. */
function askService(agent: http.Agent, port: number): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/info", headers: { host: "simpleservice" }, agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        try {
          const parsed = JSON.parse(body) as { pod?: string; error?: { code?: string } };
          resolve(parsed.pod ?? `error ${response.statusCode} ${parsed.error?.code ?? ""}`.trim());
        } catch {
          resolve(`error ${response.statusCode}`);
        }
      });
    });
    request.on("error", (error) => resolve(`error ${error.message}`));
  });
}

export interface DemoTraffic {
  /** From now on, count requests toward the final "after scaling" split. */
  markScaled(): void;
  /** Lines printed since the last redraw are not overdrawn by the next chart. */
  keepOutput(): void;
  /** Stops the traffic and prints the final split. */
  stop(): void;
}

export function startDemoTraffic(port: number, rate: number, pods: ReadonlyMap<string, DemoPod>, tty: boolean): DemoTraffic {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const window: { at: number; pod: string }[] = [];
  const totals = new Map<string, number>();
  // Requests after the scale-up, when both pods serve: the split the tutorial talks about.
  const afterScale = new Map<string, number>();
  let scaled = false;
  let errors = 0;
  const started = Date.now();
  const traffic = setInterval(() => {
    void askService(agent, port).then((pod) => {
      if (pod.startsWith("error")) errors++;
      else {
        window.push({ at: Date.now(), pod });
        totals.set(pod, (totals.get(pod) ?? 0) + 1);
        if (scaled) afterScale.set(pod, (afterScale.get(pod) ?? 0) + 1);
      }
    });
  }, 1000 / Math.max(rate, 0.1));

  let drawn = 0;
  const draw = (final: boolean): void => {
    const now = Date.now();
    while (window.length > 0 && window[0]!.at < now - 5000) window.shift();
    const source = final ? (scaled ? afterScale : totals) : window.reduce((m, h) => m.set(h.pod, (m.get(h.pod) ?? 0) + 1), new Map<string, number>());
    const rows = [...pods.values()].map((pod) => ({ pod: pod.name, address: `${pod.address}:${pod.port}`, count: source.get(pod.name) ?? 0 }));
    const title = final
      ? `simpleservice: the ${[...source.values()].reduce((a, b) => a + b, 0)} requests ${scaled ? "after scaling to 2 replicas" : "so far"}`
      : `simpleservice: requests per pod, last 5 s (t=${Math.round((now - started) / 1000)}s)`;
    const block = [title, ...renderChart(rows), ...(errors > 0 ? [`  errors: ${errors}`] : [])];
    if (tty && !final && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
    process.stdout.write(block.join("\n") + "\n");
    drawn = tty ? block.length : 0;
  };
  const redraw = setInterval(() => {
    if (tty || Math.round((Date.now() - started) / 500) % 4 === 0) draw(false);
  }, 500);

  return {
    markScaled: () => void (scaled = true),
    keepOutput: () => void (drawn = 0),
    stop: () => {
      clearInterval(traffic);
      clearInterval(redraw);
      drawn = 0;
      process.stdout.write("\n");
      draw(true);
      agent.destroy();
    },
  };
}

/** Resolves after `duration` seconds (Infinity: never), or at Ctrl-C. */
export function untilDemoEnds(duration: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const end = Number.isFinite(duration) ? setTimeout(resolve, duration * 1000) : undefined;
    process.once("SIGINT", () => {
      if (end !== undefined) clearTimeout(end);
      resolve();
    });
  });
}
