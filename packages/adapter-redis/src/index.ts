export { RedisAdapter, type RedisAdapterOptions, type RedisConnection } from "./redis-adapter.js";
export { RedisUnavailableError } from "./redis-unavailable-error.js";
export { documentKeys, type DocumentKeys } from "./document-keys.js";
export { presenceChannel } from "./redis-presence.js";
