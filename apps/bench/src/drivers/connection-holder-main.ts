/**
 * A driver child process that opens many idle connections and holds them: WebSocket
 * connections that join a document, and SSE event streams that join one through the URL. It
 * keeps no document state, so its own memory stays small and the server's figure is what
 * the scenario reads.
 */
import { Agent, get, type ClientRequest, type IncomingMessage } from "node:http";
import WebSocket from "ws";
import { randomClientId } from "@open-ot/core";
import { emitToParent, serveParent } from "../ipc.js";

/** Parameters of `openWebSockets` and `openSseStreams`. */
export interface HoldRequest {
  /** `ws://127.0.0.1:<port>` for WebSockets, `http://127.0.0.1:<port>` for SSE. */
  readonly url: string;
  /** Documents the connections join, round-robin. */
  readonly docIds: readonly string[];
  /** Connections to open. */
  readonly count: number;
  /** Connections being opened at the same time. @default 200 */
  readonly concurrency?: number;
}

/** Answer of the open requests. */
export interface HoldResult {
  /** Connections open and joined. */
  readonly opened: number;
  /** Connections that failed, by reason. */
  readonly failures: Record<string, number>;
  /** Seconds the opening took. */
  readonly seconds: number;
}

const sockets: WebSocket[] = [];
const streams: { request: ClientRequest; response: IncomingMessage }[] = [];
// One agent without keep-alive or socket limit: every stream is its own TCP connection.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

function openWebSocket(url: string, docId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/ws`, { perMessageDeflate: false });
    const fail = (error: Error): void => {
      socket.terminate();
      reject(error);
    };
    socket.once("open", () => socket.send(JSON.stringify({ type: "join", docId, clientId: randomClientId() })));
    socket.once("message", (data: Buffer) => {
      const text = data.toString();
      if (!text.includes('"snapshot"')) {
        fail(new Error(`join answered with ${text.slice(0, 80)}`));
        return;
      }
      sockets.push(socket);
      resolve();
    });
    socket.once("error", fail);
  });
}

function openSseStream(url: string, docId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = get(`${url}/events?docId=${encodeURIComponent(docId)}&clientId=${randomClientId()}`, { agent }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`HTTP ${response.statusCode ?? "?"}`));
        return;
      }
      let seen = "";
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString();
        if (!seen.includes('"snapshot"')) return;
        // Joined: from now on the stream's bytes are read and dropped, as an idle browser does.
        response.off("data", onData);
        response.on("data", () => undefined);
        streams.push({ request, response });
        resolve();
      };
      response.on("data", onData);
      response.once("error", reject);
    });
    request.once("error", reject);
  });
}

async function openMany(request: HoldRequest, open: (url: string, docId: string) => Promise<void>): Promise<HoldResult> {
  const started = performance.now();
  const failures: Record<string, number> = {};
  let opened = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < request.count) {
      const i = next++;
      try {
        await open(request.url, request.docIds[i % request.docIds.length] as string);
        opened += 1;
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.concurrency ?? 200, request.count) }, worker));
  return { opened, failures, seconds: (performance.now() - started) / 1000 };
}

function closeAll(): void {
  for (const s of sockets.splice(0)) s.terminate();
  for (const s of streams.splice(0)) s.request.destroy();
}

serveParent({
  openWebSockets: (params: HoldRequest) => openMany(params, openWebSocket),
  openSseStreams: (params: HoldRequest) => openMany(params, openSseStream),
  closeAll,
  stop: closeAll,
});

emitToParent("ready", { pid: process.pid });
