// Test helper: a loopback TCP proxy that can keep a server's replies from reaching the client
// while still forwarding the client's commands, then cut the connection. That is exactly the
// case ioredis re-sends a command for: it reached Redis and ran, but its reply was lost.
// (The shared fault proxy of @open-ot/testing stalls both directions at once.)
import net from "node:net";

export interface ReplyHoldingProxy {
  readonly port: number;
  /** From now on, bytes from the server are dropped instead of forwarded, on open connections. */
  holdReplies(): void;
  /** Reset every open connection; connections made afterwards forward both ways again. */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startReplyHoldingProxy(targetPort: number): Promise<ReplyHoldingProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; holding: boolean }>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    const pair = { client, upstream, holding: false };
    pairs.add(pair);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (!pair.holding) client.write(chunk);
    });
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("proxy has no port");
  return {
    port: address.port,
    holdReplies() {
      for (const pair of pairs) pair.holding = true;
    },
    cutAll() {
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
    },
    async close() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
