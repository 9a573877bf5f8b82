export * from "./backend-contract.js";
export * from "./pubsub-contract.js";
export * from "./transport-conformance.js";
export * from "./fault-proxy.js";
export * from "./redis-server.js";
export * from "./seeded-random.js";
export * from "./random-text-edit.js";
export * from "./wait-until.js";
