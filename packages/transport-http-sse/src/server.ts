export { createSseHandler, type SseHandler, type SseHandlerOptions } from "./sse-handler.js";
export { SseSession, type SseHub, type SseSessionOptions, type SseSessionState } from "./sse-session.js";
export type { SharedSessionsOptions } from "./shared-sessions.js";
export type { Logger } from "@open-ot/core";
export {
  createConnectionPolicy,
  type ConnectionLimitOptions,
  type ConnectionPolicy,
  type ConnectionPolicyOptions,
  type RateLimitOptions,
  type TokenGrant,
  type TrustProxy,
  type VerifyToken,
} from "@open-ot/server";
