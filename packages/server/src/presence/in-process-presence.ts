import type { PresenceNotice, PresencePubSub } from "./presence-pub-sub.js";

type Listener = (notice: PresenceNotice) => void;

/**
 * Presence notices inside one process (what `InProcessPubSub` delegates to): delivered
 * asynchronously, in publish order, to the subscriptions active when published.
 */
export class InProcessPresenceChannels implements PresencePubSub {
  private readonly channels = new Map<string, Set<{ listener: Listener }>>();

  publishPresence(notice: PresenceNotice): Promise<void> {
    const subscriptions = [...(this.channels.get(notice.docId) ?? [])];
    if (subscriptions.length > 0) {
      queueMicrotask(() => {
        for (const subscription of subscriptions) {
          try {
            subscription.listener(notice);
          } catch {
            // One failing listener must not keep the notice from the others.
          }
        }
      });
    }
    return Promise.resolve();
  }

  subscribePresence(docId: string, listener: Listener): Promise<() => Promise<void>> {
    const subscription = { listener };
    let set = this.channels.get(docId);
    if (set === undefined) {
      set = new Set();
      this.channels.set(docId, set);
    }
    set.add(subscription);
    return Promise.resolve(() => {
      const current = this.channels.get(docId);
      current?.delete(subscription);
      if (current?.size === 0) this.channels.delete(docId);
      return Promise.resolve();
    });
  }
}
