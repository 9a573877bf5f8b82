// The public API of @open-ot/client, named on purpose: what is not listed here is internal and
// may change in any release (api/client.api.md is the reviewed record of this surface).
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
export type { RetryOptions } from "./retry-delay.js";
export type { Listener } from "./typed-emitter.js";
export { OTClientError, type ClientErrorCode, type OTClientErrorDetails } from "./ot-client-error.js";

// The OT state machine, for tests and custom clients.
export type { ClientState, PendingOp, StateContext, SyncStateName, RemoteOpResult } from "./client-state.js";
export { ImpossibleTransitionError, transformPast } from "./client-state.js";
export { Synchronized } from "./synchronized.js";
export { AwaitingConfirm } from "./awaiting-confirm.js";
export { AwaitingWithBuffer } from "./awaiting-with-buffer.js";
export { rebaseOntoSnapshot, type DiffFunction, type RebaseInput, type RebaseResult } from "./rebase-onto-snapshot.js";

// Many documents on one connection.
export { OTConnection, type OTConnectionState } from "./ot-connection.js";
export type { OTConnectionOptions, OpenDocumentOptions } from "./ot-connection-options.js";
export { SeqCounter } from "./seq-counter.js";
export type { LocalPresence, PeerPresenceView } from "./presence-tracker.js";
