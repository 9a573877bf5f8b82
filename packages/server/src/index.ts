// The public API of @open-ot/server, named on purpose: what is not listed here is internal and
// may change in any release (api/server.api.md is the reviewed record of this surface).

// Committing ops.
export {
  DEFAULT_MAX_DOCUMENT_SIZE,
  Server,
  type AnyOTType,
  type DocumentState,
  type DuplicateResult,
  type ServerOptions,
  type SubmitMeta,
  type SubmitResult,
} from "./server.js";
export { OTError, type OTErrorDetails } from "./ot-error.js";
export type { BackendGuard, BackendGuardOptions, BackendHealth } from "./backend-guard.js";

// The transport-neutral hub that bindings attach connections to.
export { Hub, type HubOptions } from "./hub.js";
export type { DocumentSequencerOptions } from "./document-sequencer.js";
export type { ConnectOptions, HubConnection, HubSession } from "./hub-types.js";
export type { ClientSubmit } from "./hub-submit.js";
export { authorLabel } from "./author-label.js";
export { createInProcessTransport, InProcessTransport, type InProcessTransportOptions } from "./in-process-transport.js";

// Storage and fan-out: the contract a backend implements, and the in-memory one.
export {
  BackendUnavailableError,
  CLIENT_NOTICE_CHANNEL,
  DocumentExistsError,
  DocumentNotFoundError,
  DocumentReplacedError,
  HistoryTrimmedError,
  documentChannel,
  isBackendUnavailable,
  isClientNotice,
  type ClientNotice,
  type CommitBatchResult,
  type CommitNotice,
  type CommitRequest,
  type CommitResult,
  type CommittedOp,
  type DocumentLineage,
  type DocumentRecord,
  type IBackendAdapter,
  type PubSub,
  type PubSubListener,
  type RestoreRequest,
  type RestoreResult,
} from "./backend.js";
export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";
export { InProcessPubSub, type InProcessPubSubOptions } from "./in-process-pub-sub.js";

// Connection policy: origins, tokens, addresses, limits and rates, shared by both bindings.
export {
  ConnectionPolicy,
  createConnectionPolicy,
  type AdmitResult,
  type Admission,
  type AllowedOrigins,
  type AuthorizeResult,
  type ConnectionPolicyOptions,
  type PolicyConnection,
  type RequestCredentials,
  type TokenGrant,
  type VerifyToken,
} from "./policy/connection-policy.js";
export { createClientAddressResolver, type AddressSource, type ClientAddressResolver, type TrustProxy } from "./policy/client-address.js";
export type { ConnectionLimitOptions, RateLimitOptions, ResolvedLimits, ResolvedRateLimit } from "./policy/connection-limits.js";

// For transport bindings (the `./server` entries of the transport packages, or your own).
export { policyFor } from "./policy/connection-policy.js";
export { exceedsBacklog } from "./policy/connection-limits.js";
export { MessageGate, type GateRefusal, type GateVerdict } from "./policy/message-gate.js";
export { refusals, type Refusal } from "./policy/refusal.js";
export { parseRequestTarget, type RequestTarget } from "./policy/request-target.js";
export { batchLength } from "./policy/batch-length.js";

// Presence: who is in a document, across instances through the pub/sub.
export { PresenceService, type PresenceOptions, type PresenceSubscriber } from "./presence/presence-service.js";
export { isPresencePubSub, isPresenceNotice, type PresenceNotice, type PresencePubSub } from "./presence/presence-pub-sub.js";
export { InProcessPresenceChannels } from "./presence/in-process-presence.js";

// Metrics: the sink interface every component reports to.
export { combineMetrics, tryReport, type CommitOutcome, type ServerMetrics } from "./metrics/server-metrics.js";

export { silentLogger, type Logger } from "@open-ot/core";
