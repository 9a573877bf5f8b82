export { WebSocketTransport, type WebSocketTransportOptions } from "./websocket-transport.js";
export { WebSocketTransportError, type WebSocketTransportErrorKind, type WebSocketTransportErrorOptions } from "./transport-error.js";
export type { BrowserWebSocket, WebSocketConstructor } from "./native-socket.js";
export type { Logger } from "@open-ot/core";
