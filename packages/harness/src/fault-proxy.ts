/**
 * A TCP proxy on loopback that injects network faults between a client and a server: cut every
 * connection, stall them silently (half-open), refuse new ones. Tests put it between a
 * reconnecting client and a real server to check what survives a bad network.
 *
 * Node only (`node:net`). It forwards raw bytes, so it works for WebSocket and HTTP/SSE alike.
 */
import net from "node:net";

/** Where the proxy forwards to. */
export interface FaultProxyTarget {
  /** @default "127.0.0.1" */
  host?: string;
  port: number;
}

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The server the proxy forwards every accepted connection to. */
  target: FaultProxyTarget;
  /** Port to listen on (on 127.0.0.1). @default 0 (a free port) */
  listenPort?: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** Client connections currently open through the proxy. */
  readonly connectionCount: number;
  /** Client connections accepted since the proxy started (refused ones included). */
  readonly acceptedCount: number;
  /**
   * Cut every open connection at once, with a TCP reset on both sides: the client sees a drop
   * with no WebSocket close frame (1006) or a broken event stream, as after a network failure.
   */
  cutAll(): void;
  /**
   * Stall every open connection: nothing is forwarded in either direction any more and nothing
   * is closed, so neither end learns anything (a half-open connection). Only application-level
   * heartbeats notice. Connections accepted afterwards are forwarded normally.
   */
  stallAll(): void;
  /** Forward again on stalled connections; bytes held during the stall are delivered late. */
  resume(): void;
  /**
   * While `true`, new connections are accepted and destroyed at once (the server looks down but
   * the port stays taken). Open connections are not touched.
   */
  refuse(enabled: boolean): void;
  /** Stop listening and destroy every connection. */
  close(): Promise<void>;
}

// One accepted connection and its upstream twin. A stalled pair stops reading on both sides,
// so bytes stay in the kernel buffers and nothing, FIN included, crosses until `resume()`.
interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  stalled: boolean;
  closed: boolean;
}

/**
 * Start a fault proxy on 127.0.0.1 forwarding to `options.target`.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ target: { port: serverPort } });
 * const transport = new WebSocketTransport(`ws://127.0.0.1:${proxy.port}/ws`);
 * proxy.cutAll();   // the client sees a 1006 drop
 * await proxy.close();
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetHost = options.target.host ?? "127.0.0.1";
  const targetPort = options.target.port;
  if (!Number.isInteger(targetPort) || targetPort <= 0 || targetPort > 65535) {
    throw new RangeError(`startFaultProxy: target.port must be an integer in 1..65535, got ${String(targetPort)}`);
  }
  const pairs = new Set<Pair>();
  let refusing = false;
  let accepted = 0;

  const teardown = (pair: Pair): void => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    // Hold the client's bytes until the upstream connection exists.
    client.pause();
    const upstream = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true });
    const pair: Pair = { client, upstream, stalled: false, closed: false };
    pairs.add(pair);

    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on("data", (chunk: Buffer) => {
        // `data` can still fire for a chunk read just before a stall; holding it back keeps
        // the stall silent (it is written on resume, in order, by the paused stream).
        if (pair.stalled) {
          from.pause();
          from.unshift(chunk);
          return;
        }
        if (!to.write(chunk)) {
          from.pause();
          to.once("drain", () => {
            if (!pair.stalled && !pair.closed) from.resume();
          });
        }
      });
      from.on("end", () => {
        if (!pair.closed) to.end();
      });
    };
    forward(client, upstream);
    forward(upstream, client);

    upstream.once("connect", () => {
      if (!pair.stalled && !pair.closed) client.resume();
    });
    for (const socket of [client, upstream]) {
      // A socket error (the server is down, a reset) ends the pair; the other side is destroyed,
      // which is what a client would see from a real network failure.
      socket.on("error", () => teardown(pair));
      socket.on("close", () => {
        // While stalled nothing crosses, not even the news that one side went away.
        if (!pair.stalled) teardown(pair);
      });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listenPort ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("startFaultProxy: the server has no TCP address");

  return {
    port: address.port,
    get connectionCount() {
      return pairs.size;
    },
    get acceptedCount() {
      return accepted;
    },
    cutAll() {
      for (const pair of [...pairs]) {
        pair.closed = true;
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
      }
    },
    stallAll() {
      for (const pair of pairs) {
        pair.stalled = true;
        pair.client.pause();
        pair.upstream.pause();
      }
    },
    resume() {
      for (const pair of [...pairs]) {
        if (!pair.stalled) continue;
        pair.stalled = false;
        if (pair.client.destroyed || pair.upstream.destroyed) {
          teardown(pair);
          continue;
        }
        pair.client.resume();
        pair.upstream.resume();
      }
    },
    refuse(enabled: boolean) {
      refusing = enabled;
    },
    async close() {
      for (const pair of [...pairs]) teardown(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
