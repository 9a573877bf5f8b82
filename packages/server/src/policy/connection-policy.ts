import type { IncomingMessage } from "node:http";
import { CloseCode, silentLogger, type Logger } from "@open-ot/core";
import { addressKey, createClientAddressResolver, type ClientAddressResolver, type TrustProxy } from "./client-address.js";
import { resolveLimits, type ConnectionLimitOptions, type ResolvedLimits } from "./connection-limits.js";
import { MessageGate } from "./message-gate.js";
import { refusals, type Refusal } from "./refusal.js";

/**
 * What `verifyToken` may grant besides "yes": the authenticated principal (a user or account
 * id; the hub binds `clientId`s to it) and when the token expires (milliseconds since the
 * epoch, or a Date), after which the connection is closed with 4003.
 */
export interface TokenGrant {
  readonly principal?: string;
  readonly expiresAt?: number | Date;
}

/**
 * Checks a request's token (from `Authorization: Bearer`, else the `token` query parameter).
 * `true` or a {@link TokenGrant} accepts it; `false` refuses it (401, in band 4003); a throw or
 * rejection answers 500. Called for every connection attempt and every POST.
 */
export type VerifyToken = (token: string, request: IncomingMessage) => boolean | TokenGrant | Promise<boolean | TokenGrant>;

/**
 * Origins allowed to connect: exact `Origin` header values, `"*"` for any, or a predicate
 * (called with `undefined` for a request without the header). With a list or `"*"`, requests
 * without an `Origin` header (non-browser clients, which could forge it anyway) are allowed.
 */
export type AllowedOrigins = readonly string[] | "*" | ((origin: string | undefined, request: IncomingMessage) => boolean);

/** The settings of a {@link ConnectionPolicy}; both bindings take them under these names. */
export interface ConnectionPolicyOptions extends ConnectionLimitOptions {
  /** See {@link AllowedOrigins}. Others are refused with 403 (in band: close 1008). @default undefined (any origin) */
  readonly allowedOrigins?: AllowedOrigins;
  /** See {@link VerifyToken}. @default undefined (no authentication; tokens are ignored) */
  readonly verifyToken?: VerifyToken;
  /** Which peers may name the client address in `Forwarded` / `X-Forwarded-For`; see {@link TrustProxy}. @default false */
  readonly trustProxy?: TrustProxy;
  /**
   * Answer refused connections in band, for browsers: a browser's WebSocket sees a refused
   * upgrade (401, 403, 429) only as 1006, and its EventSource sees a refused stream only as an
   * error, so a reconnecting client would retry a bad token forever. With this on, the
   * WebSocket binding accepts the upgrade and closes it at once with the refusal's close code
   * and reason (4003 for a token), and the SSE binding answers 200 with one `close` event
   * carrying them. A refused POST is still answered with its HTTP status (fetch can read it).
   * @default false
   */
  readonly refuseInBand?: boolean;
  /** Receives refusals (with the client address) and closes for expiry and revocation. @default silent */
  readonly logger?: Logger;
}

/** A connection as the policy sees it: the one thing it does to one is close it. */
export interface PolicyConnection {
  close(code: number, reason: string): void;
}

/** A client the policy let in, counted against its address until it is opened or abandoned. */
export interface Admission {
  /** The client's address (after `trustProxy`), for logs and the hub. */
  readonly remoteAddress: string;
  /** The principal `verifyToken` granted, if any. */
  readonly principal: string | undefined;
  /** When its token expires, in milliseconds since the epoch. */
  readonly expiresAt: number | undefined;
  /**
   * Count it as an open connection from now on. The policy closes `connection` with 4003 when
   * the token expires or the principal is revoked. Call the returned function once the
   * connection has ended.
   */
  open(connection: PolicyConnection): () => void;
  /** The client went away (or was refused after all) before it was opened. */
  abandon(): void;
}

/** The outcome of {@link ConnectionPolicy.admit}. */
export type AdmitResult =
  { readonly ok: true; readonly admission: Admission } | { readonly ok: false; readonly refusal: Refusal; readonly remoteAddress: string };

/** The outcome of {@link ConnectionPolicy.authorize}. */
export type AuthorizeResult =
  | { readonly ok: true; readonly principal: string | undefined; readonly expiresAt: number | undefined }
  | { readonly ok: false; readonly refusal: Refusal };

/** What a binding read from a request before asking the policy. */
export interface RequestCredentials {
  /** From `Authorization: Bearer`, else the `token` query parameter. */
  readonly token: string | undefined;
  /** The `Origin` header. */
  readonly origin: string | undefined;
}

