import {
  checkTokenSource,
  CloseCode,
  resolveToken,
  type Logger,
  type TokenSource,
  type TransportAdapter,
  type TransportCloseEvent,
} from "@open-ot/core";
import { loadEventSource, type EventSourceConstructor, type EventSourceLike, type StreamResponseProbe } from "./event-source-loader.js";
import { MessagePoster, type FetchFunction } from "./message-poster.js";
import { HttpSseTransportError } from "./transport-error.js";

/** Options of {@link HttpSseTransport}. */
export interface HttpSseTransportOptions {
  /** Path of the event stream, appended to the base URL. @default "/events" */
  eventsPath?: string;
  /** Path that takes POSTed messages, appended to the base URL. @default "/messages" */
  messagesPath?: string;
  /**
   * Extra headers for both requests. On the stream they need the `eventsource` package (a
   * browser's EventSource cannot send headers), which is then used even in a browser.
   * @default undefined
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * Credentials: sent as the `token` query parameter on the stream (all an EventSource can
   * send) and as `Authorization: Bearer` on every POST of that connection. A string, or a
   * function (sync or async) that is asked on every `connect()`, so that each new connection, a
   * reconnect after the token expired included, carries a fresh token. A function that throws
   * or rejects fails the attempt with kind `token`; one that returns `undefined` connects
   * without a token. @default undefined
   */
  token?: TokenSource;
  /** Milliseconds to wait for the `session` event before `connect()` rejects. @default 10000 */
  connectTimeout?: number;
  /**
   * Join this document with the stream request itself (`?docId=`), for servers that require it.
   * Leave it out with OTClient, which sends its own `join`. @default undefined
   */
  docId?: string;
  /** `clientId` for the stream's join; only with `docId`. @default undefined */
  clientId?: string;
  /**
   * `revision` for the stream's join; only with `docId`. A function is asked on every
   * `connect()`, so a reconnect resumes from the current revision. @default undefined (snapshot)
   */
  revision?: number | (() => number | undefined);
  /** Ask for batched events (`batch=1`); arrays are unwrapped before `onReceive` either way. @default false */
  batch?: boolean;
  /** Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: "include"`). @default false */
  withCredentials?: boolean;
  /** Most bytes of JSON coalesced into one POST. @default 262144 (256 KiB) */
  maxBatchBytes?: number;
  /** Most messages coalesced into one POST (keep it within the server's rate-limit burst). @default 100 */
  maxBatchMessages?: number;
  /**
   * Milliseconds a POST may go unanswered; then its sends reject with kind `timeout` and the
   * connection ends with 1006 (whether the server got it is unknown). @default 30000
   */
  sendTimeout?: number;
  /**
   * The EventSource constructor. @default the platform's `EventSource`, else (and whenever
   * `headers` are given) the `eventsource` package, imported on first use
   */
  EventSource?: EventSourceConstructor;
  /** The fetch for POSTs (and, with the `eventsource` package, the stream). @default globalThis.fetch */
  fetch?: FetchFunction;
  /** Where to report what would otherwise be swallowed (a listener that threw, unreadable events). @default undefined */
  logger?: Logger;
}

/** One connection attempt and, once its `session` event arrived, the open connection. */
interface Link<M> {
  es: EventSourceLike;
  readonly probe: StreamResponseProbe;
  readonly onReceive: (message: M) => void;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: HttpSseTransportError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  poster: MessagePoster | undefined;
  /** The token this connection was opened with (its POSTs carry the same). */
  token: string | undefined;
}

/** Close code reported when the server sent an event this transport cannot read (as the WebSocket transport does). */
const PROTOCOL_ERROR = 1002;

/** Stands in for the EventSource of an attempt that is still loading one. */
const NOT_YET_OPEN: EventSourceLike = { readyState: 2, addEventListener: () => undefined, close: () => undefined };

/**
 * Transport lifecycle (one state variable, changed only by `setState`):
 *
 *   closed ──connect()──> connecting ──session event──> open
 *     ^                       │                          │
 *     └─ failure, timeout, ───┘                          │
 *        disconnect()                                    │
 *     └──────── close event, stream error, fatal POST, disconnect() ┘
 *
 * A reconnect is a fresh `connect()` from `closed`, with a new stream and a new session.
 */
type TransportState<M> =
  { readonly name: "closed" } | { readonly name: "connecting"; readonly link: Link<M> } | { readonly name: "open"; readonly link: Link<M> };

