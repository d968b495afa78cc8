// A full list of one collection in pages (client-go tools/pager): `limit` items per request and
// the server's `continue` token for the next page. Every page is served from the same snapshot (the
// first page's resourceVersion), so the pages together are one consistent list. A continue token
// outlives its snapshot only for a few minutes (etcd compaction); when it has expired (410) the
// list is taken again in one unpaged request, as client-go's pager does (FullListIfExpired).
// The list carries no resourceVersion: a consistent read from etcd, never older than what this
// process saw before (a list from the watch cache, resourceVersion=0, could go back in time).

import type { KubeApiClient } from "./kube-api-client.ts";
import { errorFromResponse, KubeApiError } from "./kube-api-error.ts";

export interface ListResult<T> {
  readonly items: T[];
  /** The snapshot's resourceVersion: where the watch starts. */
  readonly resourceVersion: string;
  readonly pages: number;
}

export interface ListRequest {
  /** The collection path, e.g. "/api/v1/services". */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Items per page; 0 lists in one request. */
  readonly pageSize: number;
}

interface ListBody {
  readonly metadata?: { readonly resourceVersion?: unknown; readonly continue?: unknown } | null;
  readonly items?: unknown;
}

async function readPage(client: KubeApiClient, url: string, signal: AbortSignal): Promise<{ items: unknown[]; resourceVersion: string; next: string }> {
  const response = await client.get(url, signal);
  if (!response.ok) throw await errorFromResponse(response, `list ${url}`);
  let body: ListBody;
  try {
    body = (await response.json()) as ListBody;
  } catch (error) {
    if (signal.aborted) throw error;
    throw new KubeApiError("protocol", response.status, "", `list ${url}: the body is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const items = body?.items ?? [];
  const resourceVersion = body?.metadata?.resourceVersion;
  if (!Array.isArray(items) || typeof resourceVersion !== "string" || resourceVersion === "") {
    throw new KubeApiError("protocol", response.status, "", `list ${url}: expected {"metadata":{"resourceVersion":".."},"items":[..]}, got items ${Array.isArray(items) ? "[..]" : typeof items} and resourceVersion ${JSON.stringify(resourceVersion)}`);
  }
  const next = body.metadata?.continue;
  return { items, resourceVersion, next: typeof next === "string" ? next : "" };
}

/** Lists every item; `transform` sees each item once, as parsed (it may return a trimmed copy). */
export async function listAllPages<T>(client: KubeApiClient, request: ListRequest, signal: AbortSignal, transform: (item: unknown) => T): Promise<ListResult<T>> {
  const query = (pageSize: number, token: string): string => {
    const params = new URLSearchParams();
    if (request.labelSelector !== undefined && request.labelSelector !== "") params.set("labelSelector", request.labelSelector);
    if (request.fieldSelector !== undefined && request.fieldSelector !== "") params.set("fieldSelector", request.fieldSelector);
    if (pageSize > 0) params.set("limit", String(pageSize));
    if (token !== "") params.set("continue", token);
    const text = params.toString();
    return text === "" ? request.path : `${request.path}?${text}`;
  };
  let pageSize = request.pageSize;
  for (;;) {
    const items: T[] = [];
    let resourceVersion = "";
    let token = "";
    let pages = 0;
    try {
      do {
        const page = await readPage(client, query(pageSize, token), signal);
        pages++;
        if (resourceVersion === "") resourceVersion = page.resourceVersion;
        for (const item of page.items) items.push(transform(item));
        token = page.next;
      } while (token !== "");
      return { items, resourceVersion, pages };
    } catch (error) {
      // Only a continue token can expire mid-list; a first page that is 410 is the caller's to handle.
      if (error instanceof KubeApiError && error.kind === "expired" && pages > 0 && pageSize > 0) {
        pageSize = 0;
        continue;
      }
      throw error;
    }
  }
}
