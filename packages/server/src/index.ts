export * from "./backend.js";
export * from "./hub-types.js";
export * from "./logger.js";
export * from "./in-process-pub-sub.js";
export * from "./memory-backend.js";
