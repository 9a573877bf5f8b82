/**
 * The servers a page may use, in order, and the one it uses now. The reconnecting transport's
 * factory asks for a server on every attempt; the first attempt gets the first server and
 * every later one (which only happens after a drop or a failed attempt) the next, so a client
 * given two instances moves to the other one when its instance stops.
 */
export class ServerRotation {
  readonly servers: readonly string[];
  /** Index of the server in use; -1 before the first attempt. */
  #index = -1;

  /** @param servers base URLs (`http://host:port`), at least one; kept in this order */
  constructor(servers: readonly string[]) {
    if (servers.length === 0) throw new RangeError("ServerRotation: give at least one server URL.");
    this.servers = [...servers];
  }

  /** The server of the current (or last) attempt; the first server before any. */
  get current(): string {
    return this.servers[Math.max(this.#index, 0)] as string;
  }

  /** The server for a new attempt: the first one first, then each next one in turn, wrapping around. */
  next(): string {
    this.#index = (this.#index + 1) % this.servers.length;
    return this.servers[this.#index] as string;
  }
}
