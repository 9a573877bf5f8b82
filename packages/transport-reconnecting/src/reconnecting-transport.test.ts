import { OTClient } from "@open-ot/client";
import { TextType, type TextOp, type TransportCloseEvent } from "@open-ot/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeNetwork, type FakeOptions } from "./fake-transport.test-helper.js";
import { createClosePolicy } from "./close-policy.js";
import { ReconnectingTransport, type ReconnectingStatus, type ReconnectingTransportOptions } from "./reconnecting-transport.js";
import { ReconnectingTransportError } from "./reconnecting-transport-error.js";

// Fixed draw, so every backoff is exactly half its ceiling: backoff(n) = 0.5 * 100 * 2^(n-1).
const RANDOM = 0.5;
const backoffFor = (n: number): number => RANDOM * Math.min(10_000, 100 * 2 ** (n - 1));

function setup(options: ReconnectingTransportOptions = {}, fake: FakeOptions = { autoOpen: true, answerPings: true }) {
  const network = new FakeNetwork(fake);
  const transport = new ReconnectingTransport<unknown>(network.factory, {
    backoff: { initialDelay: 100, maxDelay: 10_000, factor: 2 },
    random: () => RANDOM,
    minUptime: 1000,
    connectTimeout: 2000,
    heartbeat: false,
    ...options,
  });
  const received: unknown[] = [];
  const statuses: ReconnectingStatus[] = [];
  const closes: TransportCloseEvent[] = [];
  transport.onStatus((s) => statuses.push(s));
  transport.onClose((e) => closes.push(e));
  return { network, transport, received, statuses, closes, onReceive: (m: unknown) => received.push(m) };
}

/** Let promise callbacks run without moving the clock. */
const flush = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

function settled<T>(promise: Promise<T>): { value: () => unknown } {
  let state: unknown = "pending";
  promise.then(
    () => (state = "resolved"),
    (error: unknown) => (state = error),
  );
  return { value: () => state };
}

