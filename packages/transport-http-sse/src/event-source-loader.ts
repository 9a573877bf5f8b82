import type { FetchFunction } from "./message-poster.js";

/** The part of an EventSource this transport uses; the browser's and the `eventsource` package's both fit. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

/** What the stream's fetch saw, for error messages the EventSource API itself does not give. */
export interface StreamResponseProbe {
  /** The HTTP status of the stream request, once answered. */
  status?: number;
  /** The body of a refused stream request (the server's JSON error), truncated. */
  body?: string;
  /** The network error the stream request met. */
  error?: unknown;
}

/** Options an EventSource constructor may take; `fetch` only the `eventsource` package knows. */
export interface EventSourceInitLike {
  withCredentials?: boolean;
  fetch?: (
    url: string | URL,
    init: { headers: Record<string, string>; signal?: AbortSignal | null } & Record<string, unknown>,
  ) => Promise<Response>;
}

/** An EventSource constructor. */
export type EventSourceConstructor = new (url: string, init?: EventSourceInitLike) => EventSourceLike;

/** How to open one event stream. */
export interface EventSourceFactory {
  /** Open a stream; `probe` is filled in when the implementation lets us see the HTTP exchange. */
  open(url: string, probe: StreamResponseProbe): EventSourceLike;
}

/** Settings for {@link loadEventSource}. */
export interface LoadEventSourceOptions {
  /** A constructor chosen by the user; used as is. */
  readonly EventSource: EventSourceConstructor | undefined;
  /** Headers to send with the stream request; only the `eventsource` package can. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly withCredentials: boolean;
  readonly fetch: FetchFunction;
}

/**
 * Choose the EventSource: the user's, else the platform's (browsers), else the `eventsource`
 * package, imported only then so that browser bundles never include it. The package is also used
 * when headers must be sent, which a browser's EventSource cannot do; it is given a `fetch` that
 * adds them and records the HTTP status, so that a refusal can be reported with its status.
 */
export async function loadEventSource(options: LoadEventSourceOptions): Promise<EventSourceFactory> {
  const userConstructor = options.EventSource;
  const native = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  const needsHeaders = options.headers !== undefined && Object.keys(options.headers).length > 0;
  if (userConstructor === undefined && native !== undefined && !needsHeaders) {
    return { open: (url) => new native(url, { withCredentials: options.withCredentials }) };
  }
  const Constructor: EventSourceConstructor =
    userConstructor ?? ((await import("eventsource")).EventSource as unknown as EventSourceConstructor);
  const extraHeaders = options.headers ?? {};
  return {
    open(url, probe) {
      const fetchWithProbe: EventSourceInitLike["fetch"] = async (input, init) => {
        let response: Response;
        try {
          response = await options.fetch(input, { ...(init as RequestInit), headers: { ...init.headers, ...extraHeaders } });
        } catch (error) {
          probe.error = error;
          throw error;
        }
        probe.status = response.status;
        if (response.status !== 200) {
          // The EventSource drops a refused response unread; keep the server's explanation.
          probe.body = (await response.text().catch(() => "")).slice(0, 500);
          return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
        }
        return response;
      };
      return new Constructor(url, { withCredentials: options.withCredentials, fetch: fetchWithProbe });
    },
  };
}
