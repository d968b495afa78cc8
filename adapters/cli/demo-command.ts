// `vipr demo`: the seed's walk-through on this machine, no cluster needed. vipr loads the
// tutorial's ReplicationController and Service (examples/simpleservice.yaml) with its file source,
// starts the controller's pods as local servers, sends traffic to `simpleservice` through vipr,
// scales the controller from one replica to two the way `kubectl scale --replicas=2 rc/rcsise`
// does, and draws how the traffic splits per pod, live.
import http from "node:http";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { startFileSource } from "../file/file-source.ts";
import { EXIT_OK, UsageError } from "./cli-errors.ts";
import { routeToDemoPods, startDemoPod, type DemoPod } from "./demo-pods.ts";
import { parseListen, startVipr } from "./start-vipr.ts";
import { renderChart } from "./traffic-chart.ts";

export const demoHelp = `vipr demo: the services tutorial (two pods labelled app=sise behind simpleservice:80 -> 9876)
on this machine: local pods, vipr routing by service name, scaling from one replica to two.

Usage: vipr demo [options]

  --listen HOST:PORT      vipr's traffic listener (default 127.0.0.1:8080)
  --admin HOST:PORT       admin listener (default 127.0.0.1:9090; "off" for none)
  --manifests PATH        the tutorial's objects (default examples/simpleservice.yaml)
  --duration SECONDS      stop after this long (default: at Ctrl-C on a terminal, else 15)
  --scale-after SECONDS   when to scale rc/rcsise to 2 replicas (default 4)
  --rate N                demo requests per second (default 20)
  --pod-port PORT         the port every pod listens on (default: the manifests' containerPort,
                          9876); 0: each pod takes a free port, and vipr routes to it
`;

const options = {
  listen: { type: "string", default: "127.0.0.1:8080" },
  admin: { type: "string", default: "127.0.0.1:9090" },
  manifests: { type: "string" },
  duration: { type: "string" },
  "scale-after": { type: "string", default: "4" },
  rate: { type: "string", default: "20" },
  "pod-port": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected a number of seconds`);
  return n;
}

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

export async function runDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(demoHelp);
    return EXIT_OK;
  }
  const tty = process.stdout.isTTY === true;
  const duration = values.duration === undefined ? (tty ? Infinity : 15) : seconds(values.duration, "--duration");
  const scaleAfter = seconds(values["scale-after"], "--scale-after");
  const rate = seconds(values.rate, "--rate");
  const manifests = values.manifests ?? fileURLToPath(new URL("../../examples/simpleservice.yaml", import.meta.url));
  const listen = parseListen(values.listen, "--listen");
  const admin = values.admin === "off" ? null : parseListen(values.admin, "--admin");
  const podPortFlag = values["pod-port"];
  const podPort = podPortFlag === undefined ? undefined : Number(podPortFlag);
  if (podPort !== undefined && !(/^[0-9]{1,5}$/.test(podPortFlag!) && podPort <= 65535)) {
    throw new UsageError(`--pod-port ${JSON.stringify(podPortFlag)}: expected a port number from 0 to 65535`);
  }

  const vipr = await startVipr({ listen, admin, namespace: "default" });
  const port = vipr.server!.port; // started with a traffic listener
  const pods = new Map<string, DemoPod>();
  const log = (line: string): void => console.log(line);

  // Pods of the table that are not running yet start before the table is published, as a pod is
  // only Ready once its server answers; pods that left the table stop after it is published.
  // A pod that cannot start (its address taken) fails the demo at the start; later (after the
  // scale-up) it is reported and vipr keeps routing by the table it has.
  let publishing: Promise<void> = Promise.resolve();
  let loaded = false;
  let startError: Error | undefined;
  const publish = (table: RoutingTable): void => {
    publishing = publishing.then(async () => {
      const wanted = new Map<string, { address: string; port: number }>();
      for (const service of table.services.values()) {
        for (const endpoint of service.endpoints) {
          const target = endpoint.ports[0];
          if (endpoint.targetRef !== undefined && target !== undefined) wanted.set(endpoint.targetRef.name, { address: endpoint.address, port: target.port });
        }
      }
      for (const [name, where] of wanted) {
        if (pods.has(name)) continue;
        const pod = await startDemoPod(name, where.address, podPort ?? where.port);
        pods.set(name, pod);
        log(`pod ${name} running on ${pod.address}:${pod.port} (labels app=sise)`);
      }
      vipr.setTable(podPort === undefined ? table : routeToDemoPods(table, pods));
      for (const [name, pod] of pods) {
        if (wanted.has(name)) continue;
        pods.delete(name);
        await pod.close();
        log(`pod ${name} stopped`);
      }
    }).catch((error: unknown) => {
      // Kept, not rethrown: nothing awaits this chain until the file source has started, and a
      // rejection nobody handles yet would end the process with a stack trace.
      if (!loaded) startError ??= error as Error;
      else log(`problem: ${(error as Error).message}; vipr keeps routing by the previous table`);
    });
  };

  const files = await startFileSource({ path: manifests, onTable: (table) => publish(table), onProblems: (lines) => lines.forEach((line) => log(`problem: ${line}`)) });
  await publishing;
  if (startError !== undefined) throw startError;
  loaded = true;
  const service = files.table.services.get("default/simpleservice");
  log(`vipr ${vipr.runtime.name} ${vipr.runtime.version}: loaded ${relative(process.cwd(), manifests) || manifests}`);
  log(`  service simpleservice: port 80 -> ${String(service?.ports[0]?.targetPort ?? "?")}, selector app=sise, ${service?.endpoints.length ?? 0} endpoint(s)`);
  log(`  listening on http://${listen.hostname}:${port}${vipr.adminServer === undefined ? "" : `, admin on http://${admin!.hostname}:${vipr.adminServer.port}`}`);
  log("");
  log("Try, while the demo runs:");
  log(`  curl -H 'Host: simpleservice' http://${listen.hostname}:${port}/info`);
  log(`  http_proxy=http://${listen.hostname}:${port} curl simpleservice/info`);
  log(`  http_proxy=http://${listen.hostname}:${port} curl simpleservice.default.svc.cluster.local/info`);
  if (vipr.adminServer !== undefined) log(`  curl 'http://${admin!.hostname}:${vipr.adminServer.port}/debug/explain?host=simpleservice'`);
  log("");

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

  const scaling = setTimeout(() => {
    drawn = 0;
    log(`\n$ kubectl scale --replicas=2 rc/rcsise`);
    files.set.scale("ReplicationController", "rcsise", 2);
    files.republish();
    void publishing.then(() => (scaled = pods.size > 1)); // false when the second pod could not start
  }, scaleAfter * 1000);

  await new Promise<void>((resolve) => {
    const end = Number.isFinite(duration) ? setTimeout(resolve, duration * 1000) : undefined;
    process.once("SIGINT", () => {
      if (end !== undefined) clearTimeout(end);
      resolve();
    });
  });
  clearInterval(traffic);
  clearInterval(redraw);
  clearTimeout(scaling);
  drawn = 0;
  log("");
  draw(true);
  files.close();
  agent.destroy();
  await vipr.close();
  for (const pod of pods.values()) await pod.close();
  return EXIT_OK;
}
