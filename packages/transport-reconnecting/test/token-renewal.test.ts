// Tokens that expire, against real bindings whose verifyToken the test controls: the transports
// ask their token function on every attempt, and the wrapper asks once more after a 4003.
import type { TransportCloseEvent } from "@open-ot/core";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterEach, describe, expect, it } from "vitest";
import { ReconnectingTransport, ReconnectingTransportError } from "../src/index.js";
import { waitUntil } from "@open-ot/harness";
import { startServerInstance, type ServerInstance } from "./support/server-instance.js";

for (const wire of ["ws", "sse"] as const) {
  describe(`token renewal over ${wire}`, () => {
    let instance: ServerInstance | undefined;
    let transport: ReconnectingTransport | undefined;

    afterEach(async () => {
      await transport?.disconnect();
      await instance?.stop();
    });

    /**
     * A server that accepts the tokens in `valid`, and a client whose token function hands out
     * `t1`, `t2`, ... (async, as a call to a token service would be), running `issue` on each.
     */
    async function open(issue: (token: string) => void = () => undefined) {
      const valid = new Set<string>();
      const verified: string[] = [];
      instance = await startServerInstance({
        verifyToken: (token) => {
          verified.push(token);
          return valid.has(token);
        },
      });
      const server = instance;
      const asked: string[] = [];
      let failNext = false;
      const token = async (): Promise<string> => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (failNext) {
          failNext = false;
          throw new Error("token service unavailable");
        }
        const next = `t${asked.length + 1}`;
        asked.push(next);
        issue(next);
        return next;
      };
      valid.add("t1");
      const closes: TransportCloseEvent[] = [];
      const pongs: unknown[] = [];
      transport = new ReconnectingTransport(
        () => (wire === "ws" ? new WebSocketTransport(server.wsUrl, { token }) : new HttpSseTransport(server.httpUrl, { token })),
        { backoff: { initialDelay: 10, maxDelay: 50 } },
      );
      transport.onClose((event) => closes.push(event));
      await transport.connect((message) => {
        if ((message as { type?: unknown }).type === "pong") pongs.push(message);
      });
      return { server, transport, valid, verified, asked, closes, pongs, failTokenOnce: () => (failNext = true) };
    }

    it("comes back with a fresh token after the server closes with 4003 (expired), and works on", async () => {
      let valid: Set<string> | undefined;
      const ctx = await open((token) => valid?.add(token));
      valid = ctx.valid;
      expect(ctx.asked).toEqual(["t1"]);
      ctx.valid.delete("t1");
      ctx.server.closeAll(4003, "token expired");
      await waitUntil(() => ctx.asked.length === 2 && ctx.transport.status.state === "open", "the reconnection with t2", 10_000);
      expect(ctx.verified.at(-1)).toBe("t2");
      await ctx.transport.send({ type: "ping", t: "after renewal" });
      await waitUntil(() => ctx.pongs.length === 1, "the pong on the renewed connection", 10_000);
      expect(ctx.closes).toEqual([]);
    });

    it("stops after the renewed token is refused too (HTTP 401 -> 4003), having asked exactly once more", async () => {
      // The token service keeps issuing tokens the server does not accept (the user was revoked).
      const ctx = await open();
      ctx.valid.delete("t1");
      ctx.server.closeAll(4003, "token revoked");
      await waitUntil(() => ctx.closes.length === 1, "the final stop", 10_000);
      expect(ctx.asked).toEqual(["t1", "t2"]);
      expect(ctx.verified).toEqual(["t1", "t2"]);
      expect(ctx.closes[0]?.code).toBe(4003);
      expect(ctx.closes[0]?.error).toBeInstanceOf(ReconnectingTransportError);
      expect(ctx.transport.status.state).toBe("closed");
    });

    it("retries with backoff when the token function fails (a token service that is down), then connects", async () => {
      let valid: Set<string> | undefined;
      const ctx = await open((token) => valid?.add(token));
      valid = ctx.valid;
      ctx.failTokenOnce();
      ctx.server.closeAll(1011, "internal error");
      await waitUntil(
        () => ctx.asked.length === 2 && ctx.transport.status.state === "open",
        "the reconnection after the failed token call",
        10_000,
      );
      expect(ctx.verified.at(-1)).toBe("t2");
      expect(ctx.closes).toEqual([]);
    });
  });
}
