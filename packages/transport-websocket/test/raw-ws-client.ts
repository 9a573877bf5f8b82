// A ws client that sends exactly the bytes a test gives it and records every answer, parsed.
import NodeWebSocket from "ws";

export type Answer = { type: string; code?: string; [key: string]: unknown };

export interface RawWsClient {
  readonly ws: NodeWebSocket;
  readonly answers: Answer[];
  /** Resolves with the close code once the connection has closed. */
  readonly closed: Promise<number>;
  /** Send a text frame holding exactly `data` (bytes are sent unchecked, valid UTF-8 or not). */
  sendText(data: string | Buffer): void;
}

export async function openRawWsClient(url: string): Promise<RawWsClient> {
  const ws = new NodeWebSocket(url);
  const answers: Answer[] = [];
  ws.on("message", (data) => {
    const value = JSON.parse((data as Buffer).toString()) as Answer | Answer[];
    for (const answer of Array.isArray(value) ? value : [value]) answers.push(answer);
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    answers,
    closed,
    sendText(data) {
      ws.send(data, { binary: false });
    },
  };
}

/** `type`, or `type:code` for errors: a compact view of answers for assertions. */
export function summarize(answers: readonly Answer[]): string[] {
  return answers.map((a) => (a.type === "error" ? `error:${a.code ?? "?"}` : a.type));
}
