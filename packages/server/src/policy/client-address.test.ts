import { describe, expect, it } from "vitest";
import { addressKey, createClientAddressResolver, normalizeAddress } from "./client-address.js";

const request = (socketAddress: string | undefined, headers: Record<string, string> = {}) => ({ socketAddress, headers });

describe("client address", () => {
  it("is the socket's peer when no proxy is trusted, whatever the headers say", () => {
    const resolve = createClientAddressResolver(false);
    expect(resolve(request("203.0.113.9", { "x-forwarded-for": "1.2.3.4" }))).toBe("203.0.113.9");
    expect(resolve(request("::ffff:10.0.0.1"))).toBe("10.0.0.1");
    expect(resolve(request(undefined))).toBe("unknown");
  });

  it("walks X-Forwarded-For from the right while the hop is a trusted proxy", () => {
    const resolve = createClientAddressResolver(["10.0.0.0/8"]);
    // The client forged the first entry; the proxy at 10.0.0.2 appended the real peer.
    const headers = { "x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.3" };
    expect(resolve(request("10.0.0.2", headers))).toBe("198.51.100.7");
    // Not from a trusted proxy: the header is ignored.
    expect(resolve(request("198.51.100.8", headers))).toBe("198.51.100.8");
  });

  it("trusts a number of hops", () => {
    const headers = { "x-forwarded-for": "6.6.6.6, 198.51.100.7" };
    expect(createClientAddressResolver(1)(request("10.0.0.2", headers))).toBe("198.51.100.7");
    expect(createClientAddressResolver(2)(request("10.0.0.2", headers))).toBe("6.6.6.6");
    expect(createClientAddressResolver(0)(request("10.0.0.2", headers))).toBe("10.0.0.2");
  });

  it("prefers Forwarded (RFC 7239), with quoted IPv6 and ports", () => {
    const resolve = createClientAddressResolver(["loopback"]);
    const headers = { forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"', "x-forwarded-for": "9.9.9.9" };
    expect(resolve(request("127.0.0.1", headers))).toBe("2001:db8:cafe::17");
    expect(createClientAddressResolver(true)(request("127.0.0.1", headers))).toBe("192.0.2.60");
  });

  it("stops at the proxy when a forwarded entry is not an address", () => {
    const resolve = createClientAddressResolver(true);
    expect(resolve(request("10.0.0.2", { forwarded: "for=unknown" }))).toBe("10.0.0.2");
    expect(resolve(request("10.0.0.2", { "x-forwarded-for": "1.2.3.4:5678" }))).toBe("1.2.3.4");
  });

  it("refuses a malformed trust list", () => {
    expect(() => createClientAddressResolver(["10.0.0.0/33"])).toThrow(TypeError);
    expect(() => createClientAddressResolver(["proxy.local"])).toThrow(TypeError);
    expect(() => createClientAddressResolver(-1)).toThrow(
      new RangeError("trustProxy: a hop count must be an integer of at least 0, got -1."),
    );
    expect(() => createClientAddressResolver(1.5)).toThrow(RangeError);
    expect(() => createClientAddressResolver(Number.NaN)).toThrow(RangeError);
    expect(() => createClientAddressResolver(0)).not.toThrow();
  });

  it("counts an IPv6 address under its /64", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("198.51.100.7")).toBe("198.51.100.7");
    expect(normalizeAddress("[::1]:80")).toBe("::1");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1");
  });
});
