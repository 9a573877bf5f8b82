// The public API of @open-ot/transport-reconnecting, named on purpose: what is not listed here
// is internal and may change in any release (api/transport-reconnecting.api.md records it).
export {
  ReconnectingTransport,
  type Handshake,
  type ReconnectingLogger,
  type ReconnectingState,
  type ReconnectingStatus,
  type ReconnectingTransportOptions,
} from "./reconnecting-transport.js";
export { ReconnectingTransportError, type ReconnectingErrorCode } from "./reconnecting-transport-error.js";
export { DEFAULT_BACKOFF, backoffCeiling, exponentialBackoff, type BackoffFunction, type BackoffOptions } from "./backoff.js";
export {
  DEFAULT_CLOSE_POLICY,
  createClosePolicy,
  defaultClosePolicy,
  type CloseDecision,
  type ClosePolicy,
  type ClosePolicyContext,
  type ClosePolicyOptions,
} from "./close-policy.js";
export { closeEventFromError } from "./close-event-from-error.js";
export { DEFAULT_HEARTBEAT, type HeartbeatOptions } from "./heartbeat.js";
export { DEFAULT_OFFLINE_QUEUE, type OfflineQueueOptions } from "./offline-queue.js";
