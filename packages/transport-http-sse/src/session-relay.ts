import { randomBytes } from "node:crypto";
import type { Logger } from "@open-ot/core";
import type { CommitNotice, PubSub } from "@open-ot/server";

/**
 * What the instance holding a session's stream says about it, for another instance that takes
 * its POSTs: digests only, never the clientId or principal themselves.
 */
export interface SessionFacts {
  /** Digest of the clientId the session speaks for ({@link sessionDigest} "client"), once one is bound. */
  readonly client?: string;
  /** Digest of the session's principal ({@link sessionDigest} "principal"), when authenticated. */
  readonly principal?: string;
  /** The documents the session has joined. */
  readonly docs: readonly string[];
  /** The epoch each joined document was in when the session joined it (backends with epochs): ops committed elsewhere carry it. */
  readonly epochs?: Readonly<Record<string, string>>;
}

/** A question from the instance that received a POST to the instance that holds its session. */
export type RelayRequest =
  /** Tell me about the session (after checking the token digest). */
  | { readonly kind: "facts"; readonly session: string; readonly token: string | null }
  /** Handle this POST body exactly as if it had reached you, then answer with its status. */
  | { readonly kind: "post"; readonly session: string; readonly token: string | null; readonly body: string }
  /** Write these server messages (refusals of ops committed elsewhere) on the session's stream. */
  | { readonly kind: "deliver"; readonly session: string; readonly token: string | null; readonly messages: readonly object[] };

/** The holder's answer: an HTTP status for the POST, with the refusal or the facts. */
export interface RelayAnswer {
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly retryAfterMs?: number;
  readonly facts?: SessionFacts;
}

/** Settings of a {@link SessionRelay}. */
export interface SessionRelayOptions {
  readonly pubsub: PubSub;
  /** This instance's name (see {@link newInstanceName}). */
  readonly instance: string;
  readonly timeoutMs: number;
  readonly maxPending: number;
  readonly logger: Logger | undefined;
  /** Answer a request for a session this instance holds. Never rejects. */
  readonly onRequest: (request: RelayRequest) => Promise<RelayAnswer>;
}

/** Instance names: what session ids start with, so that any instance knows where a stream is. */
const INSTANCE = /^[A-Za-z0-9_-]{16}$/;

/** A fresh random instance name (16 base64url characters). */
export function newInstanceName(): string {
  return randomBytes(12).toString("base64url");
}

/** True when `value` can be an instance name. */
export function isInstanceName(value: unknown): value is string {
  return typeof value === "string" && INSTANCE.test(value);
}

/** The pub/sub channel an instance receives relay frames on (outside the `ot:{docId}:...` names of documents). */
function relayChannel(instance: string): string {
  return `ot:sse:${instance}`;
}

/**
 * The frames travel as the `op` of a commit-notice-shaped envelope: that is the message type
 * the `PubSub` contract carries, and every implementation (Redis, in-process) passes it as is.
 */
const ENVELOPE_DOC_ID = "sse-relay";

type Frame =
  | { readonly t: "request"; readonly id: string; readonly from: string; readonly request: RelayRequest }
  | { readonly t: "answer"; readonly id: string; readonly answer: RelayAnswer };

interface Pending {
  readonly resolve: (answer: RelayAnswer | undefined) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Request and answer between the SSE handlers of several instances over their shared pub/sub:
 * each listens on a channel of its own, and a request names the channel its answer goes to.
 * Pub/sub delivers at most once, so every request has a deadline; a lost request or answer is
 * a request that timed out (the caller answers the client as if the session were gone, and the
 * client opens a new stream).
 *
 * Lifecycle: `starting -> ready | failed`, and from any state `closed`.
 */
export class SessionRelay {
  /** Resolves true once this instance receives requests, false if it could not subscribe. */
  readonly ready: Promise<boolean>;
  private state: "starting" | "ready" | "failed" | "closed" = "starting";
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: SessionRelayOptions) {
    this.ready = options.pubsub
      .subscribe(relayChannel(options.instance), (notice) => this.receive(notice))
      .then(
        (unsubscribe) => {
          if (this.state === "closed") {
            void unsubscribe().catch(() => undefined);
            return false;
          }
          this.unsubscribe = unsubscribe;
          this.state = "ready";
          return true;
        },
        (error: unknown) => {
          options.logger?.error?.("SSE relay: could not subscribe; POSTs for sessions of other instances are answered 404", { error });
          if (this.state !== "closed") this.state = "failed";
          return false;
        },
      );
  }

