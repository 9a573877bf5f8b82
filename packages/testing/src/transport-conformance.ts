/**
 * The conformance suite every {@link TransportAdapter} must pass, run against real servers on
 * loopback. A transport package calls {@link describeTransportConformance} from a test file
 * with a `setup` that starts its server binding (over the real hub) and builds transports.
 *
 * The round trip is the protocol's `ping`/`pong` (the pong echoes `t`), so nothing needs to be
 * joined and any server speaking the protocol can stand behind the transport.
 */
import type { TransportAdapter, TransportCloseEvent } from "@open-ot/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";

/**
 * What a transport package provides for one test. {@link describeTransportConformance} calls
 * `setup()` before every case and `cleanup()` after it, so each case gets fresh servers.
 *
 * The server behind `createTransport()` must answer `ping` with `pong`, accept a burst of
 * 1,000 messages on one connection (configure its rate limit accordingly) and messages of
 * at least 600 KiB.
 */
export interface TransportConformanceFixture {
  /** A new, unconnected transport pointed at the live server. */
  createTransport(): TransportAdapter;
  /** A new, unconnected transport pointed at a port on 127.0.0.1 where nothing listens. */
  deadUrlTransport(): TransportAdapter;
  /** Close every connection from the server side with this close code and reason. */
  closeAllServerSide(code: number, reason: string): void | Promise<void>;
  /** Stop the servers. Transports created by the fixture are disconnected by the suite first. */
  cleanup(): Promise<void>;
}

/** Options of {@link describeTransportConformance}. */
export interface TransportConformanceOptions {
  /**
   * How long `connect()` on the dead-port transport may take to reject: the connect timeout
   * the fixture gave that transport. The case allows 2 s on top for a loaded machine.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * Whether the transport reports a server-side close code and reason through `onClose`.
   * A reconnecting wrapper that hides single closes may turn the case off.
   * @default true
   */
  reportsCloseCodes?: boolean;
  /** The longest any one wait inside a case may take before the case fails. @default 15000 */
  waitMs?: number;
}

/** The size of the `t` string in the large-message case (a JSON frame just over this). */
export const LARGE_MESSAGE_CHARS = 512 * 1024;
/** How many pings the parallel-send case sends at once. */
export const PARALLEL_SENDS = 1_000;

/** Text from several scripts and planes: emoji (astral, with a modifier and a ZWJ sequence), CJK, RTL with marks, combining marks. */
export const NON_ASCII_SAMPLE = '😀 👍🏽 👩‍👩‍👧 漢字かなカナ 한국어 עִברִית العربية \u200f\u200e café e\u0301 Ω≈ç√ 𝄞 \u2028\u2029 \\ " \t\n end';

interface Pong {
  type: "pong";
  t?: unknown;
}

function isPong(message: unknown): message is Pong {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "pong";
}

/** A deterministic string of `length` characters whose every position is checkable. */
function patterned(length: number): string {
  const block = "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ_";
  let text = "";
  for (let i = 0; text.length < length; i++) text += `${i}:${block}`;
  return text.slice(0, length);
}

/**
 * Declare the transport conformance cases under `describe(name)`.
 *
 * @param name - Shown in the test report, for example `"WebSocketTransport"`.
 * @param setup - Starts fresh servers and returns a {@link TransportConformanceFixture}; called before every case.
 * @param options - See {@link TransportConformanceOptions}.
 */
