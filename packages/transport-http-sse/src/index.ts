export { HttpSseTransport, type HttpSseTransportOptions } from "./http-sse-transport.js";
export { HttpSseTransportError, type HttpSseTransportErrorKind, type HttpSseTransportErrorDetails } from "./transport-error.js";
export type { EventSourceConstructor, EventSourceLike, EventSourceInitLike } from "./event-source-loader.js";
export type { FetchFunction } from "./message-poster.js";
export type { Logger } from "@open-ot/core";
