import type { ConnectOptions, HubConnection, HubSession, ServerMetrics } from "@open-ot/server";

/** The hub as the binding uses it: `Hub` from @open-ot/server fits this shape. */
export interface HubLike {
  /** Register a connection; the hub sends through `connection` and is fed through the returned session. */
  connect(connection: HubConnection, options?: ConnectOptions): HubSession;
  /** The document root-path connections join when their URL names none. */
  readonly defaultDocId?: string;
  /** Where the hub reports; the binding reports there too unless given its own `metrics`. */
  readonly metrics?: ServerMetrics | undefined;
}