export function describeTransportConformance(
  name: string,
  setup: () => Promise<TransportConformanceFixture>,
  options: TransportConformanceOptions = {},
): void {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const reportsCloseCodes = options.reportsCloseCodes ?? true;
  const waitMs = options.waitMs ?? 15_000;

  describe(`${name} (transport conformance)`, () => {
    let fixture: TransportConformanceFixture;
    let transports: TransportAdapter[] = [];

    const create = (): TransportAdapter => {
      const transport = fixture.createTransport();
      transports.push(transport);
      return transport;
    };

    /** Connect a new transport that collects every pong it receives. */
    const connected = async (): Promise<{ transport: TransportAdapter; pongs: Pong[] }> => {
      const transport = create();
      const pongs: Pong[] = [];
      await transport.connect((message) => {
        if (isPong(message)) pongs.push(message);
      });
      return { transport, pongs };
    };

    /** Ping over a fresh connection until its pong returns: a full trip through the server. */
    const roundTripElsewhere = async (count: number): Promise<void> => {
      const { transport, pongs } = await connected();
      await Promise.all(Array.from({ length: count }, (_, i) => transport.send({ type: "ping", t: `other-${i}` })));
      await waitUntil(() => pongs.length === count, `${count} pongs on another connection`, waitMs);
      await transport.disconnect();
    };

    beforeEach(async () => {
      fixture = await setup();
      transports = [];
    });
    afterEach(async () => {
      await Promise.allSettled(transports.map((t) => t.disconnect()));
      await fixture.cleanup();
    });

    it("connects, sends a ping, receives the pong echoing t, and disconnects", async () => {
      const { transport, pongs } = await connected();
      await transport.send({ type: "ping", t: 42 });
      await transport.send({ type: "ping", t: "forty-three" });
      await waitUntil(() => pongs.length === 2, "two pongs", waitMs);
      expect(pongs).toEqual([
        { type: "pong", t: 42 },
        { type: "pong", t: "forty-three" },
      ]);
      await transport.disconnect();
    });

    it("rejects send() after disconnect()", async () => {
      const { transport } = await connected();
      await transport.disconnect();
      await expect(transport.send({ type: "ping", t: 1 })).rejects.toBeInstanceOf(Error);
    });

    it("delivers nothing after disconnect() called from inside onReceive", async () => {
      const transport = create();
      let delivered = 0;
      let deliveredAfterDisconnect = 0;
      let disconnecting: Promise<void> | undefined;
      await transport.connect(() => {
        if (disconnecting !== undefined) {
          deliveredAfterDisconnect++;
          return;
        }
        delivered++;
        disconnecting = transport.disconnect();
      });
      // Many pongs in flight, so that more are already buffered when the first one arrives.
      // Sends not yet handed over when disconnect() runs may reject: that is allowed here.
      await Promise.allSettled(Array.from({ length: 200 }, (_, i) => transport.send({ type: "ping", t: i })));
      await waitUntil(() => disconnecting !== undefined, "the first pong", waitMs);
      await disconnecting;
      await roundTripElsewhere(200);
      expect(delivered).toBe(1);
      expect(deliveredAfterDisconnect).toBe(0);
    });

    it("delivers nothing after disconnect() called while replies are in flight", async () => {
      const transport = create();
      let disconnected = false;
      let deliveredAfterDisconnect = 0;
      await transport.connect(() => {
        if (disconnected) deliveredAfterDisconnect++;
      });
      await Promise.all(Array.from({ length: 200 }, (_, i) => transport.send({ type: "ping", t: i })));
      disconnected = true;
      await transport.disconnect();
      await roundTripElsewhere(200);
      expect(deliveredAfterDisconnect).toBe(0);
    });

    it("allows disconnect() twice, concurrently and after the fact, reporting one close", async () => {
      const { transport } = await connected();
      const closes: TransportCloseEvent[] = [];
      transport.onClose?.((event) => closes.push(event));
      await Promise.all([transport.disconnect(), transport.disconnect()]);
      await transport.disconnect();
      if (transport.onClose !== undefined) {
        expect(closes).toHaveLength(1);
        expect(closes[0]).toMatchObject({ local: true });
      }
    });

    it(`delivers ${PARALLEL_SENDS} parallel sends, all answered in order`, async () => {
      const { transport, pongs } = await connected();
      await Promise.all(Array.from({ length: PARALLEL_SENDS }, (_, i) => transport.send({ type: "ping", t: i })));
      await waitUntil(() => pongs.length >= PARALLEL_SENDS, `${PARALLEL_SENDS} pongs`, waitMs);
      expect(pongs.map((p) => p.t)).toEqual(Array.from({ length: PARALLEL_SENDS }, (_, i) => i));
    });

    it("round-trips a 512 KiB message intact", async () => {
      const { transport, pongs } = await connected();
      const t = patterned(LARGE_MESSAGE_CHARS);
      await transport.send({ type: "ping", t });
      await waitUntil(() => pongs.length === 1, "the large pong", waitMs);
      // Compare without handing vitest a 512 KiB diff to print on failure.
      const echoed = pongs[0]?.t;
      expect(typeof echoed).toBe("string");
      expect((echoed as string).length).toBe(t.length);
      expect(echoed === t).toBe(true);
    });

    it("round-trips non-ASCII text (emoji, CJK, RTL, combining marks) intact", async () => {
      const { transport, pongs } = await connected();
      await transport.send({ type: "ping", t: NON_ASCII_SAMPLE });
      await waitUntil(() => pongs.length === 1, "the pong", waitMs);
      expect(pongs[0]?.t).toBe(NON_ASCII_SAMPLE);
    });

    it("rejects connect() to a dead port within the connect timeout", async () => {
      const transport = fixture.deadUrlTransport();
      transports.push(transport);
      const bound = connectTimeoutMs + 2_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), bound);
      });
      const outcome = await Promise.race([
        transport
          .connect(() => {})
          .then(
            () => "connected" as const,
            (error: unknown) => error,
          ),
        deadline,
      ]);
      clearTimeout(timer);
      expect(outcome).toBeInstanceOf(Error);
    });

    it.skipIf(!reportsCloseCodes)("reports a server-side close code and reason through onClose", async () => {
      const { transport } = await connected();
      if (transport.onClose === undefined) throw new Error(`${name} has no onClose; pass { reportsCloseCodes: false } if that is intended`);
      const closed = new Promise<TransportCloseEvent>((resolve) => transport.onClose?.(resolve));
      await fixture.closeAllServerSide(4001, "document not found");
      const event = await closed;
      expect(event).toMatchObject({ code: 4001, reason: "document not found", local: false });
    });
  });
}
