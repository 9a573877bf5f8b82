import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hub, MemoryBackend, Server as OTServer } from "@open-ot/server";
import type { Defer } from "@open-ot/testing";
import { createSseHandler, type SseHandler, type SseHandlerOptions } from "../src/server.js";
import { StubHub } from "./stub-hub.js";

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

/** {@link startSseServer} over a {@link StubHub}, closed by `defer` after the test. */
export async function serveStubHub(defer: Defer, options: Partial<SseHandlerOptions> = {}): Promise<{ srv: TestServer; hub: StubHub }> {
  const hub = new StubHub();
  const srv = await startSseServer({ hub, ...options });
  defer(() => srv.close());
  return { srv, hub };
}

/** A port on 127.0.0.1 that nothing listens on (it was bound, then released). */
export { freePort as deadPort } from "@open-ot/harness";

/** A real hub over an in-memory backend, served by the SSE binding; `doc` exists with `text`. */
export async function startHubServer(
  options: Partial<SseHandlerOptions> & { doc?: string; text?: string; createOnJoin?: boolean } = {},
): Promise<
  TestServer & { hub: Hub; ot: OTServer; backend: MemoryBackend; text(docId?: string): Promise<{ revision: number; data: string }> }
> {
  const backend = new MemoryBackend();
  const ot = new OTServer(backend);
  const docId = options.doc ?? "doc-1";
  await ot.createDocument(docId, "text", options.text ?? "");
  const hub = new Hub({ server: ot, createOnJoin: options.createOnJoin ?? false });
  const srv = await startSseServer({ ...options, hub });
  return {
    ...srv,
    hub,
    ot,
    backend,
    async text(id = docId) {
      const record = await backend.getRecord(id);
      return { revision: record.v, data: record.data as string };
    },
    async close() {
      await srv.close();
      await hub.close();
    },
  };
}
