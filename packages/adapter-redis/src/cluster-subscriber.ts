import { keySlot } from "./key-slot.js";
import type { Cluster, Redis } from "ioredis";
import type { CommitNotice, Logger } from "@open-ot/server";
import { checkSubscribe, isCommitNotice, RedisSubscriber, ResubscribeListeners, type Subscriber } from "./redis-subscriber.js";
import { RedisUnavailableError } from "./redis-unavailable-error.js";

/**
 * How often the slot table is read again while a subscription is not where it belongs or its
 * node's connection is down (after a failover or a slot move), until every one is placed.
 */
const TOPOLOGY_CHECK_MS = 200;
/** How long a subscribe waits for the cluster's first slot table before failing. */
const FIRST_TOPOLOGY_TIMEOUT_MS = 10_000;

/** One subscribe() call, and where it is subscribed now. */
interface Placement {
  readonly channel: string;
  readonly listener: (message: unknown) => void;
  readonly accepts: (value: unknown) => value is unknown;
  /** The node (host:port) the subscription belongs on, by the latest slot table. */
  node: string;
  /** The node it is subscribed on, and how to unsubscribe there; undefined while not yet. */
  placed: { node: string; unsubscribe: () => Promise<void> } | undefined;
  /** Set while a (re)subscribe of this placement runs. */
  placing: Promise<void> | undefined;
  removed: boolean;
}

/**
 * The subscribing side of the Redis pub/sub on a Redis Cluster. Document channels
 * (`ot:{docId}:ops`) use sharded pub/sub: each is subscribed with `SSUBSCRIBE` on the master
 * that owns its slot, where the commit script's `SPUBLISH` delivers it; other channels (client
 * notices) use `SUBSCRIBE`, which any node receives, on the master of the channel's slot.
 *
 * One {@link RedisSubscriber} per node and kind holds the connection, so a drop is noticed and
 * repaired per node: its channels are subscribed again and only they are reported to the
 * `onResubscribe` listeners. When the slot table changes (a failover, a slot moved: ioredis
 * reads it again after a MOVED reply, a lost node, or every `slotsRefreshInterval`), the
 * subscriptions of the slots that moved are made on their new master, and those channels are
 * reported too, since messages published meanwhile went elsewhere.
 */
export class ClusterSubscriber implements Subscriber {
  private state: "open" | "closed" = "open";
  private readonly nodes = new Map<string, RedisSubscriber>();
  private readonly placements = new Set<Placement>();
  private readonly resubscribeListeners: ResubscribeListeners;
  private checkTimer: NodeJS.Timeout | undefined;
  private readonly onRefresh = (): void => this.rehome();

  /**
   * @param cluster The adapter's command connection, whose slot table says where each channel lives.
   * @param connect Opens a subscriber connection (`autoResubscribe: false`) to one node.
   * @param shardedChannel Whether a channel uses sharded pub/sub.
   */
  constructor(
    private readonly cluster: Cluster,
    private readonly connect: (host: string, port: number) => Redis,
    private readonly shardedChannel: (channel: string) => boolean,
    private readonly logger: Logger,
  ) {
    this.resubscribeListeners = new ResubscribeListeners(logger);
    cluster.on("refresh", this.onRefresh);
  }

  async subscribe<T = CommitNotice>(
    channel: string,
    listener: (message: T) => void,
    accepts: (value: unknown) => value is T = isCommitNotice as (value: unknown) => value is T,
  ): Promise<() => Promise<void>> {
    checkSubscribe(this.state === "closed", channel, listener);
    const node = this.ownerOf(channel) ?? (await this.firstOwnerOf(channel));
    const placement: Placement = {
      channel,
      listener: listener as (message: unknown) => void,
      accepts,
      node,
      placed: undefined,
      placing: undefined,
      removed: false,
    };
    this.placements.add(placement);
    try {
      await this.place(placement);
    } catch (error) {
      this.placements.delete(placement);
      throw error;
    }
    return async () => {
      if (placement.removed) return;
      placement.removed = true;
      this.placements.delete(placement);
      await placement.placing?.catch(() => undefined);
      const placed = placement.placed;
      placement.placed = undefined;
      await placed?.unsubscribe();
      this.closeIdleNodes();
    };
  }

  onResubscribe(listener: (channels: readonly string[]) => void): () => void {
    return this.resubscribeListeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.cluster.off("refresh", this.onRefresh);
    if (this.checkTimer !== undefined) clearTimeout(this.checkTimer);
    this.placements.clear();
    this.resubscribeListeners.clear();
    const nodes = [...this.nodes.values()];
    this.nodes.clear();
    await Promise.all(nodes.map(async (node) => await node.close()));
  }

  /** The master serving the channel's slot by the current slot table (host:port), if known. */
  private ownerOf(channel: string): string | undefined {
    return this.cluster.slots[keySlot(channel)]?.[0];
  }

