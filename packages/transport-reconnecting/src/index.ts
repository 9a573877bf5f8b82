export * from "./reconnecting-transport.js";
export * from "./reconnecting-transport-error.js";
export * from "./backoff.js";
export * from "./close-policy.js";
export * from "./close-event-from-error.js";
export * from "./heartbeat.js";
export * from "./offline-queue.js";
