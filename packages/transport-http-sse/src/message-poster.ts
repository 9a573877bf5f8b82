import { CloseCode } from "@open-ot/core";
import { HttpSseTransportError } from "./transport-error.js";

/** The `fetch` the transport uses (the platform's by default). */
export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Settings of a {@link MessagePoster}. */
export interface MessagePosterOptions {
  /** Full URL of the messages endpoint. */
  readonly url: string;
  /** Headers of every POST (session id, credentials, the user's own). */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: FetchFunction;
  readonly credentials: RequestCredentials | undefined;
  /** Most bytes of JSON coalesced into one POST (a single larger message still goes alone). */
  readonly maxBatchBytes: number;
  /** Most messages coalesced into one POST. */
  readonly maxBatchMessages: number;
  /** Milliseconds a POST may take before it is abandoned (and the connection ended). */
  readonly sendTimeout: number;
  /**
   * The session cannot go on (unknown session, credentials refused, network failure): the
   * transport closes with this close code. Called at most once.
   */
  readonly onFatal: (closeCode: number, error: HttpSseTransportError) => void;
}

interface Pending {
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
  /** An array message is a batch of its own; wrapping it in another array would not be a message. */
  readonly isArray: boolean;
  readonly resolve: () => void;
  readonly reject: (error: HttpSseTransportError) => void;
}

/**
 * Poster lifecycle: `idle -> posting -> idle ... -> stopped`. One POST at a time: messages sent
 * while one is on its way wait, and go together in the next one (as a JSON array), so no POST
 * can overtake another and the server sees messages in the order of `send()`.
 */
type PosterState = "idle" | "posting" | "stopped";

/** Delivers sent messages to `POST /messages` one request at a time, coalescing what queues up. */
export class MessagePoster {
  private state: PosterState = "idle";
  private readonly queue: Pending[] = [];
  private stopReason: HttpSseTransportError | undefined;

  constructor(private readonly options: MessagePosterOptions) {}

  /** Queue one message; resolves when the server accepted the POST carrying it (202). */
  send(message: unknown): Promise<void> {
    if (this.state === "stopped")
      return Promise.reject(this.stopReason ?? new HttpSseTransportError("closed", "send(): the transport was stopped."));
    let json: string | undefined;
    try {
      json = JSON.stringify(message);
    } catch (error) {
      return Promise.reject(
        new HttpSseTransportError("encode", "send(): the message cannot be encoded as JSON (a cycle or a BigInt?).", { cause: error }),
      );
    }
    if (json === undefined)
      return Promise.reject(new HttpSseTransportError("encode", "send(): the message has no JSON form (undefined or a function)."));
    const encoded = json;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ json: encoded, bytes: utf8Length(encoded), isArray: Array.isArray(message), resolve, reject });
      if (this.state === "idle") {
        this.setState("posting");
        // Start after the current task's other sends are queued, so that a burst of sends made
        // together goes out as one POST instead of one POST plus one for the rest.
        queueMicrotask(() => void this.pump());
      }
    });
  }

  /**
   * Refuse further sends and reject those still queued with `reason`. A POST already on its way
   * is left to finish: the server may well have taken it, so its sends settle on the answer (or
   * reject after `sendTimeout`), as a WebSocket send already written to the socket stands.
   */
  stop(reason: HttpSseTransportError): void {
    if (this.state === "stopped") return;
    this.setState("stopped");
    this.stopReason = reason;
    for (const pending of this.queue.splice(0)) pending.reject(reason);
  }

  private setState(next: PosterState): void {
    this.state = next;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && this.state === "posting") {
      const batch = this.takeBatch();
      const body = batch.length === 1 ? batch[0]!.json : `[${batch.map((p) => p.json).join(",")}]`;
      const error = await this.post(body);
      if (error === undefined) for (const p of batch) p.resolve();
      else for (const p of batch) p.reject(error);
    }
    if (this.state === "posting") this.setState("idle");
  }

  private takeBatch(): Pending[] {
    const first = this.queue.shift()!;
    const batch = [first];
    if (first.isArray) return batch;
    let bytes = first.bytes + 2;
    while (batch.length < this.options.maxBatchMessages) {
      const next = this.queue[0];
      if (next === undefined || next.isArray || bytes + next.bytes + 1 > this.options.maxBatchBytes) break;
      bytes += next.bytes + 1;
      batch.push(this.queue.shift()!);
    }
    return batch;
  }

  /** POST one body; resolves with the error to reject its messages with, or undefined on success. */
  private async post(body: string): Promise<HttpSseTransportError | undefined> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.options.sendTimeout);
    // A timer only; it must not keep a process alive that has nothing else to do.
    (timer as { unref?: () => void }).unref?.();
    let response: Response;
    let error: HttpSseTransportError | undefined;
    try {
      response = await this.options.fetch(this.options.url, {
        method: "POST",
        headers: { ...this.options.headers, "Content-Type": "application/json" },
        body,
        signal: abort.signal,
        ...(this.options.credentials !== undefined ? { credentials: this.options.credentials } : {}),
      });
      if (response.ok) {
        // Drain the (empty) body so the connection can be reused.
        await response.arrayBuffer().catch(() => undefined);
        return undefined;
      }
      error = await rejection(this.options.url, response);
    } catch (cause) {
      // Whether the server got this POST is unknown, and the stream is likely gone too: end the
      // connection so that the OT client rejoins and resends, rather than sending later messages
      // past a hole.
      const what = abort.signal.aborted ? `no answer within ${this.options.sendTimeout} ms (sendTimeout)` : describeCause(cause);
      const failure = new HttpSseTransportError(
        abort.signal.aborted ? "timeout" : "unreachable",
        `POST ${this.options.url} failed: ${what}.`,
        { cause },
      );
      this.options.onFatal(CloseCode.ABNORMAL, failure);
      return failure;
    } finally {
      clearTimeout(timer);
    }
    // 404: the server forgot the session (restart, expiry); 401/403: the credentials no longer
    // work. Nothing sent on this session can succeed any more.
    if (response.status === 404) this.options.onFatal(CloseCode.NOT_FOUND, error);
    else if (response.status === 401 || response.status === 403) this.options.onFatal(CloseCode.UNAUTHORIZED, error);
    return error;
  }
}

async function rejection(url: string, response: Response): Promise<HttpSseTransportError> {
  let code: string | undefined;
  let detail = "";
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.message === "string") detail = body.message;
  } catch {
    detail = text.slice(0, 200);
  }
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  let message = `POST ${url} was answered ${response.status}${code !== undefined ? ` (${code})` : ""}`;
  if (detail !== "") message += `: ${detail}`;
  if (retryAfter !== undefined) message += ` Retry after ${retryAfter} s.`;
  return new HttpSseTransportError("rejected", message, {
    status: response.status,
    ...(code !== undefined ? { code } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}

/** `Retry-After` in seconds: either a number of seconds or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    const code = inner instanceof Error ? ((inner as Error & { code?: string }).code ?? inner.message) : undefined;
    return code !== undefined ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}

/** Bytes of `text` in UTF-8, without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return bytes;
}
