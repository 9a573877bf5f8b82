export { createSseHandler, type RateLimitOptions, type SseHandler, type SseHandlerOptions, type VerifyToken } from "./sse-handler.js";
export { SseSession, type SseHub, type SseSessionState } from "./sse-session.js";
export type { Logger } from "@open-ot/core";
