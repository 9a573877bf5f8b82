// A bare event-stream reader for tests that must see the wire itself: event names, ids and
// comment lines, which an EventSource hides.
import { waitUntil } from "@open-ot/harness";

export interface RawEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

export interface RawStream {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON error body of a refused request. */
  readonly body: unknown;
  readonly events: RawEvent[];
  readonly comments: string[];
  /** True once the server ended the stream. */
  ended: boolean;
  /** Resolves with the first event at or after index `from` matching `predicate`. */
  waitForEvent(predicate: (event: RawEvent) => boolean, timeoutMs?: number): Promise<RawEvent>;
  sessionId(): Promise<string>;
  close(): void;
}

export async function openRawStream(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, signal: abort.signal });
  const events: RawEvent[] = [];
  const comments: string[] = [];
  let body: unknown;
  const stream: RawStream = {
    status: response.status,
    headers: response.headers,
    get body() {
      return body;
    },
    events,
    comments,
    ended: false,
    async waitForEvent(predicate, timeoutMs = 5_000) {
      let found: RawEvent | undefined;
      await waitUntil(() => (found = events.find(predicate)) !== undefined, "an event", timeoutMs);
      return found!;
    },
    async sessionId() {
      const event = await stream.waitForEvent((e) => e.event === "session");
      return (JSON.parse(event.data) as { sessionId: string }).sessionId;
    },
    close: () => abort.abort(),
  };
  if (response.status !== 200) {
    const text = await response.text();
    body = text === "" ? undefined : JSON.parse(text);
    stream.ended = true;
    return stream;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message";
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("id: ")) id = line.slice(4);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ event, id, data: data.join("\n") });
        }
      }
    } catch {
      // aborted by close()
    }
    stream.ended = true;
  })();
  return stream;
}

/** POST a body (string or value) to the messages endpoint; returns status, headers and parsed JSON body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: { code?: string; message?: string } | undefined }> {
  const payload = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: payload as BodyInit,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? undefined : (JSON.parse(text) as { code?: string; message?: string }),
  };
}
