import type { TransportCloseEvent } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import { Hub } from "./hub.js";
import { createInProcessTransport } from "./in-process-transport.js";
import { MemoryBackend } from "./memory-backend.js";
import { Server } from "./server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function hub(): Promise<{ hub: Hub; backend: MemoryBackend }> {
  const backend = new MemoryBackend();
  await backend.createDocument("doc", "text", "hi");
  const h = new Hub({ server: new Server(backend) });
  closers.push(() => h.close());
  return { hub: h, backend };
}

describe("createInProcessTransport", () => {
  it("carries messages both ways, asynchronously and in order, as copies", async () => {
    const { hub: h } = await hub();
    const transport = createInProcessTransport(h);
    const got: unknown[] = [];
    await transport.connect((m) => got.push(m));
    const ping = { type: "ping", t: 1 };
    const sends = [transport.send(ping), transport.send({ type: "join", docId: "doc" }), transport.send({ type: "ping", t: 2 })];
    ping.t = 99; // a copy was taken at send()
    expect(got).toEqual([]); // nothing is delivered synchronously
    await Promise.all(sends);
    await waitUntil(() => got.length === 3, "three answers");
    expect(got).toEqual([
      { type: "pong", t: 1 },
      { type: "pong", t: 2 },
      { type: "snapshot", docId: "doc", revision: 0, data: "hi", docType: "text", epoch: expect.any(String) },
    ]);
  });

  it("unwraps batches into single deliveries", async () => {
    const { hub: h } = await hub();
    const transport = createInProcessTransport(h, { batch: true });
    const got: unknown[] = [];
    await transport.connect((m) => got.push(m));
    await transport.send([
      { type: "ping", t: 1 },
      { type: "ping", t: 2 },
    ]);
    await waitUntil(() => got.length === 2, "two pongs");
    expect(got).toEqual([
      { type: "pong", t: 1 },
      { type: "pong", t: 2 },
    ]);
  });

  it("simulateDrop ends the connection with 1006, loses what was in flight, and allows a new connect", async () => {
    const { hub: h } = await hub();
    const transport = createInProcessTransport(h);
    const events: TransportCloseEvent[] = [];
    transport.onClose((e) => events.push(e));
    const got: unknown[] = [];
    await transport.connect((m) => got.push(m));
    await transport.send({ type: "ping", t: 1 });
    transport.simulateDrop();
    expect(events).toEqual([{ code: 1006, reason: "connection dropped (simulated)", local: false }]);
    expect(h.sessionCount).toBe(0);
    await expect(transport.send({ type: "ping" })).rejects.toThrow(/not connected/);
    await transport.connect((m) => got.push(m));
    await transport.send({ type: "ping", t: 2 });
    await waitUntil(() => got.length >= 1, "the pong on the new connection");
    expect(got).toEqual([{ type: "pong", t: 2 }]);
  });

  it("reports a server-side close with its code, and disconnect() as local 1000", async () => {
    const { hub: h } = await hub();
    const first = createInProcessTransport(h);
    const second = createInProcessTransport(h);
    const events: TransportCloseEvent[] = [];
    first.onClose((e) => events.push(e));
    second.onClose((e) => events.push(e));
    await first.connect(() => undefined);
    await second.connect(() => undefined);
    await second.disconnect();
    await second.disconnect();
    await h.close();
    await waitUntil(() => events.length === 2, "both close events");
    expect(events).toEqual([
      { code: 1000, reason: "", local: true },
      { code: 1001, reason: "server shutting down", local: false },
    ]);
  });

  it("fails loudly on misuse", async () => {
    const { hub: h } = await hub();
    const transport = createInProcessTransport(h);
    await expect(transport.send({ type: "ping" })).rejects.toThrow(/not connected/);
    await transport.connect(() => undefined);
    await expect(transport.connect(() => undefined)).rejects.toThrow(/already connected/);
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    await expect(transport.send(cyclic)).rejects.toThrow(/JSON/);
  });
});