interface AddressCount {
  open: number;
  /** Connections being admitted (counted with `open` against `maxConnectionsPerAddress`). */
  admitting: number;
  /** Requests whose token is being checked: connections being admitted and POSTs. */
  pending: number;
  pendingBytes: number;
}

interface OpenEntry {
  readonly connection: PolicyConnection;
  readonly principal: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** setTimeout's longest delay; a later expiry is reached in several steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The connection policy both bindings apply (docs: "Bindings share one connection policy"):
 * client addresses and `trustProxy`, per-address and total connection limits, origin check,
 * token verification with a principal and an expiry, revocation, and the inbound
 * {@link MessageGate} of each connection. Give one instance to both bindings (`policy` option)
 * so that their connections count together and {@link revoke} reaches both; a binding given
 * only options builds its own.
 */
export class ConnectionPolicy {
  readonly limits: ResolvedLimits;
  readonly refuseInBand: boolean;
  /** The origin setting (the SSE binding answers CORS from it). */
  readonly allowedOrigins: AllowedOrigins | undefined;
  private readonly verifyToken: VerifyToken | undefined;
  private readonly resolveAddress: ClientAddressResolver;
  private readonly logger: Logger;
  private readonly byAddress = new Map<string, AddressCount>();
  private readonly byPrincipal = new Map<string, Set<OpenEntry>>();
  private total = 0;

  constructor(options: ConnectionPolicyOptions = {}, who = "ConnectionPolicy") {
    this.limits = resolveLimits(options, who);
    this.refuseInBand = options.refuseInBand === true;
    this.allowedOrigins = options.allowedOrigins;
    this.verifyToken = options.verifyToken;
    this.resolveAddress = createClientAddressResolver(options.trustProxy ?? false);
    this.logger = options.logger ?? silentLogger;
  }

  /** True when connections must carry a token. */
  get authenticates(): boolean {
    return this.verifyToken !== undefined;
  }

  /** Connections open and being admitted, in all. */
  get connectionCount(): number {
    return this.total;
  }

  /** The client address of `request` under the `trustProxy` setting. */
  clientAddress(request: IncomingMessage): string {
    return this.resolveAddress({ socketAddress: request.socket?.remoteAddress, headers: request.headers });
  }

  /** Connections open and being admitted from `address`'s network (see `maxConnectionsPerAddress`). */
  connectionsFrom(address: string): number {
    const count = this.byAddress.get(addressKey(address));
    return count === undefined ? 0 : count.open + count.admitting;
  }

  /**
   * Decide whether a new connection (an upgrade, an event stream) may open: the total and
   * per-address limits, the origin, the token. While the token is checked the request counts
   * as pending against its address. On success, the caller must `open()` or `abandon()` the
   * admission.
   */
  async admit(request: IncomingMessage, credentials: RequestCredentials): Promise<AdmitResult> {
    const remoteAddress = this.clientAddress(request);
    const refuse = (refusal: Refusal): AdmitResult => {
      this.logger.debug?.("Connection refused", { remoteAddress, status: refusal.status, code: refusal.code, reason: refusal.message });
      return { ok: false, refusal, remoteAddress };
    };
    if (this.total >= this.limits.maxConnections) return refuse(refusals.tooManyConnections(this.limits.maxConnections));
    if (this.connectionsFrom(remoteAddress) >= this.limits.maxConnectionsPerAddress) {
      return refuse(refusals.tooManyFromAddress(this.limits.maxConnectionsPerAddress));
    }
    const release = this.holdPending(remoteAddress, request, true);
    if (typeof release !== "function") return refuse(release);
    if (!this.originAllowed(credentials.origin, request)) {
      release(false);
      return refuse(refusals.origin(credentials.origin));
    }
    const verdict = await this.check(credentials.token, request);
    if (!verdict.ok) {
      release(false);
      return refuse(verdict.refusal);
    }
    let settled = false;
    const admission: Admission = {
      remoteAddress,
      principal: verdict.principal,
      expiresAt: verdict.expiresAt,
      open: (connection) => {
        if (settled) throw new Error("ConnectionPolicy: an admission was opened or abandoned already");
        settled = true;
        release(true);
        return this.track(remoteAddress, connection, verdict.principal, verdict.expiresAt);
      },
      abandon: () => {
        if (settled) return;
        settled = true;
        release(false);
      },
    };
    return { ok: true, admission };
  }

  /**
   * Check the token of a request that opens no connection (a POST): it counts as pending
   * against its address while `verifyToken` runs.
   */
  async authorize(request: IncomingMessage, token: string | undefined): Promise<AuthorizeResult> {
    if (this.verifyToken === undefined) return { ok: true, principal: undefined, expiresAt: undefined };
    const remoteAddress = this.clientAddress(request);
    const release = this.holdPending(remoteAddress, request, false);
    if (typeof release !== "function") return { ok: false, refusal: release };
    try {
      return await this.check(token, request);
    } finally {
      release(false);
    }
  }

