import type { Redis } from "ioredis";
import type { CommitNotice, Logger } from "@open-ot/server";
import { isConnectionFailure, RedisUnavailableError } from "./redis-unavailable-error.js";

/**
 * Lifecycle of the subscriber connection (one state, changed only in `setState`):
 * `idle -> connecting -> ready -> interrupted -> ready -> ...` (a drop while `connecting` also goes to
 * `interrupted`), and from any state `closed`.
 * `interrupted` means messages may have been lost: when it is `ready` again, every channel is
 * subscribed anew and then the resubscribe listeners are told to catch up from history.
 */
type State = "idle" | "connecting" | "ready" | "interrupted" | "closed";

/** Pause before a replacement connection (see `RedisSubscriber.replace`), so a proxy that keeps closing is not hammered. */
const REPLACE_DELAY_MS = 100;

/**
 * One subscribe() call; a wrapper so the same function subscribed twice is two subscriptions.
 * `deliver` hands a parsed message to the listener if it has the shape the listener expects,
 * and says whether it did.
 */
interface Subscription {
  readonly deliver: (message: unknown) => boolean;
}

interface Channel {
  readonly subscriptions: Set<Subscription>;
  /** Settles when Redis confirmed the SUBSCRIBE of this channel (its own, or a resubscribe of every channel). */
  readonly subscribed: Promise<void>;
  /** Resolve `subscribed` (a resubscribe confirmed it, whatever became of the first SUBSCRIBE). */
  readonly confirm: () => void;
}

/** Pub/sub commands of one kind: classic (`SUBSCRIBE`, to every node) or sharded (`SSUBSCRIBE`, Redis 7, to the shard owning the channel). */
interface PubSubMode {
  readonly subscribe: "subscribe" | "ssubscribe";
  readonly unsubscribe: "unsubscribe" | "sunsubscribe";
  readonly message: "message" | "smessage";
}

const CLASSIC: PubSubMode = { subscribe: "subscribe", unsubscribe: "unsubscribe", message: "message" };
const SHARDED: PubSubMode = { subscribe: "ssubscribe", unsubscribe: "sunsubscribe", message: "smessage" };

/** Options of {@link RedisSubscriber} beyond its connection. */
export interface RedisSubscriberOptions {
  /** Use sharded pub/sub (`SSUBSCRIBE`) rather than `SUBSCRIBE`. @default false */
  sharded?: boolean;
  /** Told when the connection dropped (its subscriptions are lost until it is ready again). */
  onInterrupted?: () => void;
  /**
   * Told when Redis sent something no command asked for: after a slot moved away from the node,
   * Redis 7 unsubscribes its shard channels by itself (ioredis reports a command queue error).
   */
  onUnexpectedReply?: () => void;
}

/** What the adapter needs of a subscriber: {@link RedisSubscriber} for one Redis, `ClusterSubscriber` for a cluster. */
export interface Subscriber {
  subscribe<T = CommitNotice>(
    channel: string,
    listener: (message: T) => void,
    accepts?: (value: unknown) => value is T,
  ): Promise<() => Promise<void>>;
  /** Be told, with the channels concerned, when messages may have been lost and the subscriptions are active again. */
  onResubscribe(listener: (channels: readonly string[]) => void): () => void;
  close(): Promise<void>;
}

/**
 * The `onResubscribe` listeners of a subscriber: each is told the channels that may have missed
 * messages; one that throws is logged and does not stop the others.
 */
export class ResubscribeListeners {
  private readonly listeners = new Set<(channels: readonly string[]) => void>();

  constructor(private readonly logger: Logger) {}

