import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSseHandler, type SseHandler, type SseHandlerOptions } from "../src/server.js";

export interface TestServer {
  readonly server: Server;
  readonly handler: SseHandler;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1, port 0, serving only the SSE binding. */
export async function startSseServer(options: SseHandlerOptions): Promise<TestServer> {
  const handler = createSseHandler(options);
  const server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    handler,
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Poll `condition` until it holds, failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A port on 127.0.0.1 that nothing listens on (it was bound, then released). */
export async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
