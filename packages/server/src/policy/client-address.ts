import type { IncomingHttpHeaders } from "node:http";
import { BlockList, isIP } from "node:net";
import { checkNumberOption } from "@open-ot/core";

/**
 * Which peers may tell the server who the client is, through `Forwarded` (RFC 7239) or
 * `X-Forwarded-For`:
 *
 * - `false`: nobody; the client address is the socket's peer (the safe choice without a proxy).
 * - a number `n`: the `n` hops nearest the server are proxies (`1`: one load balancer in front).
 * - a list of addresses and CIDR ranges (`"10.0.0.0/8"`, `"::1"`), plus the names `"loopback"`,
 *   `"linklocal"` and `"uniquelocal"` for those ranges: hops from these addresses are proxies.
 * - a predicate `(address, hop)`, hop 0 being the socket's peer.
 * - `true`: every hop; the leftmost forwarded address wins. Anyone can then choose the address
 *   the server sees, and with it escape per-address limits: use it only behind a proxy that
 *   overwrites the header.
 */
export type TrustProxy = boolean | number | readonly string[] | ((address: string, hop: number) => boolean);

/** What the address of a connection is read from. */
export interface AddressSource {
  /** The socket's peer address (`req.socket.remoteAddress`). */
  readonly socketAddress: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** Reads the client address of requests under one {@link TrustProxy} setting. */
export type ClientAddressResolver = (source: AddressSource) => string;

const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** The address used when the socket has none (it was already closed). */
export const UNKNOWN_ADDRESS = "unknown";

/**
 * Build the resolver for `trust`. The chain of addresses is the socket's peer followed by the
 * forwarded ones from right to left (each proxy appends the peer it saw); the client is the
 * first address in that chain that is not a trusted proxy. A forwarded entry that is not an IP
 * address (`unknown`, an obfuscated name) ends the walk at the proxy that sent it.
 *
 * @throws TypeError for a malformed address or range in a list; RangeError for a hop count that
 * is not a whole number of at least 0.
 */
export function createClientAddressResolver(trust: TrustProxy = false): ClientAddressResolver {
  const trusted = trustPredicate(trust);
  return ({ socketAddress, headers }) => {
    let address = normalizeAddress(socketAddress);
    if (address === undefined) return UNKNOWN_ADDRESS;
    if (trust === false) return address;
    const forwarded = forwardedChain(headers);
    for (let hop = 0; hop < forwarded.length && trusted(address, hop); hop++) {
      const next = normalizeAddress(forwarded[forwarded.length - 1 - hop]);
      if (next === undefined) break;
      address = next;
    }
    return address;
  };
}

/**
 * The key per-address limits count under: an IPv4 address itself, the /64 network of an IPv6
 * address (one subscriber usually holds a whole /64, so counting single addresses would let
 * it open 2^64 times the limit).
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return groups === undefined ? address : `${groups.slice(0, 4).join(":")}::/64`;
}

function trustPredicate(trust: TrustProxy): (address: string, hop: number) => boolean {
  if (typeof trust === "boolean") return () => trust;
  if (typeof trust === "number") {
    checkNumberOption("trustProxy", "a hop count", trust, { min: 0, integer: true });
    return (_address, hop) => hop < trust;
  }
  if (typeof trust === "function") {
    return (address, hop) => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- a JavaScript caller's function may return anything
        return trust(address, hop) === true;
      } catch {
        return false;
      }
    };
  }
  const list = new BlockList();
  for (const entry of trust) {
    for (const range of NAMED_RANGES[entry] ?? [entry]) addRange(list, range);
  }
  return (address) => list.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

function addRange(list: BlockList, range: string): void {
  const [network = "", prefixText] = range.split("/");
  const family = isIP(network);
  if (family === 0)
    throw new TypeError(`trustProxy: "${range}" is not an IP address or CIDR range (nor loopback, linklocal, uniquelocal).`);
  const type = family === 6 ? "ipv6" : "ipv4";
  if (prefixText === undefined) {
    list.addAddress(network, type);
    return;
  }
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 6 ? 128 : 32)) {
    throw new TypeError(`trustProxy: "${range}" has an invalid prefix length.`);
  }
  list.addSubnet(network, prefix, type);
}

/** The forwarded addresses, left (client side) to right (nearest proxy): `Forwarded` when present, else `X-Forwarded-For`. */
function forwardedChain(headers: IncomingHttpHeaders): string[] {
  const forwarded = joinHeader(headers["forwarded"]);
  if (forwarded !== undefined) {
    const chain: string[] = [];
    for (const element of splitOutsideQuotes(forwarded, ",")) {
      let value = "";
      for (const pair of splitOutsideQuotes(element, ";")) {
        const eq = pair.indexOf("=");
        if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === "for") value = unquote(pair.slice(eq + 1).trim());
      }
      chain.push(value);
    }
    return chain;
  }
  const xff = joinHeader(headers["x-forwarded-for"]);
  return xff === undefined ? [] : xff.split(",").map((part) => part.trim());
}

function joinHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(",") : value;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\\" && quoted) i++;
    else if (c === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value;
}

/**
 * An IP address in canonical form, or `undefined` if `value` holds none. Accepts what
 * forwarding headers carry: `[v6]:port`, `v4:port`, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`),
 * which becomes the IPv4 address.
 */
export function normalizeAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let text = value.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracket?.[1] !== undefined) text = bracket[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(":"));
  const zone = text.indexOf("%");
  if (zone >= 0 && isIP(text.slice(0, zone)) === 6) text = text.slice(0, zone);
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(text);
  if (mapped?.[1] !== undefined) return mapped[1];
  return text.toLowerCase();
}

/** The eight 16-bit groups of an IPv6 address, each in lower-case hex without leading zeros. */
function expandIpv6(address: string): string[] | undefined {
  let text = address;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...left, ...new Array<string>(missing).fill("0"), ...right];
  return groups.map((group) => Number.parseInt(group, 16).toString(16));
}
