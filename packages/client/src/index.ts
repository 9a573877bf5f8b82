export { OTClient } from "./ot-client.js";
export type { OTClientOptions, OTClientLogger } from "./ot-client-options.js";
export type {
  OTClientEvents,
  ConnectionState,
  JoinReason,
  ResyncEvent,
  RemoteOpEvent,
  OTClientStatus,
  LostDocument,
  RestoredEvent,
} from "./ot-client-events.js";
export { retryDelay, DEFAULT_RETRY, type RetryOptions } from "./retry-delay.js";
export { refusalAction } from "./refusal-advice.js";
export { OTClientError, type ClientErrorCode, type OTClientErrorDetails } from "./ot-client-error.js";
export type { ClientState, PendingOp, StateContext, SyncStateName, RemoteOpResult } from "./client-state.js";
export { ImpossibleTransitionError, transformPast } from "./client-state.js";
export { Synchronized } from "./synchronized.js";
export { AwaitingConfirm } from "./awaiting-confirm.js";
export { AwaitingWithBuffer } from "./awaiting-with-buffer.js";
export { rebaseOntoSnapshot, type DiffFunction, type RebaseInput, type RebaseResult } from "./rebase-onto-snapshot.js";
export { resolveDiff } from "./resolve-diff.js";
export { TypedEmitter, type Listener } from "./typed-emitter.js";
export { OTConnection, type OTConnectionState } from "./ot-connection.js";
export type { OTConnectionOptions, OpenDocumentOptions } from "./ot-connection-options.js";
export { SeqCounter } from "./seq-counter.js";
export type { LocalPresence, PeerPresenceView } from "./presence-tracker.js";
