import { connect } from "node:net";

/** What a server did with a hand-written request, within the time allowed. */
export interface RawHttpExchange {
  /** The status of the answer, if one came. */
  readonly status: number | undefined;
  /** Everything the server sent (latin1). */
  readonly response: string;
  /** The server closed the connection (or reset it) within the time. */
  readonly closed: boolean;
}

/**
 * Send `request` (a whole HTTP/1.1 request head, and a body if any, exactly as given) to
 * 127.0.0.1:`port` on a fresh TCP connection, and report what came back once the server closes
 * the connection or `timeoutMs` has passed, whichever is first. For requests no HTTP client
 * would send: request targets such as `//` or `http://`, upgrades to paths nobody serves.
 *
 * @param timeoutMs How long to wait for the server to answer and close. @default 2000
 */
export function rawHttpExchange(port: number, request: string, timeoutMs = 2_000): Promise<RawHttpExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), response, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (response += chunk));
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.write(request);
  });
}

/** The head of a WebSocket upgrade request for `target`. */
export function upgradeRequest(target: string, port: number, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return (
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}
