import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { WebSocket } from "ws";
import { plainWebSocketServer } from "./plain-websocket.js";
import type { ServerUnderTest } from "./server-under-test.js";

/** Messages kept per document, as many as RedisAdapter keeps by default. */
const KEEP = 1000;

/**
 * What every message costs at least when instances share Redis and an ack must mean "stored":
 * one script run that numbers the message, keeps it (the last {@link KEEP} per document) and
 * publishes it, in one round trip. No OT server behind a shared Redis can ack an op with less
 * Redis work than this; ours also checks the revision, de-duplicates and caches.
 */
const RELAY_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -${KEEP}, -1)
redis.call('PUBLISH', KEYS[3], ARGV[2])
return n
`;

/** Length of an instance's tag, the prefix of what it publishes (`<tag>|<message>`). */
const TAG_LENGTH = 8;

/** Options of {@link startRedisRelayServer}. */
export interface RedisRelayServerConfig {
  readonly redisUrl: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

interface Room {
  readonly members: Set<WebSocket>;
  /** The senders of this instance's published messages not yet seen back on the channel, in order. */
  readonly sent: WebSocket[];
  /** Resolves once this instance hears the document's channel. */
  readonly subscribed: Promise<void>;
  ready: boolean;
}

type RelayRedis = Redis & {
  relayCommit(counter: string, list: string, channel: string, message: Buffer, tagged: Buffer): Promise<number>;
};

/**
 * The fan-out floor across instances (`relay-redis` in the table): the raw relay of
 * `relay-server.ts`, run as several instances that share Redis the least costly way an ack can
 * still mean "stored". A message is run through {@link RELAY_SCRIPT} (one round trip, with the
 * same ioredis client and options as RedisAdapter); the script's reply sends the sender its copy
 * (its "ack"), and every instance relays what it receives on the document's channel to its
 * other connections of the document. It parses nothing, checks nothing and keeps no document,
 * so an OT server with the same Redis in its path can approach it only by sending less.
 */
export async function startRedisRelayServer(config: RedisRelayServerConfig): Promise<ServerUnderTest> {
  const tag = randomBytes(TAG_LENGTH / 2).toString("hex");
  const tagPrefix = Buffer.from(`${tag}|`, "latin1");
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }) as RelayRedis;
  redis.defineCommand("relayCommit", { numberOfKeys: 3, lua: RELAY_SCRIPT });
  const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const rooms = new Map<string, Room>();
  const channelOf = (docId: string): string => `relay:{${docId}}:channel`;
  const docOfChannel = new Map<string, string>();

  subscriber.on("messageBuffer", (channelBuffer: Buffer, message: Buffer) => {
    const docId = docOfChannel.get(channelBuffer.toString());
    const room = docId === undefined ? undefined : rooms.get(docId);
    if (room === undefined) return;
    const own = message.subarray(0, TAG_LENGTH).toString("latin1") === tag;
    const sender = own ? room.sent.shift() : undefined;
    const payload = message.subarray(TAG_LENGTH + 1);
    for (const peer of room.members) if (peer !== sender) peer.send(payload, { binary: false });
  });

  const server = plainWebSocketServer();
  const { wss } = server;
  const roomOf = (docId: string): Room => {
    let room = rooms.get(docId);
    if (room === undefined) {
      const channel = channelOf(docId);
      docOfChannel.set(channel, docId);
      const created: Room = { members: new Set(), sent: [], subscribed: subscriber.subscribe(channel).then(() => undefined), ready: false };
      void created.subscribed.then(() => {
        created.ready = true;
      });
      rooms.set(docId, created);
      room = created;
    }
    return room;
  };

  wss.on("connection", (socket, req) => {
    const docId = new URL(req.url ?? "/", "http://x").searchParams.get("docId") ?? "doc-1";
    const room = roomOf(docId);
    room.members.add(socket);
    const keys = [`relay:{${docId}}:n`, `relay:{${docId}}:log`, channelOf(docId)] as const;
    const commit = (data: Buffer): void => {
      room.sent.push(socket);
      redis.relayCommit(keys[0], keys[1], keys[2], data, Buffer.concat([tagPrefix, data])).then(
        () => socket.send(data, { binary: false }),
        () => socket.close(1011, "redis"),
      );
    };
    // A message sent before this instance hears the channel would come back to no one: wait.
    socket.on("message", (data: Buffer) => {
      if (room.ready) commit(data);
      else void room.subscribed.then(() => commit(data));
    });
    socket.on("close", () => room.members.delete(socket));
  });
  const port = await server.listen(config.port ?? 0);
  return {
    port,
    createDocuments: async (ids) => {
      await Promise.all(ids.map((docId) => roomOf(docId).subscribed));
    },
    documentText: () => Promise.resolve(undefined),
    connectionCount: () => wss.clients.size,
    extraStats: () => ({}),
    resetExtraStats: () => undefined,
    close: async () => {
      await server.close();
      await Promise.all([redis.quit(), subscriber.quit()]);
    },
  };
}
