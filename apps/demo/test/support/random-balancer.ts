// A load balancer without sticky sessions, for tests: every HTTP request goes to an upstream
// picked at random, and event streams can be cut to make clients reconnect.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the balancer saw, to show that POSTs did reach instances other than their stream's. */
export interface BalancerCounts {
  /** POSTs sent to an upstream other than the one holding the session's stream, by the types of message they held. */
  readonly crossPosts: Map<string, number>;
  /** POSTs sent to the upstream holding the stream. */
  homePosts: number;
  /** Event streams opened, per upstream. */
  readonly streams: number[];
  /** Event streams cut by {@link RandomBalancer.cutStreams}. */
  cuts: number;
}

export interface RandomBalancer {
  readonly url: string;
  readonly counts: BalancerCounts;
  /** End every event stream going through the balancer now (as a proxy restart would). */
  cutStreams(): void;
  close(): Promise<void>;
}

/**
 * Start a balancer on 127.0.0.1 in front of `upstreams` (base URLs), picking with `random`.
 * Session ids are read from the streams' first event, so POSTs can be told apart by whether
 * they reached their stream's upstream.
 */
export async function startRandomBalancer(upstreams: readonly string[], random: () => number): Promise<RandomBalancer> {
  const targets = upstreams.map((base) => new URL(base));
  const holders = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const counts: BalancerCounts = { crossPosts: new Map(), homePosts: 0, streams: targets.map(() => 0), cuts: 0 };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const index = Math.floor(random() * targets.length);
    const target = targets[index]!;
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        if ((response.headers["content-type"] ?? "").startsWith("text/event-stream")) {
          counts.streams[index]! += 1;
          open.add(res);
          res.once("close", () => open.delete(res));
          response.once("data", (chunk: Buffer) => {
            const id = /"sessionId":"([^"]+)"/.exec(chunk.toString("utf8"))?.[1];
            if (id !== undefined) holders.set(id, index);
          });
        }
        response.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    res.once("close", () => upstream.destroy());
    if (req.method === "POST") {
      const session = req.headers["x-session-id"];
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.once("end", () => {
        const holder = typeof session === "string" ? holders.get(session) : undefined;
        if (holder === undefined || holder === index) {
          counts.homePosts++;
          return;
        }
        const types = [
          ...Buffer.concat(chunks)
            .toString("utf8")
            .matchAll(/"type":"([a-z]+)"/g),
        ]
          .map((m) => m[1])
          .sort();
        const key = [...new Set(types)].join("+");
        counts.crossPosts.set(key, (counts.crossPosts.get(key) ?? 0) + 1);
      });
    }
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    cutStreams() {
      for (const res of [...open]) {
        counts.cuts++;
        res.destroy();
      }
    },
    async close() {
      for (const res of [...open]) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
