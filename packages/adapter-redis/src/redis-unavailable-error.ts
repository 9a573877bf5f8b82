import { BackendUnavailableError } from "@open-ot/server";

/**
 * A call failed because Redis could not be reached or could not serve it (connection down,
 * reconnect attempts exhausted, still loading its data): the `BackendUnavailableError` of
 * @open-ot/server, which the server answers with the protocol code `unavailable` (transient);
 * clients send the request again later.
 *
 * `sent` tells whether the command may have reached Redis: when it was not sent, nothing
 * changed; when it was, a commit may have been applied before its reply was lost, and resending
 * it with the same `(clientId, seq)` is safe (it then comes back as a duplicate).
 */
export class RedisUnavailableError extends BackendUnavailableError {
  override readonly name = "RedisUnavailableError";
}

/** Reply errors by which Redis says "not now" rather than "wrong command". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|NOREPLICAS|READONLY)\b/;

/**
 * True for errors of ioredis that mean Redis was unreachable or busy, as opposed to a reply
 * that rejects the command itself (a bug, which is passed on unchanged).
 */
export function isConnectionFailure(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") return TRANSIENT_REPLY.test(error.message);
  return true;
}
