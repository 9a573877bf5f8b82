// A plain ws server for transport tests that need no hub: answers `ping` with `pong`, can
// refuse upgrades, and records what each upgrade request carried.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface UpgradeRecord {
  url: string;
  headers: IncomingHttpHeaders;
}

export interface EchoServer {
  readonly url: string;
  readonly upgrades: UpgradeRecord[];
  readonly clients: Set<WebSocket>;
  /** Answer the next upgrades with this HTTP status and body instead of upgrading. */
  refuseWith(status: number, body: string): void;
  /** Resolves with the next connection the server accepts. */
  nextConnection(): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const upgrades: UpgradeRecord[] = [];
  const clients = new Set<WebSocket>();
  const waiting: Array<(ws: WebSocket) => void> = [];
  let refusal: { status: number; body: string } | undefined;

  http.on("upgrade", (req, socket: Socket, head) => {
    upgrades.push({ url: req.url ?? "", headers: req.headers });
    if (refusal !== undefined) {
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(refusal.body)}\r\n\r\n${refusal.body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on("close", () => clients.delete(ws));
      ws.on("message", (data) => {
        const message = JSON.parse((data as Buffer).toString()) as { type: string; t?: unknown; batch?: unknown[] };
        if (message.type === "ping") ws.send(JSON.stringify({ type: "pong", t: message.t }));
        // Test hook: echo back the given array as one batched frame.
        if (message.type === "echo-batch") ws.send(JSON.stringify(message.batch));
      });
      waiting.shift()?.(ws);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}/ws`,
    upgrades,
    clients,
    refuseWith(status, body) {
      refusal = { status, body };
    },
    nextConnection() {
      return new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      for (const ws of clients) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export { freePort as deadPort } from "@open-ot/harness";
