/**
 * `@open-ot/transport-websocket/server`: the Node-only server binding. Kept behind its own
 * subpath so that browser bundles of the client never pull in `ws` or `node:http`.
 */
export { attachWebSocketServer, type WebSocketBinding, type WebSocketServerOptions } from "./attach-websocket-server.js";
export type { HubLike } from "./hub-like.js";
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
