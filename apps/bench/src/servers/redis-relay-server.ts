import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { WebSocket } from "ws";
import { docIdOf, plainWebSocketServer } from "./plain-websocket.js";
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

/**
 * {@link RELAY_SCRIPT} for several messages at once (ARGV 1: what to publish, the messages
 * joined by newlines behind the tag; ARGV 2..: the messages, kept one per list entry).
 */
const RELAY_BATCH_SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], #ARGV - 1)
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
redis.call('LTRIM', KEYS[2], -${KEEP}, -1)
redis.call('PUBLISH', KEYS[3], ARGV[1])
return n
`;

/** Most messages of one document sent in one {@link RELAY_BATCH_SCRIPT} run. */
const MAX_BATCH = 64;

/** A newline: JSON text never holds a raw one, so it separates the messages of a batch. */
const NEWLINE = 0x0a;

/** Length of an instance's tag, the prefix of what it publishes (`<tag>|<message>`). */
const TAG_LENGTH = 8;

/** Options of {@link startRedisRelayServer}. */
export interface RedisRelayServerConfig {
  readonly redisUrl: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /**
   * Gather the messages a document's connections sent in one event-loop turn and store and
   * publish them in one script run (the floor for a server that commits in batches).
   * @default false
   */
  readonly batch?: boolean;
}

interface Room {
  readonly members: Set<WebSocket>;
  /** The senders of this instance's published messages not yet seen back on the channel, in order. */
  readonly sent: WebSocket[];
  /** Resolves once this instance hears the document's channel. */
  readonly subscribed: Promise<void>;
  ready: boolean;
  /** With `batch`: the messages of this turn not yet sent to Redis, and their senders. */
  pending: { socket: WebSocket; data: Buffer }[];
}

type RelayRedis = Redis & {
  relayCommit(counter: string, list: string, channel: string, message: Buffer, tagged: Buffer): Promise<number>;
  relayCommitBatch(counter: string, list: string, channel: string, tagged: Buffer, ...messages: Buffer[]): Promise<number>;
};

/** The newline-separated messages of `payload`. */
function splitMessages(payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let at = payload.indexOf(NEWLINE); at >= 0; at = payload.indexOf(NEWLINE, from)) {
    out.push(payload.subarray(from, at));
    from = at + 1;
  }
  out.push(payload.subarray(from));
  return out;
}

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
  redis.defineCommand("relayCommitBatch", { numberOfKeys: 3, lua: RELAY_BATCH_SCRIPT });
  const batch = config.batch ?? false;
  const newline = Buffer.from([NEWLINE]);
  const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const rooms = new Map<string, Room>();
  const channelOf = (docId: string): string => `relay:{${docId}}:channel`;
  const docOfChannel = new Map<string, string>();

  subscriber.on("messageBuffer", (channelBuffer: Buffer, message: Buffer) => {
    const docId = docOfChannel.get(channelBuffer.toString());
    const room = docId === undefined ? undefined : rooms.get(docId);
    if (room === undefined) return;
    const own = message.subarray(0, TAG_LENGTH).toString("latin1") === tag;
    const payload = message.subarray(TAG_LENGTH + 1);
    for (const each of batch ? splitMessages(payload) : [payload]) {
      const sender = own ? room.sent.shift() : undefined;
      for (const peer of room.members) if (peer !== sender) peer.send(each, { binary: false });
    }
  });

  const server = plainWebSocketServer();
  const { wss } = server;
  const roomOf = (docId: string): Room => {
    let room = rooms.get(docId);
    if (room === undefined) {
      const channel = channelOf(docId);
      docOfChannel.set(channel, docId);
      const created: Room = {
        members: new Set(),
        sent: [],
        subscribed: subscriber.subscribe(channel).then(() => undefined),
        ready: false,
        pending: [],
      };
      void created.subscribed.then(() => {
        created.ready = true;
      });
      rooms.set(docId, created);
      room = created;
    }
    return room;
  };

  wss.on("connection", (socket, req) => {
    const docId = docIdOf(req);
    const room = roomOf(docId);
    room.members.add(socket);
    const keys = [`relay:{${docId}}:n`, `relay:{${docId}}:log`, channelOf(docId)] as const;
    const flush = (): void => {
      while (room.pending.length > 0) {
        const messages = room.pending.splice(0, MAX_BATCH);
        const datas = messages.map((m) => m.data);
        for (const m of messages) room.sent.push(m.socket);
        const tagged = Buffer.concat([tagPrefix, ...datas.flatMap((data, i) => (i === 0 ? [data] : [newline, data]))]);
        redis.relayCommitBatch(keys[0], keys[1], keys[2], tagged, ...datas).then(
          () => {
            for (const m of messages) m.socket.send(m.data, { binary: false });
          },
          () => {
            for (const m of messages) m.socket.close(1011, "redis");
          },
        );
      }
    };
    const commit = (data: Buffer): void => {
      if (batch) {
        if (room.pending.push({ socket, data }) === 1) setImmediate(flush);
        return;
      }
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
