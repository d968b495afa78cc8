// A loopback port where a TCP connect never completes, deterministically, on Linux and on both
// runtimes. Nothing on loopback drops packets (a port without a listener answers RST at once), but
// a listener's full accept queue does: Linux drops a SYN while the queue is full
// (tcp_conn_request: sk_acceptq_is_full, counted as ListenOverflows), and the client keeps
// retransmitting it. So a process listens with backlog 1 and never accepts (its event loop is
// blocked; an in-process Node server would accept), two filler connections fill its queue
// (sk_acceptq_is_full is ack_backlog > backlog: backlog + 1 fit), and every later connect hangs.
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";

export interface BlackholeListener {
  readonly port: number;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL("./blackhole-listener-process.ts", import.meta.url));

export async function startBlackholeListener(): Promise<BlackholeListener> {
  // The same runtime as the test: Node runs TypeScript directly, Deno with `run`.
  const args = "Deno" in globalThis ? ["run", "-A", script] : [script];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`the blackhole listener exited (${String(code)}) before it listened`)));
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    fillers.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      child.kill();
      await exited;
    },
  };
}
