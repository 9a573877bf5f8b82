import type { WebSocket } from "ws";
import { docIdOf, plainWebSocketServer } from "./plain-websocket.js";
import type { ServerUnderTest } from "./server-under-test.js";

/**
 * The fan-out floor: a `ws` server that parses nothing and relays every message, as received,
 * to every connection of the same document (the `docId` query parameter), the sender included
 * (its copy is its "ack"). No OT server can deliver an op to N clients with less work than this
 * unless it sends fewer frames (batching).
 */
export async function startRelayServer(): Promise<ServerUnderTest> {
  const server = plainWebSocketServer();
  const { wss } = server;
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on("connection", (socket, req) => {
    const docId = docIdOf(req);
    let room = rooms.get(docId);
    if (room === undefined) {
      room = new Set();
      rooms.set(docId, room);
    }
    const members = room;
    members.add(socket);
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      for (const peer of members) peer.send(data, { binary: isBinary });
    });
    socket.on("close", () => members.delete(socket));
  });
  const port = await server.listen();
  return {
    port,
    createDocuments: () => Promise.resolve(),
    documentText: () => Promise.resolve(undefined),
    connectionCount: () => wss.clients.size,
    extraStats: () => ({}),
    resetExtraStats: () => undefined,
    close: async () => {
      await server.close();
    },
  };
}