  /** A new inbound gate (rate limit and batch rule) for one connection. */
  createGate(): MessageGate {
    return new MessageGate(this.limits);
  }

  /**
   * Close every open connection of `principal` with 4003 (the client asks its token function
   * for a new token once, then stops if it is refused too). Reaches the connections of the
   * bindings that share this policy on this process only: with several instances, call it on
   * each (for example from a pub/sub message), and make `verifyToken` refuse the principal's
   * tokens, or it simply reconnects. Returns how many connections it closed.
   */
  revoke(principal: string, reason = "access revoked"): number {
    const entries = this.byPrincipal.get(principal);
    if (entries === undefined) return 0;
    const closing = [...entries];
    this.logger.info?.("Revoking a principal's connections", { principal, connections: closing.length });
    for (const entry of closing) this.closeEntry(entry, reason);
    return closing.length;
  }

  // ------------------------------------------------------------------ internals

  /**
   * Count a request as pending against its address, unless that passes the pending limits;
   * returns the function that stops counting it (and, with `opened`, counts it as open).
   */
  private holdPending(address: string, request: IncomingMessage, connection: boolean): ((opened: boolean) => void) | Refusal {
    const key = addressKey(address);
    const count = this.byAddress.get(key) ?? { open: 0, admitting: 0, pending: 0, pendingBytes: 0 };
    const bytes = requestHeadBytes(request);
    if (count.pending >= this.limits.maxPendingPerAddress) return refusals.tooManyPending(`${count.pending} requests`);
    if (count.pendingBytes + bytes > this.limits.maxPendingBytesPerAddress)
      return refusals.tooManyPending(`${count.pendingBytes + bytes} bytes`);
    count.pending++;
    count.pendingBytes += bytes;
    this.byAddress.set(key, count);
    if (connection) {
      count.admitting++;
      this.total++;
    }
    let held = true;
    return (opened) => {
      if (!held) return;
      held = false;
      count.pending--;
      count.pendingBytes -= bytes;
      if (connection) {
        count.admitting--;
        if (opened) count.open++;
        else this.total--;
      }
      this.forgetIfIdle(key, count);
    };
  }

  private forgetIfIdle(key: string, count: AddressCount): void {
    if (count.open === 0 && count.pending === 0 && count.admitting === 0 && this.byAddress.get(key) === count) this.byAddress.delete(key);
  }

  /** Whether `origin` may connect (see {@link AllowedOrigins}). */
  originAllowed(origin: string | undefined, request: IncomingMessage): boolean {
    const allowed = this.allowedOrigins;
    if (allowed === undefined || allowed === "*") return true;
    if (typeof allowed === "function") {
      try {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- a JavaScript caller's function may return anything
        return allowed(origin, request) === true;
      } catch (error) {
        this.logger.error?.("allowedOrigins threw; refusing the origin", { error });
        return false;
      }
    }
    return origin === undefined || allowed.includes(origin);
  }

