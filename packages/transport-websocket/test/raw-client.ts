// A WebSocket client written by hand on a TCP socket, for what a well-behaved client cannot
// do: stop reading, never answer pings or close frames, or look at the raw HTTP answer.
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

export interface RawUpgradeResult {
  /** The HTTP status line's code (101 when upgraded). */
  readonly status: number;
  /** The whole HTTP response head and what followed it so far. */
  readonly response: string;
  readonly socket: Socket;
}

/** Send an upgrade request and resolve once the response head has arrived. */
export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<RawUpgradeResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.off("error", reject);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), response: text, socket });
    };
    socket.on("data", onData);
    socket.on("error", reject);
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
  });
}

/** Resolves when the socket has been closed (by either side). */
export function socketClosed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once("close", () => resolve()));
}
