import { createHash } from "node:crypto";

/**
 * The key under which a principal is stored and compared (binding a clientId to it, telling
 * other instances about a connection): a digest, so storage and pub/sub hold neither user ids
 * nor their length.
 */
export function principalKey(principal: string): string {
  return digest("ot-principal", principal);
}

/**
 * The key under which instances tell each other about a client's connections: a digest, so a
 * `clientId` (a bearer secret) never travels on the pub/sub.
 */
export function clientKey(clientId: string): string {
  return digest("ot-client", clientId);
}

function digest(purpose: string, value: string): string {
  return createHash("sha256").update(`${purpose}\n${value}`).digest("base64url").slice(0, 22);
}
