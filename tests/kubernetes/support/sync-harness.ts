// A KubernetesSource against a FakeKubeApi mounted in msw, with delays short enough for tests:
// backoff 5..50 ms, watches of 1..2 s, a 300 ms watchdog against 50 ms bookmarks.
import { http } from "msw";
import { Registry } from "prom-client";
import { FakeKubeApi, fakeKubeConfig, fakeKubeUrl, type FakeKubeApiOptions } from "../../../adapters/kubernetes/fake-api/index.ts";
import { KubernetesSource, type KubernetesSourceOptions } from "../../../adapters/kubernetes/kubernetes-source.ts";
import type { ListWatchTiming } from "../../../adapters/kubernetes/list-watch-loop.ts";
import type { RoutingTable } from "../../../router/table/routing-table.ts";
import { mockNetwork, type MockNetwork } from "./mock-network.ts";

export const fastTiming: Partial<ListWatchTiming> = {
  pageSize: 2,
  minWatchTimeoutSeconds: 1,
  watchSilenceMs: 300,
  watchDeadlineGraceMs: 500,
  shortWatchMs: 20,
  backoff: { initialMs: 5, maxMs: 50 },
};

export interface Harness {
  readonly fake: FakeKubeApi;
  readonly source: KubernetesSource;
  readonly tables: RoutingTable[];
  readonly logs: string[];
  readonly registry: Registry;
  close(): Promise<void>;
}

export async function startHarness(
  options: Partial<Omit<KubernetesSourceOptions, "onTable" | "kubeConfig">> & { fake?: FakeKubeApiOptions; seed?: (fake: FakeKubeApi) => void; onTable?: (table: RoutingTable) => void } = {},
): Promise<Harness> {
  const fake = new FakeKubeApi({ bookmarkIntervalMs: 50, ...options.fake });
  options.seed?.(fake);
  const network: MockNetwork = await mockNetwork(http.all(`${fakeKubeUrl}/*`, ({ request }) => fake.fetch(request)));
  const tables: RoutingTable[] = [];
  const logs: string[] = [];
  const registry = new Registry();
  const { fake: _, seed: __, onTable, ...rest } = options;
  const source = new KubernetesSource({
    kubeConfig: fakeKubeConfig(),
    timing: fastTiming,
    registry,
    log: (line) => logs.push(line),
    ...rest,
    onTable: (table) => {
      tables.push(table);
      onTable?.(table);
    },
  });
  source.start();
  return {
    fake,
    source,
    tables,
    logs,
    registry,
    async close() {
      await source.stop();
      fake.close();
      network.close();
    },
  };
}

/** Polls `check` until it returns true (or throws no more), or fails after `timeoutMs`. */
export async function eventually(check: () => boolean | void, timeoutMs = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (check() !== false) return;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw last instanceof Error ? last : new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The endpoints of a service in a table, as "address:port" sorted. */
export function endpointsOf(table: RoutingTable | undefined, key: string): string[] {
  const entry = table?.services.get(key);
  if (entry === undefined) return [];
  return entry.endpoints.map((e) => `${e.address}:${e.ports[0]?.port ?? "?"}${e.ready ? "" : " (not ready)"}`).sort();
}