  /** Add `listener` (twice added, twice told); returns a function that removes it. */
  add(listener: (channels: readonly string[]) => void): () => void {
    const entry = (channels: readonly string[]): void => listener(channels);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  tell(channels: readonly string[]): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(channels);
      } catch (error) {
        this.logger.error?.("RedisAdapter: an onResubscribe listener threw", { error: String(error) });
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** The checks of a subscribe call, shared by {@link RedisSubscriber} and the cluster subscriber. */
export function checkSubscribe(closed: boolean, channel: unknown, listener: unknown): void {
  if (closed) throw new Error("RedisAdapter is closed: subscribe on a new RedisAdapter");
  if (typeof channel !== "string" || channel === "") throw new TypeError("subscribe: channel must be a non-empty string");
  if (typeof listener !== "function") throw new TypeError("subscribe: onMessage must be a function");
}

/** True when `value` has the shape of a {@link CommitNotice}; what {@link RedisSubscriber.subscribe} checks unless told otherwise. */
export function isCommitNotice(value: unknown): value is CommitNotice {
  if (typeof value !== "object" || value === null) return false;
  const notice = value as Partial<CommitNotice>;
  return typeof notice.docId === "string" && typeof notice.revision === "number" && "op" in notice;
}

/**
 * The subscribing side of the Redis pub/sub: one dedicated connection (a connection in
 * subscriber mode can run no other command), shared by every channel and listener.
 *
 * Redis delivers a message at most once, and loses silently whatever is published while the
 * subscriber connection is down. ioredis would resubscribe by itself after a reconnect, but
 * without saying when the subscriptions are active again; so this class resubscribes itself
 * (`autoResubscribe: false`) and calls the `onResubscribe` listeners only once Redis confirmed
 * it: anything published after that arrives, anything before can be read from history.
 */
export class RedisSubscriber implements Subscriber {
  private state: State = "idle";
  private connection: Redis | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly resubscribeListeners: ResubscribeListeners;
  private readonly mode: PubSubMode;

  /**
   * @param connect Creates the subscriber connection (with `autoResubscribe: false`) on the first subscribe.
   * @param where Where Redis is, for error messages (host:port, no credentials).
   */
  constructor(
    private readonly connect: () => Redis,
    private readonly where: string,
    private readonly logger: Logger,
    private readonly options: RedisSubscriberOptions = {},
  ) {
    this.mode = options.sharded === true ? SHARDED : CLASSIC;
    this.resubscribeListeners = new ResubscribeListeners(logger);
  }

  /** True while the connection is up and its subscriptions active. */
  get ready(): boolean {
    return this.state === "ready";
  }

  /** The channels with at least one subscription. */
  subscribedChannels(): string[] {
    return [...this.channels.keys()];
  }

  private setState(next: State): void {
    this.logger.debug?.(`RedisAdapter subscriber: ${this.state} -> ${next}`, { where: this.where });
    this.state = next;
    if (next === "interrupted") this.options.onInterrupted?.();
  }

  /**
   * Subscribe `listener` to `channel`; resolves once Redis confirmed it, to a function that
   * unsubscribes. Messages that are not JSON, or fail `accepts`, are dropped (and logged).
   */
  async subscribe<T = CommitNotice>(
    channel: string,
    listener: (message: T) => void,
    accepts: (value: unknown) => value is T = isCommitNotice as (value: unknown) => value is T,
  ): Promise<() => Promise<void>> {
    checkSubscribe(this.state === "closed", channel, listener);
    const connection = this.open();
    if (this.state === "interrupted") {
      throw new RedisUnavailableError(
        `Redis at ${this.where} is unreachable (subscriber connection ${connection.status}): subscribe to ${channel} was not sent; try again once Redis is back`,
        false,
      );
    }
    let entry = this.channels.get(channel);
    if (entry === undefined) {
      let confirm!: () => void;
      const subscribed = new Promise<void>((resolve, reject) => {
        confirm = resolve;
        connection[this.mode.subscribe](channel).then(
          () => resolve(),
          (error: unknown) => {
            if (this.channels.get(channel) === entry) this.channels.delete(channel);
            reject(this.wrap(error, `subscribe to ${channel}`));
          },
        );
      });
      entry = { subscriptions: new Set(), subscribed, confirm };
      this.channels.set(channel, entry);
    }
    const subscription: Subscription = {
      deliver: (message) => {
        if (!accepts(message)) return false;
        listener(message);
        return true;
      },
    };
    entry.subscriptions.add(subscription);
    const joined = entry;
    await joined.subscribed.catch((error: unknown) => {
      joined.subscriptions.delete(subscription);
      throw error;
    });
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      await this.remove(channel, joined, subscription);
    };
  }

  /** Be told when subscriptions are active again after the subscriber connection dropped. Returns a function that removes the listener. */
  onResubscribe(listener: (channels: readonly string[]) => void): () => void {
    return this.resubscribeListeners.add(listener);
  }

  /** Close the subscriber connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.setState("closed");
    this.channels.clear();
    this.resubscribeListeners.clear();
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined) return;
    connection.removeAllListeners(this.mode.message);
    try {
      await connection.quit();
    } catch {
      // Redis is unreachable: there is nothing to say goodbye to; drop the socket.
      connection.disconnect();
    }
  }

  private open(): Redis {
    if (this.connection !== undefined) return this.connection;
    const connection = this.connect();
    this.connection = connection;
    // A replacement connection keeps "interrupted": its first "ready" resubscribes and catches up.
    if (this.state === "idle") this.setState("connecting");
    connection.on(this.mode.message, (channel: string, text: string) => this.dispatch(channel, text));
    // Without a ready check, ioredis can report "ready" for a connection that closed right after
    // it connected (its "close" and "reconnecting" come first); it then believes it is ready,
    // never reconnects, and the subscriptions go silent for good. Seen through a TCP proxy whose
    // upstream Redis is down: the proxy accepts, then closes. Such a connection is replaced.
    let closedSinceConnect = false;
    connection.on("connect", () => {
      closedSinceConnect = false;
    });
    connection.on("ready", () => {
      if (closedSinceConnect) this.replace(connection);
      else this.onReady(connection);
    });
    connection.on("close", () => {
      closedSinceConnect = true;
      // A drop before the first "ready" counts too: SUBSCRIBEs may already have been confirmed
      // on the socket that just closed, and they died with it. Marking it interrupted makes the
      // next "ready" subscribe every channel again and tell the listeners to catch up; leaving
      // it "connecting" let those channels go silent for good (docs/decisions/011).
      if (this.state === "ready" || this.state === "connecting") this.setState("interrupted");
    });
    connection.on("error", (error: Error) => {
      this.logger.warn?.("RedisAdapter subscriber connection error", { where: this.where, error: error.message });
      if (error.message.startsWith("Command queue state error")) this.options.onUnexpectedReply?.();
    });
    return connection;
  }

  /** Drop a connection ioredis wrongly believes ready, and open another after a short pause. */
  private replace(connection: Redis): void {
    if (this.connection !== connection || this.state === "closed") return;
    this.logger.warn?.("RedisAdapter subscriber: the connection closed as it opened; replacing it", { where: this.where });
    this.connection = undefined;
    if (this.state === "ready" || this.state === "connecting") this.setState("interrupted");
    connection.removeAllListeners();
    connection.on("error", () => undefined);
    connection.disconnect();
    const timer = setTimeout(() => {
      if (this.state !== "closed" && this.connection === undefined) this.open();
    }, REPLACE_DELAY_MS);
    timer.unref?.();
  }

  private onReady(connection: Redis): void {
    if (this.state === "connecting") {
      this.setState("ready");
      return;
    }
    if (this.state !== "interrupted") return;
    this.setState("ready");
    const entries = [...this.channels.values()];
    const names = [...this.channels.keys()];
    const resubscribed = names.length > 0 ? connection[this.mode.subscribe](...names) : Promise.resolve(0);
    resubscribed.then(
      () => {
        // A SUBSCRIBE sent on the connection that dropped may never be answered: this one counts.
        for (const entry of entries) entry.confirm();
        this.resubscribeListeners.tell(names);
      },
      (error: unknown) => {
        // Dropped again before Redis confirmed: the next "ready" resubscribes and tells the listeners.
        this.logger.warn?.("RedisAdapter: resubscribing failed", { where: this.where, error: String(error) });
      },
    );
  }

  private dispatch(channel: string, text: string): void {
    const entry = this.channels.get(channel);
    if (entry === undefined || entry.subscriptions.size === 0) return;
    let notice: unknown;
    try {
      notice = JSON.parse(text);
    } catch {
      notice = undefined;
    }
    for (const { deliver } of [...entry.subscriptions]) {
      try {
        if (!deliver(notice))
          this.logger.warn?.("RedisAdapter: dropped a message of the wrong shape", { channel, message: text.slice(0, 200) });
      } catch (error) {
        this.logger.error?.("RedisAdapter: a subscribe listener threw", { channel, error: String(error) });
      }
    }
  }

  private async remove(channel: string, entry: Channel, subscription: Subscription): Promise<void> {
    entry.subscriptions.delete(subscription);
    if (entry.subscriptions.size > 0 || this.channels.get(channel) !== entry) return;
    this.channels.delete(channel);
    const connection = this.connection;
    if (connection === undefined || this.state !== "ready") return; // a dropped connection holds no subscription
    try {
      await connection[this.mode.unsubscribe](channel);
    } catch (error) {
      // The connection dropped meanwhile: after it reconnects the channel is not resubscribed.
      if (!isConnectionFailure(error)) throw error;
    }
  }

  private wrap(error: unknown, operation: string): unknown {
    if (!isConnectionFailure(error)) return error;
    return new RedisUnavailableError(
      `${operation} failed: Redis at ${this.where} did not confirm it (${error.message}); try again once Redis is back`,
      true,
      { cause: error },
    );
  }
}