describe("ReconnectingTransport", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  describe("connecting", () => {
    it("resolves connect() once the inner transport is open, with status closed -> connecting -> open", async () => {
      const { transport, network, statuses, onReceive } = setup({}, {});
      expect(transport.status).toMatchObject({ state: "closed", attempt: 0 });
      const connected = settled(transport.connect(onReceive));
      expect(transport.status).toMatchObject({ state: "connecting", attempt: 1, nextRetryAt: undefined });
      await flush();
      expect(connected.value()).toBe("pending");
      network.last.open();
      await flush();
      expect(connected.value()).toBe("resolved");
      expect(statuses.map((s) => s.state)).toEqual(["connecting", "open"]);
      await transport.disconnect();
    });

    it("passes inbound messages to onReceive, and the latest receiver after a second connect()", async () => {
      const { transport, network, received } = setup();
      const first = transport.connect((m) => received.push(["first", m]));
      await first;
      network.last.deliver({ type: "op", revision: 1 });
      const second: unknown[] = [];
      const again = transport.connect((m) => second.push(m));
      expect(again).toBe(first);
      network.last.deliver({ type: "op", revision: 2 });
      expect(received).toEqual([["first", { type: "op", revision: 1 }]]);
      expect(second).toEqual([{ type: "op", revision: 2 }]);
      expect(network.transports).toHaveLength(1);
      await transport.disconnect();
    });

    it("retries a refused first attempt after the backoff and stays 'connecting' until the first open", async () => {
      const { transport, network, statuses, onReceive } = setup({}, {});
      const connected = settled(transport.connect(onReceive));
      network.last.refuse(new Error("connect ECONNREFUSED 127.0.0.1:1"));
      await flush();
      expect(transport.status).toEqual({
        state: "connecting",
        attempt: 2,
        nextRetryAt: 1_000_000 + backoffFor(1),
        lastCloseCode: 1006,
        lastCloseReason: "connect ECONNREFUSED 127.0.0.1:1",
      });
      await vi.advanceTimersByTimeAsync(backoffFor(1) - 1);
      expect(network.transports).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(network.transports).toHaveLength(2);
      network.last.open();
      await flush();
      expect(connected.value()).toBe("resolved");
      expect(statuses.map((s) => s.state)).toEqual(["connecting", "connecting", "connecting", "open"]);
      await transport.disconnect();
    });

    it("fails an attempt that takes longer than connectTimeout, disconnecting its inner transport", async () => {
      const { transport, network, onReceive } = setup({ connectTimeout: 500 }, {});
      transport.connect(onReceive).catch(() => undefined);
      const stuck = network.last;
      await vi.advanceTimersByTimeAsync(499);
      expect(stuck.disconnectCalls).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(stuck.disconnectCalls).toBe(1);
      expect(transport.status.lastCloseCode).toBe(1006);
      expect(transport.status.lastCloseReason).toMatch(/connectTimeout/);
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(network.transports).toHaveLength(2);
      // The abandoned attempt opening late changes nothing.
      stuck.open();
      await flush();
      expect(transport.status.state).toBe("connecting");
      await transport.disconnect();
    });

    it("counts a throwing factory as a failed attempt", async () => {
      let calls = 0;
      const network = new FakeNetwork({ autoOpen: true });
      const transport = new ReconnectingTransport(
        () => {
          calls += 1;
          if (calls === 1) throw new Error("token service down");
          return network.factory();
        },
        { backoff: { initialDelay: 100 }, random: () => RANDOM, heartbeat: false },
      );
      const connected = settled(transport.connect(() => undefined));
      expect(transport.status).toMatchObject({ state: "connecting", attempt: 2, lastCloseReason: "token service down" });
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(connected.value()).toBe("resolved");
      await transport.disconnect();
    });

    it("refuses misuse loudly", async () => {
      expect(() => new ReconnectingTransport(undefined as never)).toThrow(/factory/);
      expect(() => new ReconnectingTransport(() => new FakeNetwork().factory(), { maxAttempts: 0 })).toThrow(/maxAttempts/);
      expect(() => new ReconnectingTransport(() => new FakeNetwork().factory(), { heartbeat: { timeout: 0 } })).toThrow(
        /heartbeat.timeout/,
      );
      const { transport } = setup();
      await expect(transport.connect(undefined as never)).rejects.toThrow(/onReceive/);
      expect(() => transport.setHandshake(42 as never)).toThrow(/setHandshake/);
    });
  });

  describe("reconnecting and the attempt counter", () => {
    it("reconnects after a drop with the backoff and reports each drop in status only", async () => {
      const { transport, network, statuses, closes, onReceive } = setup();
      await transport.connect(onReceive);
      await vi.advanceTimersByTimeAsync(1000); // minUptime: counter reset
      network.last.drop(1006, "socket hang up");
      expect(transport.status).toEqual({
        state: "reconnecting",
        attempt: 1,
        nextRetryAt: Date.now() + backoffFor(1),
        lastCloseCode: 1006,
        lastCloseReason: "socket hang up",
      });
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(transport.status.state).toBe("open");
      expect(network.transports).toHaveLength(2);
      expect(closes).toEqual([]);
      expect(statuses.map((s) => s.state)).toEqual(["connecting", "open", "open", "reconnecting", "reconnecting", "open"]);
      await transport.disconnect();
    });

    it("grows the backoff across connections that drop before minUptime, and resets it after minUptime", async () => {
      const { transport, network, onReceive } = setup();
      await transport.connect(onReceive);
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) {
        network.last.drop(1006);
        delays.push((transport.status.nextRetryAt ?? NaN) - Date.now());
        await vi.advanceTimersByTimeAsync(transport.status.nextRetryAt! - Date.now());
        expect(transport.status.state).toBe("open");
      }
      expect(delays).toEqual([backoffFor(1), backoffFor(2), backoffFor(3), backoffFor(4)]);
      expect(transport.status.attempt).toBe(5);
      await vi.advanceTimersByTimeAsync(999);
      expect(transport.status.attempt).toBe(5);
      await vi.advanceTimersByTimeAsync(1);
      expect(transport.status.attempt).toBe(0);
      network.last.drop(1006);
      expect(transport.status.nextRetryAt! - Date.now()).toBe(backoffFor(1));
      await transport.disconnect();
    });

    it("gives up after maxAttempts failed attempts in a row, rejecting connect() and reporting onClose once", async () => {
      const { transport, network, closes, onReceive } = setup({ maxAttempts: 3 }, {});
      const connected = transport.connect(onReceive).catch((e: unknown) => e);
      for (let i = 0; i < 3; i++) {
        network.last.refuse(new Error(`refused ${i + 1}`));
        await flush();
        if (transport.status.nextRetryAt !== undefined) await vi.advanceTimersByTimeAsync(transport.status.nextRetryAt - Date.now());
      }
      await vi.advanceTimersByTimeAsync(60_000);
      expect(network.transports).toHaveLength(3);
      const error = (await connected) as ReconnectingTransportError;
      expect(error).toBeInstanceOf(ReconnectingTransportError);
      expect(error.code).toBe("stopped");
      expect(error.closeCode).toBe(1006);
      expect(error.message).toMatch(/maxAttempts = 3/);
      expect(closes).toHaveLength(1);
      expect(closes[0]).toMatchObject({ code: 1006, local: false });
      expect(closes[0]?.reason).toBe("refused 3");
      expect(closes[0]?.error?.message).toMatch(/maxAttempts/);
      expect(transport.status.state).toBe("closed");
    });

    it("ignores everything a replaced inner transport still says (connectionEpoch guard)", async () => {
      const { transport, network, received, closes, onReceive } = setup();
      await transport.connect(onReceive);
      const old = network.last;
      old.drop(1006);
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      const current = network.last;
      expect(current).not.toBe(old);
      old.deliver({ type: "op", revision: 99 });
      old.emitClose(1000, "late close of the old socket");
      expect(received).toEqual([]);
      expect(transport.status.state).toBe("open");
      expect(closes).toEqual([]);
      current.deliver({ type: "op", revision: 1 });
      expect(received).toEqual([{ type: "op", revision: 1 }]);
      expect(old.closeListenerCount).toBe(0);
      await transport.disconnect();
    });

    it("retryNow() skips the wait", async () => {
      const { transport, network, onReceive } = setup({ backoff: { initialDelay: 60_000 } });
      await transport.connect(onReceive);
      network.last.drop(1006);
      expect(transport.status.state).toBe("reconnecting");
      transport.retryNow();
      await flush();
      expect(transport.status.state).toBe("open");
      await transport.disconnect();
    });
  });

  describe("close codes", () => {
    async function openThenClose(code: number, options: ReconnectingTransportOptions = {}) {
      const ctx = setup(options);
      await ctx.transport.connect(ctx.onReceive);
      ctx.network.last.drop(code, `server closed with ${code}`);
      return ctx;
    }

    it.each([1000, 1008, 1009, 4009])("stops for good on %i, after one attempt, saying why", async (code) => {
      const { transport, network, closes } = await openThenClose(code);
      await vi.advanceTimersByTimeAsync(120_000);
      expect(network.transports).toHaveLength(1);
      expect(transport.status.state).toBe("closed");
      expect(transport.status.lastCloseCode).toBe(code);
      expect(closes).toHaveLength(1);
      expect(closes[0]).toMatchObject({ code, local: false });
      expect(closes[0]?.reason).toContain(`server closed with ${code}`);
      expect(closes[0]?.error).toBeInstanceOf(ReconnectingTransportError);
      const send = await transport.send({ type: "ping" }).catch((e: unknown) => e);
      expect((send as ReconnectingTransportError).code).toBe("not_connected");
    });

    it("after 4003 builds a new inner transport once, soon, and stops when that one is closed with 4003 too", async () => {
      const { closes, transport, network } = await openThenClose(4003);
      expect(transport.status.state).toBe("reconnecting");
      expect(transport.status.nextRetryAt! - Date.now()).toBe(backoffFor(1));
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(network.transports).toHaveLength(2);
      expect(transport.status.state).toBe("open");
      expect(closes).toEqual([]);
      network.last.drop(4003, "server closed with 4003");
      await vi.advanceTimersByTimeAsync(120_000);
      expect(network.transports).toHaveLength(2);
      expect(transport.status.state).toBe("closed");
      expect(closes).toHaveLength(1);
      expect(closes[0]?.reason).toBe("server closed with 4003");
      expect(closes[0]?.error?.message).toMatch(/token function/);
      expect(transport.status.lastCloseReason).toMatch(/fresh token/);
    });

    it("after 4003 keeps going when the new connection stays up, and asks again at the next expiry", async () => {
      const { closes, transport, network } = await openThenClose(4003);
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      // Up past minUptime: the renewed token was accepted, so a later 4003 is a new expiry.
      await vi.advanceTimersByTimeAsync(1000);
      network.last.drop(4003, "expired again");
      expect(transport.status.state).toBe("reconnecting");
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(network.transports).toHaveLength(3);
      expect(closes).toEqual([]);
      await transport.disconnect();
    });

    it("reconnects at once after 1001, within the small jitter, even late in a failure streak", async () => {
      const { transport, network } = await openThenClose(1001);
      const wait = transport.status.nextRetryAt! - Date.now();
      expect(wait).toBe(RANDOM * 1000);
      await vi.advanceTimersByTimeAsync(wait);
      expect(network.transports).toHaveLength(2);
      expect(transport.status.state).toBe("open");
      await transport.disconnect();
    });

    describe("after a 1001 the next goingAwayRetries failures retry within the 1001's jitter, then back off", () => {
      /** Open for a while, then the server goes away (1001). */
      async function goneAway(options: ReconnectingTransportOptions = {}) {
        const ctx = setup(options, {});
        const connected = ctx.transport.connect(ctx.onReceive);
        ctx.network.last.open();
        await connected;
        await vi.advanceTimersByTimeAsync(1000); // minUptime: a connection that had been up a while
        ctx.network.last.drop(1001, "server shutting down");
        return ctx;
      }

      /** The waits before each attempt, refusing each one, `count` times. */
      async function refusedWaits(ctx: Awaited<ReturnType<typeof goneAway>>, count: number, error: () => Error): Promise<number[]> {
        const waits: number[] = [];
        for (let i = 0; i < count; i++) {
          const wait = ctx.transport.status.nextRetryAt! - Date.now();
          waits.push(wait);
          await vi.advanceTimersByTimeAsync(wait);
          ctx.network.last.refuse(error());
          await flush();
        }
        return waits;
      }

      it("refused connections (1006) and 503s: 1 + 8 waits of random * 1000, then backoff(1), backoff(2), ...", async () => {
        const ctx = await goneAway();
        const waits = await refusedWaits(ctx, 12, () => Object.assign(new Error("upgrade refused: 503"), { status: 503 }));
        const soon = RANDOM * 1000;
        expect(waits).toEqual([soon, ...Array<number>(8).fill(soon), backoffFor(1), backoffFor(2), backoffFor(3)]);
        expect(ctx.network.transports).toHaveLength(13);
        await ctx.transport.disconnect();
      });

      it("reaches a server that took several seconds to come back without a backoff tail", async () => {
        const ctx = await goneAway();
        // Down for 3 s after the 1001: with the default backoff (initial 100 ms here) and a draw of
        // 0.5 the client would have waited 0.5 + 0.05 + 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s (3.65 s) and
        // then 3.2 s more; retrying soon it is back within one jittered second of the server.
        const start = Date.now();
        while (Date.now() - start < 3000) {
          await vi.advanceTimersByTimeAsync(ctx.transport.status.nextRetryAt! - Date.now());
          if (Date.now() - start < 3000) ctx.network.last.refuse(new Error("connect ECONNREFUSED"));
          else ctx.network.last.open();
          await flush();
        }
        expect(ctx.transport.status.state).toBe("open");
        expect(Date.now() - start).toBeLessThanOrEqual(3000 + RANDOM * 1000);
        await ctx.transport.disconnect();
      });

      it("goingAwayRetries: 0 in the close policy gives the plain backoff after the first retry", async () => {
        const ctx = await goneAway({ closePolicy: createClosePolicy({ goingAwayRetries: 0 }) });
        const waits = await refusedWaits(ctx, 4, () => new Error("connect ECONNREFUSED"));
        expect(waits).toEqual([RANDOM * 1000, backoffFor(1), backoffFor(2), backoffFor(3)]);
        await ctx.transport.disconnect();
      });

      it("a connection that stays up minUptime ends the regime: its later drop backs off", async () => {
        const ctx = await goneAway();
        await vi.advanceTimersByTimeAsync(ctx.transport.status.nextRetryAt! - Date.now());
        ctx.network.last.open();
        await flush();
        expect(ctx.transport.status.state).toBe("open");
        await vi.advanceTimersByTimeAsync(1000); // minUptime
        ctx.network.last.drop(1006);
        expect(ctx.transport.status.nextRetryAt! - Date.now()).toBe(backoffFor(1));
        await ctx.transport.disconnect();
      });

      it("a connection that drops before minUptime stays in the regime, and a new 1001 starts it again", async () => {
        const ctx = await goneAway();
        const soon = RANDOM * 1000;
        // 5 refused, then open briefly and dropped (1006): failures 6 and 7 after the 1001.
        await refusedWaits(ctx, 5, () => new Error("connect ECONNREFUSED"));
        await vi.advanceTimersByTimeAsync(ctx.transport.status.nextRetryAt! - Date.now());
        ctx.network.last.open();
        await flush();
        ctx.network.last.drop(1006);
        const waits = await refusedWaits(ctx, 4, () => new Error("connect ECONNREFUSED"));
        // Waits before attempts 7..10 after the 1001: failures 6, 7, 8 retry soon, 9 backs off.
        expect(waits).toEqual([soon, soon, soon, backoffFor(1)]);
        // The server goes away again: the count starts over.
        await vi.advanceTimersByTimeAsync(ctx.transport.status.nextRetryAt! - Date.now());
        ctx.network.last.open();
        await flush();
        ctx.network.last.drop(1001);
        const again = await refusedWaits(ctx, 9, () => new Error("connect ECONNREFUSED"));
        expect(again.slice(0, 9)).toEqual(Array<number>(9).fill(soon));
        await ctx.transport.disconnect();
      });
    });

    it("retries 4001 three times with growing delays, then stops", async () => {
      const { transport, network, closes } = await openThenClose(4001);
      const waits: number[] = [];
      while (transport.status.state === "reconnecting") {
        waits.push(transport.status.nextRetryAt! - Date.now());
        await vi.advanceTimersByTimeAsync(transport.status.nextRetryAt! - Date.now());
        network.last.drop(4001, "no such document");
      }
      expect(network.transports).toHaveLength(4);
      expect(waits).toHaveLength(3);
      expect(waits[0]!).toBeLessThan(waits[1]!);
      expect(waits[1]!).toBeLessThan(waits[2]!);
      expect(closes).toHaveLength(1);
      expect(closes[0]?.code).toBe(4001);
      expect(closes[0]?.reason).toBe("no such document");
      expect(closes[0]?.error?.message).toMatch(/notFoundRetries/);
    });

    it("waits longer after 4029", async () => {
      const { transport } = await openThenClose(4029);
      expect(transport.status.nextRetryAt! - Date.now()).toBe(10_000 + backoffFor(1));
      await transport.disconnect();
    });

    it.each([1006, 1011, 4500])("backs off after %i", async (code) => {
      const { transport } = await openThenClose(code);
      expect(transport.status.state).toBe("reconnecting");
      expect(transport.status.nextRetryAt! - Date.now()).toBe(backoffFor(1));
      await transport.disconnect();
    });

    it("stops when a connect is refused with HTTP 401 (as 4003) twice in a row", async () => {
      const { transport, network, closes, onReceive } = setup({}, {});
      const connected = transport.connect(onReceive).catch((e: unknown) => e);
      network.last.refuse(Object.assign(new Error("upgrade refused: 401"), { status: 401 }));
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(network.transports).toHaveLength(2);
      network.last.refuse(Object.assign(new Error("upgrade refused: 401"), { status: 401 }));
      const error = (await connected) as ReconnectingTransportError;
      expect(error.code).toBe("stopped");
      expect(error.closeCode).toBe(4003);
      expect(closes).toHaveLength(1);
      expect(transport.status.state).toBe("closed");
    });

    it("follows an overriding closePolicy", async () => {
      const policy = vi.fn(() => ({ action: "reconnect" as const, delay: 7 }));
      const { transport, network } = await openThenClose(4003, { closePolicy: policy });
      expect(policy).toHaveBeenCalledWith(
        expect.objectContaining({ code: 4003 }),
        expect.objectContaining({ attempt: 1, sameCodeCount: 1 }),
      );
      await vi.advanceTimersByTimeAsync(7);
      expect(network.transports).toHaveLength(2);
      await transport.disconnect();
    });

    it("stops when a closePolicy returns an invalid delay", async () => {
      const { transport, closes } = await openThenClose(1006, { closePolicy: () => ({ action: "reconnect", delay: Number.NaN }) });
      expect(transport.status.state).toBe("closed");
      expect(closes[0]?.error?.message).toMatch(/invalid delay/);
    });
  });

  describe("handshake", () => {
    it("runs on every connection before anything queued is sent, with a send that goes straight through", async () => {
      const { transport, network, onReceive } = setup();
      const runs: number[] = [];
      transport.setHandshake(async (send) => {
        runs.push(network.transports.length);
        await send({ type: "join", docId: "d", revision: runs.length });
      });
      await transport.connect(onReceive);
      expect(network.last.sent).toEqual([{ type: "join", docId: "d", revision: 1 }]);
      network.last.drop(1006);
      const queued = settled(transport.send({ type: "op", n: 1 }));
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(runs).toEqual([1, 2]);
      expect(network.last.sent).toEqual([
        { type: "join", docId: "d", revision: 2 },
        { type: "op", n: 1 },
      ]);
      expect(queued.value()).toBe("resolved");
      await transport.disconnect();
    });

    it("keeps the state 'connecting' while the handshake runs, delivering what arrives meanwhile", async () => {
      const { transport, network, received, onReceive } = setup();
      let answer: () => void = () => undefined;
      transport.setHandshake(async (send) => {
        await send({ type: "join", docId: "d" });
        await new Promise<void>((resolve) => {
          answer = resolve;
        });
      });
      const connected = settled(transport.connect(onReceive));
      await flush();
      expect(transport.status.state).toBe("connecting");
      network.last.deliver({ type: "joined", docId: "d", revision: 3 });
      expect(received).toEqual([{ type: "joined", docId: "d", revision: 3 }]);
      answer();
      await flush();
      expect(connected.value()).toBe("resolved");
      expect(transport.status.state).toBe("open");
      await transport.disconnect();
    });

    it("counts a failing handshake as a failed attempt", async () => {
      const { transport, network, onReceive } = setup();
      let fail = true;
      transport.setHandshake(() => {
        if (fail) throw new Error("join refused: internal");
      });
      const connected = settled(transport.connect(onReceive));
      await flush();
      expect(network.transports[0]?.disconnectCalls).toBe(1);
      expect(transport.status).toMatchObject({ state: "connecting", attempt: 2, lastCloseCode: 1006 });
      expect(transport.status.lastCloseReason).toMatch(/handshake failed: join refused/);
      fail = false;
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(connected.value()).toBe("resolved");
      await transport.disconnect();
    });

    it("a handshake send for a dropped connection rejects with connection_replaced", async () => {
      const { transport, network, onReceive } = setup({ connectTimeout: 50 });
      let late: ((m: unknown) => Promise<void>) | undefined;
      transport.setHandshake((send) => {
        late ??= send;
        return late === send ? new Promise<void>(() => undefined) : undefined;
      });
      transport.connect(onReceive).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(50); // the hanging handshake times out
      expect(network.transports[0]?.disconnectCalls).toBe(1);
      const error = await late!({ type: "join" }).catch((e: unknown) => e);
      expect((error as ReconnectingTransportError).code).toBe("connection_replaced");
      await transport.disconnect();
    });
  });

  describe("offline queue", () => {
    it("sends straight through when open; a failed hand-over rejects the caller and counts as a drop", async () => {
      const { transport, network, onReceive } = setup();
      const joins: number[] = [];
      transport.setHandshake(() => {
        joins.push(network.transports.length);
      });
      await transport.connect(onReceive);
      await transport.send({ n: 1 });
      expect(network.last.sent).toEqual([{ n: 1 }]);
      const broken = network.last;
      broken.failSends = new Error("POST /messages failed: fetch failed");
      await expect(transport.send({ n: 2 })).rejects.toThrow("fetch failed");
      expect(broken.disconnectCalls).toBe(1);
      expect(transport.status).toMatchObject({ state: "reconnecting", lastCloseCode: 1006 });
      expect(transport.status.lastCloseReason).toMatch(/a send failed: POST/);
      // The next connection runs the handshake again: that is where an OT client resends.
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(joins).toEqual([1, 2]);
      await transport.disconnect();
    });

    it("a send refused with HTTP 413 stops for good like a 1009 close", async () => {
      const { transport, network, closes, onReceive } = setup();
      await transport.connect(onReceive);
      network.last.failSends = Object.assign(new Error("POST answered 413"), { status: 413 });
      await expect(transport.send({ n: 1 })).rejects.toThrow("413");
      expect(transport.status.state).toBe("closed");
      expect(closes).toMatchObject([{ code: 1009 }]);
    });

    it("keeps order: queued messages go out before anything sent after the connection opens", async () => {
      const { transport, network, onReceive } = setup();
      await transport.connect(onReceive);
      network.last.drop(1006);
      const sends = [1, 2, 3].map((n) => transport.send({ n }));
      expect(transport.queueLength).toBe(3);
      let sentFromListener: Promise<void> | undefined;
      const off = transport.onStatus((s) => {
        if (s.state === "open") sentFromListener = transport.send({ n: 4 });
      });
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      off();
      await Promise.all([...sends, sentFromListener]);
      expect(network.last.sent).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
      expect(transport.queueLength).toBe(0);
      await transport.disconnect();
    });

    it("rejects the send that overflows the queue with queue_full", async () => {
      const { transport, network, onReceive } = setup({ queue: { maxMessages: 2 } });
      await transport.connect(onReceive);
      network.last.drop(1006);
      transport.send(1).catch(() => undefined);
      transport.send(2).catch(() => undefined);
      const error = await transport.send(3).catch((e: unknown) => e);
      expect((error as ReconnectingTransportError).code).toBe("queue_full");
      const bytes = setup({ queue: { maxBytes: 10 } });
      await bytes.transport.connect(bytes.onReceive);
      bytes.network.last.drop(1006);
      const big = await bytes.transport.send("x".repeat(20)).catch((e: unknown) => e);
      expect((big as ReconnectingTransportError).code).toBe("queue_full");
      await transport.disconnect();
      await bytes.transport.disconnect();
    });

    it("rejects everything still queued on a permanent stop, and nothing that was handed over", async () => {
      const { transport, network, onReceive } = setup();
      await transport.connect(onReceive);
      network.last.drop(1006);
      const delivered = [transport.send(1), transport.send(2)];
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      await Promise.all(delivered);
      network.last.drop(1006);
      const doomed = [transport.send(3), transport.send(4)].map((p) => p.catch((e: unknown) => e));
      transport.retryNow();
      network.last.refuse(Object.assign(new Error("forbidden"), { status: 403 }));
      // 4003 is asked once more (for a fresh token), then it stops.
      await flush();
      expect(transport.status.state).toBe("reconnecting");
      transport.retryNow();
      network.last.refuse(Object.assign(new Error("forbidden"), { status: 403 }));
      for (const result of await Promise.all(doomed)) {
        expect(result).toBeInstanceOf(ReconnectingTransportError);
        expect((result as ReconnectingTransportError).code).toBe("stopped");
        expect((result as ReconnectingTransportError).closeCode).toBe(4003);
      }
      expect(transport.queueLength).toBe(0);
      expect(network.transports.flatMap((t) => t.sent)).toEqual([1, 2]);
    });

    it("rejects queued sends and a pending connect() on disconnect()", async () => {
      const { transport, onReceive, closes } = setup({}, {});
      const connected = transport.connect(onReceive).catch((e: unknown) => e);
      const queued = transport.send(1).catch((e: unknown) => e);
      await transport.disconnect();
      expect(((await connected) as ReconnectingTransportError).code).toBe("disconnected");
      expect(((await queued) as ReconnectingTransportError).code).toBe("disconnected");
      expect(closes).toEqual([{ code: 1000, reason: "disconnect() was called", local: true }]);
      await transport.disconnect();
      expect(closes).toHaveLength(1);
    });

    it("with the queue off, send between attempts rejects with offline", async () => {
      const { transport, network, onReceive } = setup({ queue: false });
      await transport.connect(onReceive);
      network.last.drop(1006);
      expect(transport.status.state).toBe("reconnecting");
      const error = await transport.send(1).catch((e: unknown) => e);
      expect((error as ReconnectingTransportError).code).toBe("offline");
      expect((error as Error).message).toMatch(/queue: false/);
      await transport.disconnect();
    });

    // The answer to a handshake's join can arrive before the handshake's own send has settled
    // (an SSE stream event can beat the 202 of the POST that carried the join). What the
    // receiver sends in reply belongs on that connection; rejecting it left an OT client live
    // with its op in flight never resent, waiting for an ack until the next reconnection.
    it("with the queue off, what is sent during an attempt goes on that connection after its handshake", async () => {
      const { transport, network } = setup({ queue: false }, {});
      const replies: Promise<void>[] = [];
      const onReceive = (message: unknown): void => {
        if (message === "answer") replies.push(transport.send("reply"));
      };
      let release = (): void => undefined;
      transport.setHandshake(async (send) => {
        await send("join");
        network.last.deliver("answer"); // before the handshake is done
        await new Promise<void>((resolve) => (release = resolve));
      });
      const connected = transport.connect(onReceive);
      network.last.open();
      await flush();
      expect(transport.status.state).toBe("connecting");
      expect(network.last.sent).toEqual(["join"]);
      const reply = settled(replies[0]!);
      await flush();
      expect(reply.value()).toBe("pending");
      release();
      await connected;
      await flush();
      expect(network.last.sent).toEqual(["join", "reply"]);
      expect(reply.value()).toBe("resolved");
      await transport.disconnect();
    });

    it("with the queue off, what waited for an attempt that fails rejects with offline and is not sent later", async () => {
      const { transport, network } = setup({ queue: false }, {});
      const replies: Promise<unknown>[] = [];
      let attempt = 0;
      transport.setHandshake(async (send) => {
        attempt += 1;
        await send(`join ${attempt}`);
        if (attempt > 1) return;
        replies.push(transport.send("reply").catch((e: unknown) => e));
        throw new Error("no answer");
      });
      transport.connect(() => undefined).catch(() => undefined);
      network.last.open();
      await flush();
      const error = await replies[0]!;
      expect((error as ReconnectingTransportError).code).toBe("offline");
      expect((error as Error).message).toMatch(/queue: false/);
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(network.transports).toHaveLength(2);
      network.last.open();
      await flush();
      expect(transport.status.state).toBe("open");
      expect(network.transports.map((t) => t.sent)).toEqual([["join 1"], ["join 2"]]);
      await transport.disconnect();
    });

    it("send before connect() rejects with not_connected", async () => {
      const { transport } = setup();
      const error = await transport.send(1).catch((e: unknown) => e);
      expect((error as ReconnectingTransportError).code).toBe("not_connected");
      expect((error as Error).message).toMatch(/connect\(\)/);
    });
  });

  describe("heartbeat", () => {
    it("pings on open connections and hides its own pongs, not the application's", async () => {
      const { transport, network, received, onReceive } = setup({ heartbeat: { interval: 1000, timeout: 500 } });
      await transport.connect(onReceive);
      await vi.advanceTimersByTimeAsync(3000);
      const pings = network.last.sent.filter((m) => (m as { type: string }).type === "ping");
      expect(pings.length).toBe(3);
      expect(transport.status.state).toBe("open");
      expect(received).toEqual([]);
      network.last.deliver({ type: "pong", t: 42 });
      network.last.deliver({ type: "pong", t: "mine" });
      expect(received).toEqual([
        { type: "pong", t: 42 },
        { type: "pong", t: "mine" },
      ]);
      await transport.disconnect();
    });

    it("treats a missing pong as a dead connection (1006): disconnects the inner transport and reconnects", async () => {
      const { transport, network, closes, onReceive } = setup({ heartbeat: { interval: 1000, timeout: 500 } }, { autoOpen: true });
      await transport.connect(onReceive);
      const halfOpen = network.last;
      await vi.advanceTimersByTimeAsync(1499);
      expect(halfOpen.disconnectCalls).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(halfOpen.disconnectCalls).toBe(1);
      expect(transport.status).toMatchObject({ state: "reconnecting", lastCloseCode: 1006 });
      expect(transport.status.lastCloseReason).toMatch(/heartbeat/);
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      expect(network.transports).toHaveLength(2);
      expect(transport.status.state).toBe("open");
      expect(closes).toEqual([]);
      await transport.disconnect();
    });

    it("sends no heartbeat with heartbeat: false", async () => {
      const { transport, network, onReceive } = setup({ heartbeat: false }, { autoOpen: true });
      await transport.connect(onReceive);
      await vi.advanceTimersByTimeAsync(600_000);
      expect(network.last.sent).toEqual([]);
      expect(transport.status.state).toBe("open");
      await transport.disconnect();
    });
  });

  describe("status", () => {
    it("reports the whole story of connect, drop, failed retry, reconnect and stop", async () => {
      const { transport, network, statuses, onReceive } = setup({}, {});
      transport.connect(onReceive).catch(() => undefined);
      network.last.open();
      await flush();
      network.last.drop(1011, "oops");
      await vi.advanceTimersByTimeAsync(backoffFor(1));
      network.last.refuse(new Error("ECONNREFUSED"));
      await vi.advanceTimersByTimeAsync(backoffFor(2));
      network.last.open();
      await flush();
      network.last.drop(1000, "bye");
      expect(statuses.map((s) => [s.state, s.attempt, s.lastCloseCode ?? null])).toEqual([
        ["connecting", 1, null],
        ["open", 1, null],
        ["reconnecting", 2, 1011],
        ["reconnecting", 2, 1011],
        ["reconnecting", 3, 1006],
        ["reconnecting", 3, 1006],
        ["open", 3, 1006],
        ["closed", 0, 1000],
      ]);
      const waiting = statuses.filter((s) => s.nextRetryAt !== undefined);
      expect(waiting).toHaveLength(2);
    });

    it("a listener may disconnect() from inside any transition without leaving timers or connections behind", async () => {
      for (const at of ["connecting", "open", "reconnecting"] as const) {
        const { transport, network, onReceive } = setup({ heartbeat: { interval: 100, timeout: 100 } });
        transport.onStatus((s) => {
          if (s.state === at) void transport.disconnect();
        });
        transport.connect(onReceive).catch(() => undefined);
        await flush();
        if (at === "reconnecting") {
          network.last.drop(1006);
          await flush();
        }
        expect(transport.status.state, at).toBe("closed");
        expect(vi.getTimerCount(), `timers left after a disconnect on ${at}`).toBe(0);
        await vi.advanceTimersByTimeAsync(10_000);
        expect(
          network.transports.every((t) => t.state === "closed"),
          `connections left after a disconnect on ${at}`,
        ).toBe(true);
        expect(
          network.transports.flatMap((t) => t.sent),
          `pings after a disconnect on ${at}`,
        ).toEqual([]);
      }
    });

    it("onStatus returns an unsubscribe", async () => {
      const { transport, onReceive } = setup();
      const seen: string[] = [];
      const off = transport.onStatus((s) => seen.push(s.state));
      transport.connect(onReceive).catch(() => undefined);
      off();
      await flush();
      expect(seen).toEqual(["connecting"]);
      await transport.disconnect();
    });

    it("a throwing listener neither breaks the transitions nor escapes; it goes to the logger", async () => {
      const errors: string[] = [];
      const { transport, onReceive } = setup({ logger: { error: (m) => errors.push(m) } });
      transport.onStatus(() => {
        throw new Error("ui bug");
      });
      await transport.connect(onReceive);
      expect(transport.status.state).toBe("open");
      expect(errors.length).toBeGreaterThan(0);
      await transport.disconnect();
    });
  });

  describe("under an OT client", () => {
    it("with the queue off, the op in flight is resent on a connection whose join was answered before its handshake settled", async () => {
      const network = new FakeNetwork({ autoOpen: true });
      const transport = new ReconnectingTransport<unknown>(network.factory, { queue: false, heartbeat: false, random: () => RANDOM });
      const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: "d", clientId: "c", snapshot: "", revision: 0 });
      const connected = client.connect();
      await flush();
      network.last.deliver({ type: "joined", docId: "d", revision: 0 });
      await connected;
      client.submit([{ i: "x" }]);
      network.last.drop(1006);
      // The next server answers the join as it arrives, before the send that carried it settled.
      network.onSend = (fake, message) => {
        const m = message as { type?: unknown; revision?: number };
        if (m.type === "join") fake.deliver({ type: "joined", docId: "d", revision: m.revision });
      };
      await vi.advanceTimersByTimeAsync(1000);
      expect(transport.status.state).toBe("open");
      const ops = network.last.sent.filter((m) => (m as { type?: unknown }).type === "op");
      expect(ops).toEqual([{ type: "op", docId: "d", clientId: "c", seq: 1, revision: 0, op: [{ i: "x" }] }]);
      network.last.deliver({ type: "ack", docId: "d", revision: 1, seq: 1 });
      await flush();
      expect(client.synced).toBe(true);
      await client.disconnect();
    });
  });

  describe("browser events", () => {
    function stubBrowser() {
      const windowListeners = new Map<string, () => void>();
      const docListeners = new Map<string, () => void>();
      const doc = {
        visibilityState: "hidden",
        addEventListener: (type: string, l: () => void) => docListeners.set(type, l),
        removeEventListener: (type: string, l: () => void) => {
          if (docListeners.get(type) === l) docListeners.delete(type);
        },
      };
      vi.stubGlobal("addEventListener", (type: string, l: () => void) => windowListeners.set(type, l));
      vi.stubGlobal("removeEventListener", (type: string, l: () => void) => {
        if (windowListeners.get(type) === l) windowListeners.delete(type);
      });
      vi.stubGlobal("document", doc);
      return { windowListeners, docListeners, doc };
    }

    it("retries at once on 'online' and when the tab becomes visible; removes the listeners on disconnect()", async () => {
      const browser = stubBrowser();
      const { transport, network, onReceive } = setup({ backoff: { initialDelay: 60_000 } });
      await transport.connect(onReceive);
      network.last.drop(1006);
      browser.windowListeners.get("online")?.();
      await flush();
      expect(network.transports).toHaveLength(2);
      expect(transport.status.state).toBe("open");

      network.last.drop(1006);
      browser.doc.visibilityState = "hidden";
      browser.docListeners.get("visibilitychange")?.();
      await flush();
      expect(network.transports).toHaveLength(2);
      browser.doc.visibilityState = "visible";
      browser.docListeners.get("visibilitychange")?.();
      await flush();
      expect(network.transports).toHaveLength(3);

      await transport.disconnect();
      expect(browser.windowListeners.size).toBe(0);
      expect(browser.docListeners.size).toBe(0);
    });

    it("checks an open connection with a heartbeat ping when the tab becomes visible", async () => {
      const browser = stubBrowser();
      const { transport, network, onReceive } = setup({ heartbeat: { interval: 60_000, timeout: 500 } }, { autoOpen: true });
      await transport.connect(onReceive);
      browser.doc.visibilityState = "visible";
      browser.docListeners.get("visibilitychange")?.();
      expect(network.last.sent).toEqual([{ type: "ping", t: expect.any(String) }]);
      await vi.advanceTimersByTimeAsync(500);
      expect(transport.status.state).toBe("reconnecting");
      await transport.disconnect();
    });

    it("adds no listeners with browserEvents: false, nor in Node", async () => {
      expect((globalThis as { addEventListener?: unknown }).addEventListener).toBeUndefined();
      const node = setup();
      await node.transport.connect(node.onReceive);
      await node.transport.disconnect();
      const browser = stubBrowser();
      const { transport, onReceive } = setup({ browserEvents: false });
      await transport.connect(onReceive);
      expect(browser.windowListeners.size).toBe(0);
      expect(browser.docListeners.size).toBe(0);
      await transport.disconnect();
    });
  });
});