  /** Run `verifyToken` within `authTimeoutMs` and read its grant. */
  private async check(token: string | undefined, request: IncomingMessage): Promise<AuthorizeResult> {
    const verify = this.verifyToken;
    if (verify === undefined) return { ok: true, principal: undefined, expiresAt: undefined };
    if (token === undefined || token === "") return { ok: false, refusal: refusals.missingToken() };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.limits.authTimeoutMs);
    });
    let answer: boolean | TokenGrant | "timeout";
    try {
      answer = await Promise.race([Promise.resolve().then(() => verify(token, request)), timeout]);
    } catch (error) {
      this.logger.error?.("verifyToken threw; refusing with 500", { error });
      return { ok: false, refusal: refusals.tokenCheckFailed() };
    } finally {
      clearTimeout(timer);
    }
    if (answer === "timeout") {
      this.logger.warn?.("verifyToken did not settle in time", { authTimeoutMs: this.limits.authTimeoutMs });
      return { ok: false, refusal: refusals.tokenCheckTimedOut(this.limits.authTimeoutMs) };
    }
    if (answer === true) return { ok: true, principal: undefined, expiresAt: undefined };
    if (typeof answer !== "object" || answer === null) return { ok: false, refusal: refusals.badToken() };
    const grant = readGrant(answer);
    if (grant === undefined) {
      this.logger.error?.("verifyToken returned a grant that is not { principal?: string, expiresAt?: number | Date }; refusing with 500");
      return { ok: false, refusal: refusals.tokenCheckFailed() };
    }
    if (grant.expiresAt !== undefined && grant.expiresAt <= Date.now()) return { ok: false, refusal: refusals.expiredToken() };
    return { ok: true, ...grant };
  }

  private track(address: string, connection: PolicyConnection, principal: string | undefined, expiresAt: number | undefined): () => void {
    const key = addressKey(address);
    const entry: OpenEntry = { connection, principal, timer: undefined };
    if (principal !== undefined) {
      let set = this.byPrincipal.get(principal);
      if (set === undefined) this.byPrincipal.set(principal, (set = new Set()));
      set.add(entry);
    }
    if (expiresAt !== undefined) this.armExpiry(entry, expiresAt);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearTimeout(entry.timer);
      if (principal !== undefined) {
        const set = this.byPrincipal.get(principal);
        set?.delete(entry);
        if (set?.size === 0) this.byPrincipal.delete(principal);
      }
      this.total--;
      const count = this.byAddress.get(key);
      if (count !== undefined) {
        count.open--;
        this.forgetIfIdle(key, count);
      }
    };
  }

  private armExpiry(entry: OpenEntry, expiresAt: number): void {
    const delay = expiresAt - Date.now();
    entry.timer = setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) this.armExpiry(entry, expiresAt);
        else this.closeEntry(entry, "token expired: connect again with a new token");
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    entry.timer.unref?.();
  }

  private closeEntry(entry: OpenEntry, reason: string): void {
    clearTimeout(entry.timer);
    this.logger.debug?.("Closing a connection with 4003", { principal: entry.principal, reason });
    try {
      entry.connection.close(CloseCode.UNAUTHORIZED, reason);
    } catch (error) {
      this.logger.error?.("Closing a connection for its token failed", { error });
    }
  }
}

/**
 * Build the policy both bindings can share.
 *
 * ```ts
 * const policy = createConnectionPolicy({ verifyToken, allowedOrigins: ["https://app.example.com"], trustProxy: 1 });
 * attachWebSocketServer({ hub, server, policy });
 * const sse = createSseHandler({ hub, policy });
 * // later: policy.revoke("user-42");
 * ```
 *
 * @throws TypeError for a limit out of range or a malformed `trustProxy` range.
 */
export function createConnectionPolicy(options: ConnectionPolicyOptions = {}): ConnectionPolicy {
  return new ConnectionPolicy(options, "createConnectionPolicy");
}

/** The names of {@link ConnectionPolicyOptions}, which a binding given a `policy` must not also be given. */
const POLICY_OPTION_NAMES = [
  "allowedOrigins",
  "verifyToken",
  "trustProxy",
  "refuseInBand",
  "maxMessageBytes",
  "maxBatchMessages",
  "rateLimit",
  "maxBufferedBytes",
  "maxConnections",
  "maxConnectionsPerAddress",
  "maxPendingPerAddress",
  "maxPendingBytesPerAddress",
  "authTimeoutMs",
] as const satisfies ReadonlyArray<keyof ConnectionPolicyOptions>;

/**
 * The policy a binding applies: the shared `policy` it was given, else one built from its own
 * options. `who` names the binding in error messages.
 *
 * @throws TypeError when both a `policy` and policy options are given (which would win is not obvious).
 */
export function policyFor(
  options: ConnectionPolicyOptions & { readonly policy?: ConnectionPolicy | undefined },
  who: string,
): ConnectionPolicy {
  if (options.policy === undefined) return new ConnectionPolicy(options, who);
  if (!(options.policy instanceof ConnectionPolicy)) throw new TypeError(`${who}: \`policy\` must come from createConnectionPolicy().`);
  const both = POLICY_OPTION_NAMES.filter((name) => options[name] !== undefined);
  if (both.length > 0) {
    throw new TypeError(`${who}: pass ${both.join(", ")} to createConnectionPolicy(), not beside \`policy\`.`);
  }
  return options.policy;
}

function readGrant(value: object): { principal: string | undefined; expiresAt: number | undefined } | undefined {
  const { principal, expiresAt } = value as { principal?: unknown; expiresAt?: unknown };
  if (principal !== undefined && (typeof principal !== "string" || principal === "")) return undefined;
  let expiry: number | undefined;
  if (expiresAt instanceof Date) expiry = expiresAt.getTime();
  else if (typeof expiresAt === "number") expiry = expiresAt;
  else if (expiresAt !== undefined) return undefined;
  if (expiry !== undefined && Number.isNaN(expiry)) return undefined;
  return { principal, expiresAt: expiry };
}

/** Bytes a request's head holds in memory: its target and its headers. */
function requestHeadBytes(request: IncomingMessage): number {
  let bytes = (request.url ?? "").length;
  for (const part of request.rawHeaders ?? []) bytes += part.length + 2;
  return bytes;
}
