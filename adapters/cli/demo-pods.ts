// Local stand-ins for the seed's simpleservice pods (quay.io/openshiftlabs/simpleservice:0.5.0):
// each answers /info with where it runs and who asked, and /health, on its pod address and the
// container port, as the real image does on 9876.
import http from "node:http";

export interface DemoPod {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startDemoPod(name: string, address: string, port: number): Promise<DemoPod> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    response.setHeader("content-type", "application/json");
    if (path === "/health") return void response.end(JSON.stringify({ healthy: true }));
    if (path === "/info") {
      const from = request.headers["x-forwarded-for"] ?? request.socket.remoteAddress ?? "";
      return void response.end(JSON.stringify({ host: `${address}:${port}`, version: "0.5.0", from, pod: name }) + "\n");
    }
    response.statusCode = 404;
    response.end(JSON.stringify({ error: `no route for ${path}; try /info or /health` }) + "\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(`pod ${name} cannot listen on ${address}:${port}: ${error.code ?? error.message}${error.code === "EADDRINUSE" ? " (is another vipr demo running?)" : ""}`)),
    );
    server.listen(port, address, () =>
      resolve({
        name,
        address,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
