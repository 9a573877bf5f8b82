import { connect, type Socket } from "node:net";

/** An upgraded TCP socket, written to by hand: for clients a well-behaved library cannot be (one that never reads, say). */
export interface RawWebSocket {
  readonly socket: Socket;
  /** The HTTP status of the answer (101 when upgraded). */
  readonly status: number;
}

/**
 * Send a WebSocket upgrade for `path` to 127.0.0.1:`port` and resolve once the answer's head
 * has arrived (or the server closed the connection: status 0). Rejects after `timeoutMs`.
 */
export function rawWebSocket(port: number, path: string, timeoutMs = 10_000): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let head = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to the upgrade of ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (status: number): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      resolve({ socket, status });
    };
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n\r\n")) done(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0));
    };
    socket.on("data", onData);
    socket.on("error", () => undefined);
    socket.once("close", () => done(0));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
  });
}

/**
 * Send a WebSocket upgrade for `path` and report the answer's status and whether the server
 * closed the connection within `timeoutMs` (the server is expected to answer and close).
 */
export async function upgradeAnswer(port: number, path: string, timeoutMs = 5_000): Promise<{ status: number; closed: boolean }> {
  const { socket, status } = await rawWebSocket(port, path, timeoutMs);
  if (socket.destroyed) return { status, closed: true };
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
  socket.destroy();
  return { status, closed };
}

/**
 * One client text frame holding `text`. Client frames must be masked; the mask key is zero,
 * which leaves the payload as it is (legal, and free for a 1 MiB frame).
 */
export function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  let header: Buffer;
  if (n < 126) header = Buffer.from([0x81, 0x80 | n]);
  else if (n < 65_536) header = Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}
