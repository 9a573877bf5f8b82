export { parseRequestTarget, type RequestTarget } from "./request-target.js";
export { addressKey, createClientAddressResolver, normalizeAddress, type AddressSource, type ClientAddressResolver, type TrustProxy } from "./client-address.js";
export {
  DEFAULT_LIMITS,
  exceedsBacklog,
  resolveLimits,
  type ConnectionLimitOptions,
  type RateLimitOptions,
  type ResolvedLimits,
  type ResolvedRateLimit,
} from "./connection-limits.js";
export { TokenBucket } from "./token-bucket.js";
export { MessageGate, type GateRefusal, type GateVerdict } from "./message-gate.js";
export { batchLength } from "./batch-length.js";
export { refusals, type Refusal } from "./refusal.js";
export {
  ConnectionPolicy,
  createConnectionPolicy,
  policyFor,
  type AdmitResult,
  type Admission,
  type AllowedOrigins,
  type AuthorizeResult,
  type ConnectionPolicyOptions,
  type PolicyConnection,
  type RequestCredentials,
  type TokenGrant,
  type VerifyToken,
} from "./connection-policy.js";
