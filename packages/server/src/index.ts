export * from "./backend.js";
export * from "./hub-types.js";
export * from "./logger.js";
export * from "./in-process-pub-sub.js";
export * from "./memory-backend.js";
export * from "./document-sequencer.js";
export * from "./sequencer-pool.js";