  private async firstOwnerOf(channel: string): Promise<string> {
    const deadline = performance.now() + FIRST_TOPOLOGY_TIMEOUT_MS;
    for (;;) {
      const owner = this.ownerOf(channel);
      if (owner !== undefined) return owner;
      if (this.state === "closed") throw new Error("RedisAdapter is closed: subscribe on a new RedisAdapter");
      if (performance.now() > deadline) {
        throw new RedisUnavailableError(
          `the Redis Cluster's slot table is unknown (cluster ${this.cluster.status}): subscribe to ${channel} was not sent`,
          false,
        );
      }
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Subscribe `placement` on its node (again, if it moved while subscribing), then drop its old subscription. */
  private async place(placement: Placement): Promise<void> {
    if (placement.placing !== undefined) {
      await placement.placing;
      return;
    }
    const run = (async () => {
      while (!placement.removed && this.state === "open" && placement.placed?.node !== placement.node) {
        const node = placement.node;
        const unsubscribe = await this.nodeSubscriber(node, this.shardedChannel(placement.channel)).subscribe(
          placement.channel,
          placement.listener,
          placement.accepts,
        );
        const old = placement.placed;
        placement.placed = { node, unsubscribe };
        // A node that lost the slot or died holds nothing worth keeping; failing to reach it is fine.
        await old?.unsubscribe().catch(() => undefined);
        if (placement.removed) {
          placement.placed = undefined;
          await unsubscribe().catch(() => undefined);
        }
      }
    })();
    placement.placing = run;
    try {
      await run;
    } finally {
      placement.placing = undefined;
    }
  }

  private nodeSubscriber(node: string, sharded: boolean): RedisSubscriber {
    const key = `${sharded ? "s" : "p"}@${node}`;
    let subscriber = this.nodes.get(key);
    if (subscriber === undefined) {
      const colon = node.lastIndexOf(":");
      const host = node.slice(0, colon);
      const port = Number(node.slice(colon + 1));
      subscriber = new RedisSubscriber(() => this.connect(host, port), node, this.logger, {
        sharded,
        // The node may be gone for good (a failover): look for the channels' new home.
        onInterrupted: () => this.scheduleCheck(),
        onUnexpectedReply: () => this.scheduleCheck(),
      });
      const created = subscriber;
      created.onResubscribe((channels) => this.tell(channels));
      this.nodes.set(key, created);
    }
    return subscriber;
  }

  /** Move the subscriptions whose slot has another master now; tell the listeners which channels moved. */
  private rehome(): void {
    if (this.state === "closed") return;
    const moved: Placement[] = [];
    for (const placement of this.placements) {
      const owner = this.ownerOf(placement.channel);
      if (owner !== undefined) placement.node = owner;
      // Placed elsewhere, and no subscribe running: it moved now, or an earlier move failed.
      if (placement.placed !== undefined && placement.placing === undefined && placement.placed.node !== placement.node)
        moved.push(placement);
    }
    if (moved.length > 0) {
      this.logger.debug?.("RedisAdapter: moving subscriptions to the slots' new masters", { channels: moved.length });
      void Promise.allSettled(moved.map(async (placement) => await this.place(placement))).then((results) => {
        const channels = [
          ...new Set(moved.filter((placement, i) => results[i]?.status === "fulfilled" && !placement.removed).map((p) => p.channel)),
        ];
        if (results.some((result) => result.status === "rejected")) this.scheduleCheck();
        this.closeIdleNodes();
        if (channels.length > 0) this.tell(channels);
      });
    }
    if (this.needsCheck()) this.scheduleCheck();
  }

  /** A subscription is not on its slot's master yet, or sits on a node whose connection is down. */
  private needsCheck(): boolean {
    for (const placement of this.placements) {
      if (placement.placed === undefined || placement.placing !== undefined) continue;
      if (placement.placed.node !== placement.node) return true;
      const subscriber = this.nodes.get(`${this.shardedChannel(placement.channel) ? "s" : "p"}@${placement.placed.node}`);
      if (subscriber !== undefined && !subscriber.ready) return true;
    }
    return false;
  }

  /** Read the slot table again soon (ioredis emits "refresh", which rehomes), and again after that while needed. */
  private scheduleCheck(): void {
    if (this.state === "closed" || this.checkTimer !== undefined) return;
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      if (this.state === "closed") return;
      this.cluster.refreshSlotsCache((error) => {
        if (error !== null && error !== undefined)
          this.logger.debug?.("RedisAdapter: reading the slot table failed", { error: error.message });
        this.rehome();
        if (this.needsCheck()) this.scheduleCheck();
      });
    }, TOPOLOGY_CHECK_MS);
    this.checkTimer.unref();
  }

  private closeIdleNodes(): void {
    for (const [key, subscriber] of this.nodes) {
      if (subscriber.subscribedChannels().length > 0) continue;
      this.nodes.delete(key);
      void subscriber.close();
    }
  }

  private tell(channels: readonly string[]): void {
    this.resubscribeListeners.tell(channels);
  }
}
