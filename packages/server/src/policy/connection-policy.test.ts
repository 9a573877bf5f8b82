import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionPolicy, type PolicyConnection } from "./connection-policy.js";

/** The parts of a request the policy reads (the bindings' tests use real requests). */
function request(address = "198.51.100.7", headers: Record<string, string> = {}): IncomingMessage {
  const rawHeaders = Object.entries(headers).flat();
  return { url: "/ws", headers, rawHeaders, socket: { remoteAddress: address } } as unknown as IncomingMessage;
}

function connection(): PolicyConnection & { closed: Array<[number, string]> } {
  const closed: Array<[number, string]> = [];
  return { closed, close: (code, reason) => closed.push([code, reason]) };
}

const noCredentials = { token: undefined, origin: undefined };

afterEach(() => {
  vi.useRealTimers();
});

describe("ConnectionPolicy", () => {
  it("counts connections per address, open and being admitted, and forgets an address once it has none", async () => {
    const policy = new ConnectionPolicy({ maxConnectionsPerAddress: 2 });
    const a = await policy.admit(request(), noCredentials);
    const b = await policy.admit(request(), noCredentials);
    if (!a.ok || !b.ok) throw new Error("expected admissions");
    const refused = await policy.admit(request(), noCredentials);
    expect(refused).toMatchObject({ ok: false, refusal: { status: 429, closeCode: 4029 } });
    expect((await policy.admit(request("198.51.100.8"), noCredentials)).ok).toBe(true);
    const release = a.admission.open(connection());
    b.admission.abandon();
    expect(policy.connectionsFrom("198.51.100.7")).toBe(1);
    release();
    release();
    expect(policy.connectionsFrom("198.51.100.7")).toBe(0);
    expect(policy.connectionCount).toBe(1);
  });

  it("caps connections in all", async () => {
    const policy = new ConnectionPolicy({ maxConnections: 1 });
    expect((await policy.admit(request("192.0.2.1"), noCredentials)).ok).toBe(true);
    expect(await policy.admit(request("192.0.2.2"), noCredentials)).toMatchObject({ ok: false, refusal: { status: 503 } });
  });

  it("bounds requests and head bytes per address while their tokens are checked", async () => {
    let finish!: (ok: boolean) => void;
    const slow = new Promise<boolean>((resolve) => (finish = resolve));
    const policy = new ConnectionPolicy({ verifyToken: () => slow, maxPendingPerAddress: 2 });
    const first = policy.admit(request(), { token: "t", origin: undefined });
    const second = policy.authorize(request(), "t");
    expect(await policy.authorize(request(), "t")).toMatchObject({ ok: false, refusal: { status: 429 } });
    finish(true);
    expect((await first).ok).toBe(true);
    expect((await second).ok).toBe(true);

    const byBytes = new ConnectionPolicy({ verifyToken: () => slow, maxPendingBytesPerAddress: 100 });
    expect(await byBytes.authorize(request(undefined, { "x-big": "x".repeat(200) }), "t")).toMatchObject({
      ok: false,
      refusal: { status: 429 },
    });
  });

  it("reads the origin list, with requests without Origin allowed", async () => {
    const policy = new ConnectionPolicy({ allowedOrigins: ["https://app.example"] });
    expect((await policy.admit(request(), { token: undefined, origin: "https://app.example" })).ok).toBe(true);
    expect((await policy.admit(request(), noCredentials)).ok).toBe(true);
    expect(await policy.admit(request(), { token: undefined, origin: "https://evil.example" })).toMatchObject({
      ok: false,
      refusal: { status: 403, closeCode: 1008 },
    });
  });

  it("maps every verifyToken answer to a refusal or a grant", async () => {
    const verdicts: Record<string, unknown> = {
      yes: true,
      no: false,
      grant: { principal: "alice", expiresAt: Date.now() + 60_000 },
      expired: { principal: "alice", expiresAt: new Date(Date.now() - 1) },
      malformed: { principal: 42 },
    };
    const policy = new ConnectionPolicy({
      verifyToken: (token) => {
        if (token === "throws") throw new Error("boom");
        return verdicts[token] as boolean;
      },
    });
    const admit = (token: string | undefined) => policy.admit(request(), { token, origin: undefined });
    expect(await admit(undefined)).toMatchObject({ ok: false, refusal: { status: 401, closeCode: 4003 } });
    expect(await admit("no")).toMatchObject({ ok: false, refusal: { status: 401, code: "unauthorized" } });
    expect(await admit("expired")).toMatchObject({ ok: false, refusal: { status: 401, message: expect.stringMatching(/expired/) } });
    expect(await admit("throws")).toMatchObject({ ok: false, refusal: { status: 500 } });
    expect(await admit("malformed")).toMatchObject({ ok: false, refusal: { status: 500 } });
    expect(await admit("yes")).toMatchObject({ ok: true, admission: { principal: undefined } });
    expect(await admit("grant")).toMatchObject({ ok: true, admission: { principal: "alice" } });
  });

  it("answers 503 when verifyToken does not settle within authTimeoutMs", async () => {
    vi.useFakeTimers();
    const policy = new ConnectionPolicy({ verifyToken: () => new Promise<boolean>(() => undefined), authTimeoutMs: 1000 });
    const pending = policy.admit(request(), { token: "t", origin: undefined });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await pending).toMatchObject({ ok: false, refusal: { status: 503, code: "unavailable" } });
    expect(policy.connectionsFrom("198.51.100.7")).toBe(0);
  });

  it("closes a connection with 4003 when its token expires", async () => {
    vi.useFakeTimers();
    const policy = new ConnectionPolicy({ verifyToken: () => ({ principal: "alice", expiresAt: Date.now() + 5_000 }) });
    const result = await policy.admit(request(), { token: "t", origin: undefined });
    if (!result.ok) throw new Error("expected an admission");
    const conn = connection();
    result.admission.open(conn);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(conn.closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(conn.closed).toEqual([[4003, "token expired: connect again with a new token"]]);
  });

  it("revokes every open connection of a principal, and only those", async () => {
    const policy = new ConnectionPolicy({ verifyToken: (token) => ({ principal: token }) });
    const open = async (principal: string) => {
      const result = await policy.admit(request(), { token: principal, origin: undefined });
      if (!result.ok) throw new Error("expected an admission");
      const conn = connection();
      return { conn, release: result.admission.open(conn) };
    };
    const [a1, a2, b] = [await open("alice"), await open("alice"), await open("bob")];
    a2.release();
    expect(policy.revoke("alice", "fired")).toBe(1);
    expect(a1.conn.closed).toEqual([[4003, "fired"]]);
    expect(a2.conn.closed).toEqual([]);
    expect(b.conn.closed).toEqual([]);
    expect(policy.revoke("nobody")).toBe(0);
  });
});
