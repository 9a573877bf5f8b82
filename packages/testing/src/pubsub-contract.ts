import type { ClientNotice, CommitNotice, PubSub } from "@open-ot/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";

/** What {@link describePubSubContract} needs for each test. */
export interface PubSubContractSetup {
  /** The instance that publishes. */
  publisher: PubSub;
  /**
   * The instance that subscribes: another instance sharing the same bus (two Redis
   * connections), or the same object as `publisher` for an in-process pub/sub.
   */
  subscriber: PubSub;
  /** Close what the factory opened. */
  cleanup(): Promise<void>;
}

let uniqueCounter = 0;
/** A channel name no other test (or earlier run on a shared server) uses. */
function freshChannel(label: string): string {
  uniqueCounter += 1;
  return `ot:{contract-${label}-${process.pid}-${Date.now().toString(36)}-${uniqueCounter}}:ops`;
}

function notice(revision: number, extra: Partial<CommitNotice> = {}): CommitNotice {
  return { docId: "contract-doc", revision, op: [{ r: revision }, { i: `#${revision}` }], ...extra };
}

/**
 * The behaviour every {@link PubSub} must show: delivery of what is published after the
 * subscription resolved, in publish order, to every subscriber of the channel and no other;
 * unsubscribing stops delivery; a throwing listener harms no one else; client notices, when the
 * pub/sub carries them. No test depends on
 * timing beyond a generous deadline for messages it expects.
 *
 * @param name shown in the `describe` title.
 * @param factory makes a fresh setup for each test.
 */
