import { SHAREDB_COLLECTION } from "../drivers/sharedb-load-client.js";
import { loadShareDb, textUnicode, type ShareDbDoc } from "../reference/sharedb-modules.js";
import { WebSocketJsonStream } from "../reference/websocket-json-stream.js";
import { plainWebSocketServer } from "./plain-websocket.js";
import type { ServerUnderTest } from "./server-under-test.js";

function call(run: (done: (error?: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

/**
 * The ShareDB reference: ShareDB 5 with its in-memory database and pub/sub, in one process,
 * ot-text-unicode documents, ShareDB's own WebSocket setup (`ws` + a JSON stream per socket).
 */
export async function startShareDbServer(): Promise<ServerUnderTest> {
  const ShareDB = loadShareDb();
  const backend = new ShareDB();
  const local = backend.connect();
  const server = plainWebSocketServer();
  const { wss } = server;
  wss.on("connection", (socket) => {
    backend.listen(new WebSocketJsonStream(socket));
  });
  const port = await server.listen();
  const fetched = async (docId: string): Promise<ShareDbDoc> => {
    const doc = local.get(SHAREDB_COLLECTION, docId);
    await call((done) => doc.fetch(done));
    return doc;
  };
  return {
    port,
    createDocuments: async (ids, text) => {
      for (const id of ids) {
        const doc = await fetched(id);
        if (doc.type === null || doc.type === undefined) await call((done) => doc.create(text, textUnicode.uri, done));
      }
    },
    documentText: async (docId) => (await fetched(docId)).data as string,
    connectionCount: () => wss.clients.size,
    extraStats: () => ({}),
    resetExtraStats: () => undefined,
    close: async () => {
      await server.close();
      await call((done) => backend.close(done));
    },
  };
}
