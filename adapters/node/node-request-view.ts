// A GET from node:http as the Web Request a Hono Context carries, for serveNode's direct path
// (serve-node.ts), built without copying: method and url are plain fields; the fields, the signal
// and a real Request are made only when something asks for them. The router reads only method and
// url of it (the fields, the body and the client's address come from the IncomingMessage in
// c.env). @hono/node-server builds the same kind of lightweight Request for its own listener, but
// does not export how; this one follows it: the same url (serve-node.ts builds it by the same
// rule), a signal aborted when the client leaves before the response finished (its
// makeCloseHandler).

import type { IncomingMessage, ServerResponse } from "node:http";

export class NodeRequestView {
  readonly method = "GET";
  readonly url: string;
  readonly body = null;
  readonly bodyUsed = false;
  readonly #incoming: IncomingMessage;
  readonly #outgoing: ServerResponse;
  #headers: Headers | undefined = undefined;
  #abort: AbortController | undefined = undefined;
  #request: Request | undefined = undefined;

  constructor(url: string, incoming: IncomingMessage, outgoing: ServerResponse) {
    this.url = url;
    this.#incoming = incoming;
    this.#outgoing = outgoing;
  }

  /** The fields as Web Headers (lowercase, repeated fields joined), made on first use. */
  get headers(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers();
      const raw = this.#incoming.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** Aborted when the connection closes before the response finished, or the request failed. */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const abort = (this.#abort = new AbortController());
      const incoming = this.#incoming;
      const outgoing = this.#outgoing;
      const onClose = (): void => {
        if (incoming.errored) abort.abort(incoming.errored.toString());
        else if (!outgoing.writableFinished) abort.abort("Client connection prematurely closed.");
      };
      if (outgoing.closed) onClose();
      else outgoing.once("close", onClose);
    }
    return this.#abort.signal;
  }

  /** A real Request with the same method, url, fields and signal, for anything else. */
  #full(): Request {
    return (this.#request ??= new Request(this.url, { method: this.method, headers: this.headers, signal: this.signal }));
  }

  clone(): Request {
    return this.#full().clone();
  }

  text(): Promise<string> {
    return this.#full().text();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#full().arrayBuffer();
  }

  json(): Promise<unknown> {
    return this.#full().json();
  }

  blob(): Promise<Blob> {
    return this.#full().blob();
  }
}