  /**
   * Ask `instance` about one of its sessions. Resolves with its answer, or undefined when none
   * came within the deadline, too many requests are waiting, or the relay is not ready.
   */
  async request(instance: string, request: RelayRequest): Promise<RelayAnswer | undefined> {
    if (this.state !== "ready" || this.pending.size >= this.options.maxPending) return undefined;
    this.counter += 1;
    const id = `${this.options.instance}:${this.counter.toString(36)}`;
    const answer = new Promise<RelayAnswer | undefined>((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), this.options.timeoutMs);
      timer.unref?.();
      this.pending.set(id, { resolve, timer });
    });
    try {
      await this.send(instance, { t: "request", id, from: this.options.instance, request });
    } catch (error) {
      this.options.logger?.warn?.("SSE relay: a request could not be published", { instance, error });
      this.settle(id, undefined);
    }
    return await answer;
  }

  /** Stop listening; requests still waiting resolve undefined. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const id of [...this.pending.keys()]) this.settle(id, undefined);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.().catch((error: unknown) => this.options.logger?.warn?.("SSE relay: unsubscribing failed", { error }));
  }

  private settle(id: string, answer: RelayAnswer | undefined): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(answer);
  }

  private send(instance: string, frame: Frame): Promise<void> {
    const envelope: CommitNotice = { docId: ENVELOPE_DOC_ID, revision: 0, op: frame };
    return this.options.pubsub.publish(relayChannel(instance), envelope);
  }

  private receive(notice: CommitNotice): void {
    if (this.state !== "ready") return;
    const frame = readFrame(notice);
    if (frame === undefined) {
      this.options.logger?.warn?.("SSE relay: dropped a frame that is not one");
      return;
    }
    if (frame.t === "answer") {
      this.settle(frame.id, frame.answer);
      return;
    }
    const { id, from } = frame;
    const failed = (error: unknown): RelayAnswer => {
      this.options.logger?.error?.("SSE relay: answering a request failed", { error });
      return { status: 500, code: "internal", message: "The server failed; the request was not applied." };
    };
    void this.options
      .onRequest(frame.request)
      .catch(failed)
      .then((answer) => {
        if (this.state === "closed") return;
        this.send(from, { t: "answer", id, answer }).catch((error: unknown) => {
          this.options.logger?.warn?.("SSE relay: an answer could not be published", { instance: from, error });
        });
      });
  }
}

/** The frame in a received envelope, checked field by field (it came over the network); undefined when it is not one. */
function readFrame(notice: CommitNotice): Frame | undefined {
  if (notice.docId !== ENVELOPE_DOC_ID || !isRecord(notice.op)) return undefined;
  const frame = notice.op;
  if (typeof frame["id"] !== "string" || frame["id"].length > 64) return undefined;
  if (frame["t"] === "answer") {
    const answer = frame["answer"];
    if (!isRecord(answer) || !Number.isInteger(answer["status"])) return undefined;
    return { t: "answer", id: frame["id"], answer: answer as unknown as RelayAnswer };
  }
  if (frame["t"] !== "request" || !isInstanceName(frame["from"])) return undefined;
  const request = frame["request"];
  if (!isRecord(request) || typeof request["session"] !== "string") return undefined;
  const token = request["token"];
  if (token !== null && typeof token !== "string") return undefined;
  const base = { session: request["session"], token };
  switch (request["kind"]) {
    case "facts":
      return { t: "request", id: frame["id"], from: frame["from"], request: { kind: "facts", ...base } };
    case "post":
      if (typeof request["body"] !== "string") return undefined;
      return { t: "request", id: frame["id"], from: frame["from"], request: { kind: "post", ...base, body: request["body"] } };
    case "deliver": {
      const messages = request["messages"];
      if (!Array.isArray(messages) || !messages.every(isRecord)) return undefined;
      return { t: "request", id: frame["id"], from: frame["from"], request: { kind: "deliver", ...base, messages } };
    }
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