export function describePubSubContract(name: string, factory: () => Promise<PubSubContractSetup>): void {
  describe(`PubSub contract: ${name}`, () => {
    let setup: PubSubContractSetup;
    beforeEach(async () => {
      setup = await factory();
    });
    afterEach(async () => {
      await setup.cleanup();
    });

    it("delivers a published message, with its fields intact, to a subscriber", async () => {
      const channel = freshChannel("deliver");
      const got: CommitNotice[] = [];
      await setup.subscriber.subscribe(channel, (m) => got.push(m));
      const sent = notice(1, { clientId: "client-a", seq: 7, op: [{ r: 2 }, { i: 'é😀\n"x"' }, { d: 1 }] });
      await setup.publisher.publish(channel, sent);
      await waitUntil(() => got.length === 1, "the message");
      expect(got[0]).toEqual(sent);
    });

    it("delivers a message without clientId and seq as such", async () => {
      const channel = freshChannel("bare");
      const got: CommitNotice[] = [];
      await setup.subscriber.subscribe(channel, (m) => got.push(m));
      await setup.publisher.publish(channel, notice(3));
      await waitUntil(() => got.length === 1, "the message");
      expect(got[0]).toEqual(notice(3));
      expect(got[0]?.clientId).toBeUndefined();
      expect(got[0]?.seq).toBeUndefined();
    });

    it("delivers in publish order", async () => {
      const channel = freshChannel("order");
      const got: number[] = [];
      await setup.subscriber.subscribe(channel, (m) => got.push(m.revision));
      const count = 200;
      // Published without awaiting each: order must hold for back-to-back publishes too.
      const sends: Promise<void>[] = [];
      for (let r = 1; r <= count; r++) sends.push(setup.publisher.publish(channel, notice(r)));
      await Promise.all(sends);
      await waitUntil(() => got.length >= count, `${count} messages`);
      expect(got).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    });

    it("never calls a listener from inside publish()", async () => {
      const channel = freshChannel("async");
      let publishing = false;
      const seenWhilePublishing: boolean[] = [];
      await setup.subscriber.subscribe(channel, () => seenWhilePublishing.push(publishing));
      publishing = true;
      const sent = setup.publisher.publish(channel, notice(1));
      publishing = false;
      await sent;
      await waitUntil(() => seenWhilePublishing.length === 1, "the message");
      expect(seenWhilePublishing).toEqual([false]);
    });

    it("delivers to every subscription of the channel", async () => {
      const channel = freshChannel("fanout");
      const a: number[] = [];
      const b: number[] = [];
      await setup.subscriber.subscribe(channel, (m) => a.push(m.revision));
      await setup.subscriber.subscribe(channel, (m) => b.push(m.revision));
      for (let r = 1; r <= 5; r++) await setup.publisher.publish(channel, notice(r));
      await waitUntil(() => a.length === 5 && b.length === 5, "5 messages on both subscriptions");
      expect(a).toEqual([1, 2, 3, 4, 5]);
      expect(b).toEqual([1, 2, 3, 4, 5]);
    });

    it("keeps channels apart", async () => {
      const channelA = freshChannel("a");
      const channelB = freshChannel("b");
      const onA: CommitNotice[] = [];
      const onB: CommitNotice[] = [];
      await setup.subscriber.subscribe(channelA, (m) => onA.push(m));
      await setup.subscriber.subscribe(channelB, (m) => onB.push(m));
      await setup.publisher.publish(channelA, notice(1, { docId: "a" }));
      await setup.publisher.publish(channelB, notice(2, { docId: "b" }));
      await waitUntil(() => onA.length === 1 && onB.length === 1, "one message per channel");
      expect(onA.map((m) => m.docId)).toEqual(["a"]);
      expect(onB.map((m) => m.docId)).toEqual(["b"]);
    });

    it("does not replay what was published before the subscription", async () => {
      const channel = freshChannel("no-replay");
      await setup.publisher.publish(channel, notice(1));
      const got: number[] = [];
      await setup.subscriber.subscribe(channel, (m) => got.push(m.revision));
      await setup.publisher.publish(channel, notice(2));
      await waitUntil(() => got.length >= 1, "the second message");
      expect(got).toEqual([2]);
    });

    it("stops delivering to a subscription once its unsubscribe resolved, and unsubscribing twice is harmless", async () => {
      const channel = freshChannel("unsubscribe");
      const gone: number[] = [];
      const staying: number[] = [];
      const unsubscribe = await setup.subscriber.subscribe(channel, (m) => gone.push(m.revision));
      await setup.subscriber.subscribe(channel, (m) => staying.push(m.revision));
      await setup.publisher.publish(channel, notice(1));
      await waitUntil(() => gone.length === 1 && staying.length === 1, "the first message on both");
      await unsubscribe();
      await unsubscribe();
      await setup.publisher.publish(channel, notice(2));
      await setup.publisher.publish(channel, notice(3));
      await waitUntil(() => staying.length === 3, "the later messages on the remaining subscription");
      expect(gone).toEqual([1]);
      expect(staying).toEqual([1, 2, 3]);
    });

    it("keeps delivering to others, and later messages, when a listener throws", async () => {
      const channel = freshChannel("throwing");
      const got: number[] = [];
      let thrown = 0;
      await setup.subscriber.subscribe(channel, () => {
        thrown += 1;
        throw new Error("listener failure (expected by the contract test)");
      });
      await setup.subscriber.subscribe(channel, (m) => got.push(m.revision));
      for (let r = 1; r <= 3; r++) await setup.publisher.publish(channel, notice(r));
      await waitUntil(() => got.length === 3 && thrown === 3, "3 messages despite the throwing listener");
      expect(got).toEqual([1, 2, 3]);
    });

    it("publishing to a channel nobody listens to succeeds", async () => {
      await expect(setup.publisher.publish(freshChannel("nobody"), notice(1))).resolves.toBeUndefined();
    });

    it("with client notices, delivers them intact and in order to every subscriber, the publisher's own included, until unsubscribed", async (ctx) => {
      const { publisher, subscriber } = setup;
      if (
        publisher.publishClientNotice === undefined ||
        subscriber.subscribeClientNotices === undefined ||
        publisher.subscribeClientNotices === undefined
      ) {
        ctx.skip();
      }
      // One channel for all client notices: keep only this test's.
      const client = freshChannel("client");
      const there: ClientNotice[] = [];
      const here: ClientNotice[] = [];
      const unsubscribe = await subscriber.subscribeClientNotices!((n) => n.client === client && there.push(n));
      await publisher.subscribeClientNotices!((n) => n.client === client && here.push(n));
      const sent: ClientNotice[] = [
        { client, principal: "p-digest", docId: "doc-1", openedAt: 1_700_000_000_123.5, instance: "i-1", serial: 7 },
        { client, docId: "doc-2", openedAt: 1_700_000_000_124, instance: "i-1", serial: 8 },
      ];
      for (const n of sent) await publisher.publishClientNotice!(n);
      await waitUntil(() => there.length === 2 && here.length === 2, "both notices on both subscribers");
      expect(there).toEqual(sent);
      expect(here).toEqual(sent);
      await unsubscribe();
      await publisher.publishClientNotice!({ ...sent[1]!, serial: 9 });
      await waitUntil(() => here.length === 3, "the third notice on the remaining subscriber");
      expect(there).toHaveLength(2);
    });
  });
}
