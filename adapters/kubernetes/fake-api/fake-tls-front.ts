// TLS in front of the served fake API server, for clients that send credentials only over TLS:
// kubectl (client-go's clientcmd) drops a kubeconfig's token, client certificate and
// impersonation when the server URL is http://, so a test of authorization with the real kubectl
// needs https. Each TLS connection is piped, bytes as they are, to the plain-http server on
// loopback; node:tls and node:net run on Node and on Deno alike.
import net from "node:net";
import tls from "node:tls";

export interface FakeTlsOptions {
  /** PEM. */
  readonly key: string;
  /** PEM, for the address the clients dial (e.g. subjectAltName IP:127.0.0.1). */
  readonly cert: string;
}

export interface TlsFront {
  readonly port: number;
  close(): Promise<void>;
}

export function startTlsFront(options: FakeTlsOptions, backendPort: number, hostname: string): Promise<TlsFront> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: options.key, cert: options.cert }, (socket) => {
    const upstream = net.connect(backendPort, hostname);
    sockets.add(socket).add(upstream);
    const forget = (): void => void (sockets.delete(socket), sockets.delete(upstream));
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => (upstream.destroy(), forget()));
    upstream.on("close", () => (socket.destroy(), forget()));
    socket.pipe(upstream).pipe(socket);
  });
  // A client that gives up on the handshake is no error of the server's.
  server.on("tlsClientError", () => {});
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, hostname, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
