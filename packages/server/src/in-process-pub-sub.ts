import { silentLogger, type Logger } from "@open-ot/core";
import type { ClientNotice, CommitNotice, PubSub, PubSubListener } from "./backend.js";
import { InProcessPresenceChannels } from "./presence/in-process-presence.js";
import type { PresenceNotice, PresencePubSub } from "./presence/presence-pub-sub.js";

/** Options of {@link InProcessPubSub}. */
export interface InProcessPubSubOptions {
  /**
   * Test hook: return true to lose this message for every subscriber, as Redis pub/sub loses
   * messages when a subscriber connection drops. Lets tests prove that gaps are filled from
   * history. @default undefined (never drop)
   */
  dropIf?: (channel: string, message: CommitNotice) => boolean;
  /** Told when a subscriber throws (delivery to the others goes on). @default silent */
  logger?: Logger;
}

interface Subscription {
  readonly listener: PubSubListener;
  active: boolean;
}

interface ClientNoticeSubscription {
  readonly listener: (notice: ClientNotice) => void;
  active: boolean;
}

type Delivery =
  | { readonly subscription: Subscription; readonly message: CommitNotice }
  | { readonly clientSubscription: ClientNoticeSubscription; readonly notice: ClientNotice };

/**
 * {@link PubSub} inside one process: the reference implementation that `MemoryBackend` uses.
 *
 * Messages reach each subscriber asynchronously (never inside `publish`, so a publisher is not
 * re-entered) and in publish order, across all channels. Nothing is lost unless `dropIf` says
 * so. A message goes to the subscriptions active when it was published, as with Redis.
 * Messages are handed over by reference: subscribers must treat them as read-only.
 */
export class InProcessPubSub implements PubSub, PresencePubSub {
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly clientNoticeSubscriptions = new Set<ClientNoticeSubscription>();
  private readonly queue: Delivery[] = [];
  private readonly resubscribeListeners = new Set<() => void>();
  private readonly dropIf: InProcessPubSubOptions["dropIf"];
  private readonly logger: Logger;
  /** `open -> closed`: after `close()` publishing and subscribing fail loudly. */
  private state: "open" | "closed" = "open";
  private drainScheduled = false;
  private readonly presence = new InProcessPresenceChannels();

