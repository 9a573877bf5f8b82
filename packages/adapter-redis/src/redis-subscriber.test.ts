import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { silentLogger } from "@open-ot/core";
import { RedisSubscriber } from "./redis-subscriber.js";

/** The few members of an ioredis connection the subscriber uses, recording its SUBSCRIBEs. */
class FakeConnection extends EventEmitter {
  readonly subscribed: string[][] = [];
  status = "connecting";
  async subscribe(...channels: string[]): Promise<number> {
    this.subscribed.push(channels);
    return channels.length;
  }
  async unsubscribe(): Promise<number> {
    return 0;
  }
  async quit(): Promise<"OK"> {
    return "OK";
  }
  disconnect(): void {}
}

describe("RedisSubscriber", () => {
  it("subscribes every channel again when the connection drops before its first ready, and tells listeners to catch up", async () => {
    // The race the bench found: SUBSCRIBEs confirmed on a socket that closed before "ready"
    // (ioredis's ready check failed on a subscriber connection) died with it, and nothing
    // subscribed them again, so those documents went silent on this instance.
    const connection = new FakeConnection();
    const subscriber = new RedisSubscriber(() => connection as unknown as Redis, "test", silentLogger);
    let caughtUp = 0;
    subscriber.onResubscribe(() => caughtUp++);
    await subscriber.subscribe("a", () => undefined);
    await subscriber.subscribe("b", () => undefined);
    expect(connection.subscribed).toEqual([["a"], ["b"]]);

    // ioredis announces every new connection with "connect" before its "ready".
    connection.emit("close");
    connection.emit("connect");
    connection.emit("ready");
    await new Promise((resolve) => setImmediate(resolve));

    expect(connection.subscribed.at(-1)?.sort()).toEqual(["a", "b"]);
    expect(caughtUp).toBe(1);
  });

  it("replaces a connection reported ready after it closed (ioredis without a ready check), and resubscribes on the new one", async () => {
    const connections: FakeConnection[] = [];
    const subscriber = new RedisSubscriber(
      () => {
        const created = new FakeConnection();
        connections.push(created);
        return created as unknown as Redis;
      },
      "test",
      silentLogger,
    );
    let caughtUp = 0;
    subscriber.onResubscribe(() => caughtUp++);
    await subscriber.subscribe("a", () => undefined);
    const [first] = connections;
    first!.emit("ready");
    // Through a proxy whose Redis is down: connected, closed at once, then a stale "ready".
    first!.emit("close");
    first!.emit("connect");
    first!.emit("close");
    first!.emit("ready");
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(connections).toHaveLength(2);
    const second = connections[1]!;
    second.emit("connect");
    second.emit("ready");
    await new Promise((resolve) => setImmediate(resolve));
    expect(second.subscribed).toEqual([["a"]]);
    expect(caughtUp).toBe(1);
    // The stale connection is let go: its events change nothing any more.
    first!.emit("ready");
    expect(connections).toHaveLength(2);
    await subscriber.close();
  });

  it("does not resubscribe on a first ready that follows no drop", async () => {
    const connection = new FakeConnection();
    const subscriber = new RedisSubscriber(() => connection as unknown as Redis, "test", silentLogger);
    let caughtUp = 0;
    subscriber.onResubscribe(() => caughtUp++);
    await subscriber.subscribe("a", () => undefined);
    connection.emit("ready");
    await new Promise((resolve) => setImmediate(resolve));
    expect(connection.subscribed).toEqual([["a"]]);
    expect(caughtUp).toBe(0);
  });
});
