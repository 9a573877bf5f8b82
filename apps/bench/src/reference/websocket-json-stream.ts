import { Duplex } from "node:stream";
import WebSocket from "ws";

/**
 * The object-mode stream ShareDB's `backend.listen()` takes, over one `ws` connection: JSON
 * text frames in, JSON text frames out. It does what `@teamwork/websocket-json-stream` does,
 * in a few lines, so the reference needs no extra dependency.
 */
export class WebSocketJsonStream extends Duplex {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    super({ objectMode: true });
    this.#socket = socket;
    socket.on("message", (data: Buffer) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        socket.close(1003, "not JSON");
        return;
      }
      this.push(message);
    });
    socket.on("close", () => {
      this.push(null);
      this.end();
      this.emit("close");
    });
    socket.on("error", (error: Error) => this.destroy(error));
  }

  override _read(): void {
    // Messages are pushed as they arrive; there is nothing to pull.
  }

  override _write(message: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000);
    callback();
  }
}