/**
 * A {@link TransportAdapter} over HTTP: an EventSource (`GET /events`) downstream, `POST
 * /messages` upstream. It is a plain message pipe, so it swaps one for one with the WebSocket
 * transport: `connect()` opens the stream without joining anything (unless `docId` is given)
 * and resolves on the `session` event; `join`, `op`, `leave` and `ping` are all POSTed.
 *
 * The EventSource's own automatic reconnect is never used: it would resume silently and hide
 * the drop from the OT client. A stream error ends the connection and is reported through
 * `onClose` (code 1006, or the code of the server's `close` event); reconnecting is the job of
 * the reconnecting wrapper, with a fresh `connect()`.
 */
export class HttpSseTransport<M = unknown> implements TransportAdapter<M> {
  private state: TransportState<M> = { name: "closed" };
  private readonly closeListeners = new Set<(event: TransportCloseEvent) => void>();
  private readonly baseUrl: string;
  private readonly fetchFn: FetchFunction;
  private readonly token: TokenSource | undefined;

  /**
   * @param baseUrl The server's URL, to which `eventsPath` and `messagesPath` are appended
   *   (`http://localhost:3000` or `https://example.com/ot`).
   */
  constructor(
    baseUrl: string,
    private readonly options: HttpSseTransportOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== "function") {
      throw new TypeError("HttpSseTransport needs fetch: run on Node 18+ or a browser, or pass options.fetch.");
    }
    this.fetchFn = fetchFn.bind(globalThis);
    if ((options.clientId !== undefined || options.revision !== undefined) && options.docId === undefined) {
      throw new TypeError("HttpSseTransport: clientId and revision are for the stream's join and need docId as well.");
    }
    this.token = checkTokenSource(options.token, "HttpSseTransport");
  }

  /**
   * Open the event stream; resolves on its `session` event. Rejects with a {@link HttpSseTransportError}
   * of kind `unreachable`, `refused` (with `status`), `timeout`, `closed` (when `disconnect()`
   * is called meanwhile, or the server closed the stream first), `decode` (not an OpenOT SSE
   * endpoint) or `unsupported` (no EventSource could be loaded). While an attempt is under way, further calls share it
   * (the first caller's `onReceive` is used); on an open transport it resolves at once.
   */
  connect(onReceive: (message: M) => void): Promise<void> {
    if (this.state.name !== "closed") return this.state.link.promise;
    let resolve!: () => void;
    let reject!: (error: HttpSseTransportError) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const link: Link<M> = {
      es: NOT_YET_OPEN,
      probe: {},
      onReceive,
      promise,
      resolve,
      reject,
      timer: undefined,
      poster: undefined,
      token: undefined,
    };
    const url = this.streamUrl();
    // The state changes now, before the EventSource exists (it may need an import first), so
    // that concurrent connect() calls share this attempt and disconnect() can abandon it.
    this.setState({ name: "connecting", link });
    const connectTimeout = this.options.connectTimeout ?? 10_000;
    link.timer = setTimeout(() => {
      this.abandon(
        link,
        new HttpSseTransportError(
          "timeout",
          `No session event from ${url} within ${connectTimeout} ms; raise connectTimeout or check the server.`,
        ),
      );
    }, connectTimeout);
    void this.openStream(link, url);
    return promise;
  }

  /**
   * Send one message by POST. Resolves when the server accepted it (202); its answers arrive on
   * the stream. Rejects with a {@link HttpSseTransportError}: `not_open` before `connect()` resolved or
   * after the connection ended, `rejected` for a non-2xx answer (with `status`, the protocol
   * `code`, and `retryAfter` for 429; a 404 also ends the connection with 4001, a 401/403 with
   * 4003), `unreachable` or `timeout` (after `sendTimeout`) when the POST met a network failure
   * (the connection then ends with 1006), `encode` for a message with no JSON form, `closed`
   * when the connection ended before the message was posted.
   *
   * Messages reach the server in the order of `send()`: one POST is on its way at a time, and
   * what queues up behind it is sent as one JSON array.
   */
  send(message: M): Promise<void> {
    if (this.state.name !== "open" || this.state.link.poster === undefined) {
      return Promise.reject(
        new HttpSseTransportError(
          "not_open",
          this.state.name === "connecting"
            ? "send() was called before connect() resolved; await connect() first."
            : "send() was called on a closed HttpSseTransport; call connect() first.",
        ),
      );
    }
    return this.state.link.poster.send(message);
  }

  /**
   * Close the stream. Safe to call more than once; nothing reaches `onReceive` afterwards.
   * Sends still queued reject with kind `closed` (a POST already on its way settles on its
   * answer); `onClose` listeners get code 1000 and `local: true`. A `connect()` under way
   * rejects with kind `closed`.
   */
  disconnect(): Promise<void> {
    const state = this.state;
    if (state.name === "closed") return Promise.resolve();
    const error = new HttpSseTransportError("closed", "disconnect() was called.", { closeCode: CloseCode.NORMAL });
    if (state.name === "connecting") this.abandon(state.link, error);
    else this.end(state.link, { code: CloseCode.NORMAL, reason: "", local: true }, error);
    return Promise.resolve();
  }

  /** Be told when an open connection ends (once per connection). Returns a function that removes the listener. */
  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private setState(next: TransportState<M>): void {
    this.state = next;
  }

  /** The stream's URL, without the token (what messages show; see {@link withToken}). */
  private streamUrl(): string {
    const { docId, clientId, revision, batch } = this.options;
    const params = new URLSearchParams();
    if (docId !== undefined) params.set("docId", docId);
    if (clientId !== undefined) params.set("clientId", clientId);
    const rev = typeof revision === "function" ? revision() : revision;
    if (rev !== undefined) params.set("revision", String(rev));
    if (batch === true) params.set("batch", "1");
    const query = params.toString();
    return `${this.baseUrl}${this.options.eventsPath ?? "/events"}${query === "" ? "" : `?${query}`}`;
  }

  private async openStream(link: Link<M>, url: string): Promise<void> {
    try {
      link.token = await resolveToken(this.token);
    } catch (cause) {
      this.abandon(
        link,
        new HttpSseTransportError("token", `No connection to ${url}: ${cause instanceof Error ? cause.message : String(cause)}.`, {
          cause,
        }),
      );
      return;
    }
    // disconnect() or the timeout may have ended the attempt meanwhile.
    if (!this.isCurrent(link)) return;
    let factory;
    try {
      factory = await loadEventSource({
        EventSource: this.options.EventSource,
        headers: this.options.headers,
        withCredentials: this.options.withCredentials ?? false,
        fetch: this.fetchFn,
      });
    } catch (cause) {
      this.abandon(
        link,
        new HttpSseTransportError(
          "unsupported",
          `Could not load an EventSource implementation (install the "eventsource" package): ${String(cause)}`,
          { cause },
        ),
      );
      return;
    }
    // disconnect() or the timeout may have ended the attempt during the import.
    if (!this.isCurrent(link)) return;
    const es = factory.open(withToken(url, link.token), link.probe);
    link.es = es;
    es.addEventListener("session", (event) => this.onSessionEvent(link, url, event as MessageEvent<string>));
    es.addEventListener("message", (event) => this.onMessageEvent(link, event as MessageEvent<string>));
    es.addEventListener("close", (event) => this.onCloseEvent(link, url, event as MessageEvent<string>));
    es.addEventListener("error", (event) => this.onErrorEvent(link, url, event));
  }

  private isCurrent(link: Link<M>): boolean {
    return this.state.name !== "closed" && this.state.link === link;
  }

  private onSessionEvent(link: Link<M>, url: string, event: MessageEvent<string>): void {
    if (this.state.name !== "connecting" || this.state.link !== link) return;
    let sessionId: unknown;
    try {
      sessionId = (JSON.parse(event.data) as { sessionId?: unknown }).sessionId;
    } catch {
      sessionId = undefined;
    }
    if (typeof sessionId !== "string" || sessionId === "") {
      this.abandon(
        link,
        new HttpSseTransportError("decode", `The session event from ${url} holds no sessionId; is this an OpenOT SSE endpoint?`),
      );
      return;
    }
    clearTimeout(link.timer);
    link.timer = undefined;
    const headers: Record<string, string> = { ...this.options.headers, "X-Session-Id": sessionId };
    if (link.token !== undefined) headers["Authorization"] = `Bearer ${link.token}`;
    link.poster = new MessagePoster({
      url: `${this.baseUrl}${this.options.messagesPath ?? "/messages"}`,
      headers,
      fetch: this.fetchFn,
      credentials: this.options.withCredentials === true ? "include" : undefined,
      maxBatchBytes: this.options.maxBatchBytes ?? 256 * 1024,
      maxBatchMessages: this.options.maxBatchMessages ?? 100,
      sendTimeout: this.options.sendTimeout ?? 30_000,
      onFatal: (closeCode, error) => {
        if (this.state.name === "open" && this.state.link === link) {
          this.end(link, { code: closeCode, reason: error.message, local: false, error }, error);
        }
      },
    });
    this.setState({ name: "open", link });
    link.resolve();
  }

  private onMessageEvent(link: Link<M>, event: MessageEvent<string>): void {
    if (this.state.name !== "open" || this.state.link !== link) return;
    let value: unknown;
    try {
      value = JSON.parse(event.data);
    } catch (cause) {
      // An event we cannot read may have been an op: carrying on would leave a gap in the
      // document's revisions, so end the connection and let the client rejoin.
      const error = new HttpSseTransportError(
        "decode",
        "The server sent an event that is not JSON; the connection was closed. Check that the URL is an OpenOT SSE endpoint.",
        { cause },
      );
      this.end(link, { code: PROTOCOL_ERROR, reason: "the server sent an event that is not JSON", local: false, error }, error);
      return;
    }
    // A batch is handled exactly as if its messages had arrived one by one.
    const messages = Array.isArray(value) ? value : [value];
    for (const message of messages) {
      // onReceive may disconnect the transport; nothing may follow that.
      if (this.state.name !== "open" || this.state.link !== link) return;
      try {
        link.onReceive(message as M);
      } catch (error) {
        this.options.logger?.error?.("HttpSseTransport: the onReceive callback threw", { error });
      }
    }
  }

  private onCloseEvent(link: Link<M>, url: string, event: MessageEvent<string>): void {
    if (!this.isCurrent(link)) return;
    let code: number = CloseCode.ABNORMAL;
    let reason = "";
    try {
      const data = JSON.parse(event.data) as { code?: unknown; reason?: unknown };
      if (typeof data.code === "number" && Number.isInteger(data.code)) code = data.code;
      if (typeof data.reason === "string") reason = data.reason;
    } catch {
      reason = "the server closed the stream with an unreadable close event";
    }
    const error = new HttpSseTransportError(
      "closed",
      `The server closed the event stream ${url} with ${code}${reason === "" ? "" : ` (${reason})`}.`,
      { closeCode: code },
    );
    if (this.state.name === "connecting") this.abandon(link, error);
    else this.end(link, { code, reason, local: false }, error);
  }

  private onErrorEvent(link: Link<M>, url: string, event: Event): void {
    if (!this.isCurrent(link)) return;
    if (this.state.name === "open") {
      const error = new HttpSseTransportError("closed", `The event stream ${url} was lost.`, {
        closeCode: CloseCode.ABNORMAL,
        cause: event,
      });
      this.end(link, { code: CloseCode.ABNORMAL, reason: "event stream lost", local: false, error }, error);
      return;
    }
    const { probe } = link;
    const status = probe.status ?? (event as Event & { code?: number }).code;
    if (status !== undefined && status !== 200) {
      let detail = "";
      try {
        const body = JSON.parse(probe.body ?? "") as { code?: unknown; message?: unknown };
        detail = typeof body.message === "string" ? `: ${typeof body.code === "string" ? `${body.code}: ` : ""}${body.message}` : "";
      } catch {
        detail = probe.body !== undefined && probe.body !== "" ? `: ${probe.body.slice(0, 200)}` : "";
      }
      const hint = status === 401 || status === 403 ? " Check the token." : status === 404 ? " Check eventsPath." : "";
      this.abandon(
        link,
        new HttpSseTransportError("refused", `The server refused the event stream ${url} with HTTP ${status}${detail}.${hint}`, { status }),
      );
      return;
    }
    if (status === 200) {
      // Answered 200, but the EventSource gave up: wrong content type, or the stream ended
      // before its session event.
      this.abandon(
        link,
        new HttpSseTransportError("decode", `The event stream ${url} ended before its session event, or is not text/event-stream.`),
      );
      return;
    }
    const cause = probe.error ?? (event as Event & { message?: string }).message;
    this.abandon(
      link,
      new HttpSseTransportError(
        "unreachable",
        `Cannot reach ${url}${describeNetworkError(cause)}; is the server running and the URL right?`,
        { cause },
      ),
    );
  }

  /** Give up a connection attempt: reject `connect()`; no onClose, since nothing was open. */
  private abandon(link: Link<M>, error: HttpSseTransportError): void {
    if (this.state.name !== "connecting" || this.state.link !== link) return;
    clearTimeout(link.timer);
    link.es.close();
    this.setState({ name: "closed" });
    link.reject(error);
  }

  /** End an open connection: close the stream, fail what is queued, tell the listeners. */
  private end(link: Link<M>, event: TransportCloseEvent, queuedError: HttpSseTransportError): void {
    if (this.state.name !== "open" || this.state.link !== link) return;
    link.es.close();
    this.setState({ name: "closed" });
    link.poster?.stop(queuedError);
    for (const listener of [...this.closeListeners]) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger?.error?.("HttpSseTransport: an onClose listener threw", { error });
      }
    }
  }
}

/** `url` with the `token` query parameter (the only credential an EventSource can send). */
function withToken(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

function describeNetworkError(cause: unknown): string {
  if (cause === undefined || cause === "") return "";
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    const code = inner instanceof Error ? ((inner as Error & { code?: string }).code ?? inner.message) : undefined;
    return `: ${cause.message}${code !== undefined ? ` (${code})` : ""}`;
  }
  if (typeof cause === "string" || typeof cause === "number" || typeof cause === "boolean") return `: ${String(cause)}`;
  return `: ${Object.prototype.toString.call(cause)}`;
}
