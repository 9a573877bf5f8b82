// A real server closing connections with the protocol's close codes, over both transports.
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import type { TransportCloseEvent } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { ReconnectingTransport, ReconnectingTransportError, type ReconnectingTransportOptions } from "../src/index.js";
import { waitUntil } from "@open-ot/harness";
import { startServerInstance, type ServerInstance } from "./support/server-instance.js";

for (const wire of ["ws", "sse"] as const) {
  describe(`close codes from a real server over ${wire}`, () => {
    let instance: ServerInstance | undefined;
    let transport: ReconnectingTransport | undefined;

    afterEach(async () => {
      await transport?.disconnect();
      await instance?.stop();
    });

    async function open(options: ReconnectingTransportOptions) {
      instance = await startServerInstance();
      const server = instance;
      let attempts = 0;
      let tokens = 0;
      const token = (): string => `token-${++tokens}`;
      const closes: TransportCloseEvent[] = [];
      transport = new ReconnectingTransport(() => {
        attempts++;
        return wire === "ws" ? new WebSocketTransport(server.wsUrl, { token }) : new HttpSseTransport(server.httpUrl, { token });
      }, options);
      transport.onClose((e) => closes.push(e));
      await transport.connect(() => undefined);
      return { server, transport, closes, attempts: () => attempts, tokens: () => tokens };
    }

    it("4003 asks for a token once more, and stops for good when that connection is closed with 4003 too", async () => {
      const { server, transport, closes, attempts, tokens } = await open({ backoff: { initialDelay: 10 } });
      server.closeOnConnect = { code: 4003, reason: "token revoked" };
      server.closeAll(4003, "token revoked");
      await waitUntil(() => closes.length === 1, "the final close", 10_000);
      expect(attempts()).toBe(2);
      expect(tokens()).toBe(2);
      expect(closes[0]).toMatchObject({ code: 4003, reason: "token revoked", local: false });
      expect(closes[0]?.error).toBeInstanceOf(ReconnectingTransportError);
      expect(closes[0]?.error?.message).toMatch(/token function/);
      expect(transport.status).toMatchObject({ state: "closed", lastCloseCode: 4003 });
    });

    it("4009 (superseded) stops at once and says another tab holds the clientId", async () => {
      const { server, transport, closes, attempts } = await open({ backoff: { initialDelay: 10 } });
      server.closeAll(4009, "a newer connection of this client joined one of its documents");
      await waitUntil(() => closes.length === 1, "the final close", 10_000);
      expect(attempts()).toBe(1);
      expect(closes[0]).toMatchObject({ code: 4009, local: false });
      expect(closes[0]?.error?.message).toMatch(/clientId/);
      expect(transport.status).toMatchObject({ state: "closed", lastCloseCode: 4009 });
    });

    it("4001 retries notFoundRetries times, then gives up", async () => {
      const { server, transport, closes, attempts } = await open({
        backoff: { initialDelay: 20, maxDelay: 100 },
      });
      server.closeOnConnect = { code: 4001, reason: "no such document" };
      server.closeAll(4001, "no such document");
      await waitUntil(() => closes.length === 1, "the final close", 10_000);
      // The first connection, then 3 retries (the default notFoundRetries), each closed with 4001.
      expect(attempts()).toBe(4);
      expect(closes[0]).toMatchObject({ code: 4001, reason: "no such document" });
      expect(closes[0]?.error?.message).toMatch(/notFoundRetries/);
      expect(transport.status.state).toBe("closed");
    });

    it("1001 reconnects at once, without waiting for the backoff", async () => {
      const { server, transport, closes, attempts } = await open({
        // A backoff this long would fail the test's wait: only the 1001 rule can reconnect in time.
        backoff: { initialDelay: 600_000, maxDelay: 600_000 },
      });
      const statuses: string[] = [];
      transport.onStatus((s) => statuses.push(s.state));
      server.closeAll(1001, "server going away");
      await waitUntil(() => attempts() === 2 && transport.status.state === "open", "the reconnection", 5_000);
      expect(statuses).toContain("reconnecting");
      expect(transport.status.lastCloseCode).toBe(1001);
      expect(closes).toEqual([]);
    });
  });
}
