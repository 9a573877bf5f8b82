export * from "./backend.js";
export * from "./backend-guard.js";
export * from "./hub-types.js";
// Logger and silentLogger live in @open-ot/core; re-exported so existing imports keep working.
export { silentLogger, type Logger } from "@open-ot/core";
export * from "./in-process-pub-sub.js";
export * from "./memory-backend.js";
export * from "./document-sequencer.js";
export * from "./sequencer-pool.js";
export * from "./ot-error.js";
export * from "./keyed-queue.js";
export * from "./server.js";
export * from "./outbox.js";
export * from "./document-feed.js";
export * from "./hub-session.js";
export * from "./hub.js";
export * from "./in-process-transport.js";
export { authorLabel } from "./author-label.js";
export * from "./policy/index.js";