  constructor(options: InProcessPubSubOptions = {}) {
    this.dropIf = options.dropIf;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Queue `message` for every current subscriber of `channel`. The queueing happens before this
   * method returns (synchronously), so a backend that publishes as part of a commit gets
   * publication order equal to commit order.
   */
  publish(channel: string, message: CommitNotice): Promise<void> {
    try {
      this.publishNow(channel, message);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Publish a presence notice to the instances that serve its document (see `PresencePubSub`). */
  publishPresence(notice: PresenceNotice): Promise<void> {
    if (this.state === "closed") return Promise.reject(new Error("InProcessPubSub: publishPresence() after close()"));
    return this.presence.publishPresence(notice);
  }

  /** Receive a document's presence notices (see `PresencePubSub`). */
  subscribePresence(docId: string, listener: (notice: PresenceNotice) => void): Promise<() => Promise<void>> {
    if (this.state === "closed") return Promise.reject(new Error("InProcessPubSub: subscribePresence() after close()"));
    return this.presence.subscribePresence(docId, listener);
  }

  /** Synchronous form of {@link publish}, for in-process backends that commit and publish in one step. */
  publishNow(channel: string, message: CommitNotice): void {
    this.assertOpen("publish");
    if (this.dropIf?.(channel, message)) return;
    const subscriptions = this.channels.get(channel);
    if (!subscriptions) return;
    for (const subscription of subscriptions) this.queue.push({ subscription, message });
    this.scheduleDrain();
  }

  /** Subscribe to `channel`; active as soon as the returned promise resolves (in fact at once). */
  subscribe(channel: string, onMessage: PubSubListener): Promise<() => Promise<void>> {
    try {
      this.assertOpen("subscribe");
    } catch (error) {
      return Promise.reject(error);
    }
    const subscription: Subscription = { listener: onMessage, active: true };
    let subscriptions = this.channels.get(channel);
    if (!subscriptions) {
      subscriptions = new Set();
      this.channels.set(channel, subscriptions);
    }
    subscriptions.add(subscription);
    const unsubscribe = (): Promise<void> => {
      subscription.active = false;
      const current = this.channels.get(channel);
      if (current) {
        current.delete(subscription);
        if (current.size === 0) this.channels.delete(channel);
      }
      return Promise.resolve();
    };
    return Promise.resolve(unsubscribe);
  }

  /** Queue `notice` for every current client-notice subscriber (delivered as commit notices are: asynchronously, in order). */
  publishClientNotice(notice: ClientNotice): Promise<void> {
    try {
      this.assertOpen("publish");
    } catch (error) {
      return Promise.reject(error);
    }
    for (const clientSubscription of this.clientNoticeSubscriptions) this.queue.push({ clientSubscription, notice });
    this.scheduleDrain();
    return Promise.resolve();
  }

  /** Receive every client notice published from now on. */
  subscribeClientNotices(listener: (notice: ClientNotice) => void): Promise<() => Promise<void>> {
    try {
      this.assertOpen("subscribe");
    } catch (error) {
      return Promise.reject(error);
    }
    const subscription: ClientNoticeSubscription = { listener, active: true };
    this.clientNoticeSubscriptions.add(subscription);
    return Promise.resolve(() => {
      subscription.active = false;
      this.clientNoticeSubscriptions.delete(subscription);
      return Promise.resolve();
    });
  }

  /** Be told when subscribers may have missed messages (see {@link simulateResubscribe}). */
  onResubscribe(listener: () => void): () => void {
    this.resubscribeListeners.add(listener);
    return () => {
      this.resubscribeListeners.delete(listener);
    };
  }

  /**
   * Test hook: act as if the subscriber connection dropped and came back. Messages still
   * queued for delivery are lost (as Redis loses them), then every `onResubscribe` listener is
   * called, asynchronously.
   */
  simulateResubscribe(): void {
    this.queue.length = 0;
    queueMicrotask(() => {
      for (const listener of [...this.resubscribeListeners]) listener();
    });
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.state === "closed";
  }

  /** The number of channels with at least one subscriber (for leak checks in tests). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Drop every subscription and queued message. Publishing or subscribing afterwards throws. */
  close(): Promise<void> {
    this.state = "closed";
    for (const subscriptions of this.channels.values()) {
      for (const subscription of subscriptions) subscription.active = false;
    }
    this.channels.clear();
    for (const subscription of this.clientNoticeSubscriptions) subscription.active = false;
    this.clientNoticeSubscriptions.clear();
    this.queue.length = 0;
    this.resubscribeListeners.clear();
    return Promise.resolve();
  }

  private assertOpen(action: string): void {
    if (this.state === "closed") throw new Error(`InProcessPubSub: cannot ${action} after close()`);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    // Deliveries queued by listeners while draining are handled in this same loop, after
    // everything queued before them: publish order is kept across re-entrant publishes.
    for (let i = 0; i < this.queue.length; i++) {
      const delivery = this.queue[i] as Delivery;
      try {
        if ("notice" in delivery) {
          if (delivery.clientSubscription.active) delivery.clientSubscription.listener(delivery.notice);
        } else if (delivery.subscription.active) {
          delivery.subscription.listener(delivery.message);
        }
      } catch (error) {
        // A throwing listener must not stop delivery to the others.
        this.logger.error?.("InProcessPubSub: a subscriber threw", {
          error,
          ...("message" in delivery ? { revision: delivery.message.revision } : {}),
        });
      }
    }
    this.queue.length = 0;
  }
}
