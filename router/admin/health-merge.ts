// /debug/table of `vipr serve --workers N`: passive health is kept by each worker for the requests
// it forwarded (as Envoy's outlier detection is per worker thread), so the view merges them: an
// endpoint shows the worst of the workers' records (ejected if any worker has it ejected, until the
// latest end; the most consecutive failures and ejections). Per-worker detail: /debug/workers and
// each worker's /debug/explain.
import type { EndpointHealthView } from "../balancing/outlier-detection.ts";
import type { EndpointHealthByService } from "./table-view.ts";

/** Each worker's ServiceRouter.endpointHealth(), as [service key, views] pairs. */
export function mergeEndpointHealth(workers: readonly (readonly (readonly [string, readonly EndpointHealthView[]])[])[]): EndpointHealthByService {
  const byService = new Map<string, Map<string, EndpointHealthView>>();
  for (const worker of workers) {
    for (const [service, views] of worker) {
      let endpoints = byService.get(service);
      if (endpoints === undefined) byService.set(service, (endpoints = new Map()));
      for (const view of views) {
        const key = `${view.identity}\u0000${view.address}`;
        const seen = endpoints.get(key);
        endpoints.set(key, seen === undefined ? view : worse(seen, view));
      }
    }
  }
  return new Map([...byService].map(([service, endpoints]) => [service, [...endpoints.values()]]));
}

function worse(a: EndpointHealthView, b: EndpointHealthView): EndpointHealthView {
  const until = a.ejectedUntil === null ? b.ejectedUntil : b.ejectedUntil === null ? a.ejectedUntil : Math.max(a.ejectedUntil, b.ejectedUntil);
  return { identity: a.identity, address: a.address, consecutiveFailures: Math.max(a.consecutiveFailures, b.consecutiveFailures), ejections: Math.max(a.ejections, b.ejections), ejectedUntil: until };
}
