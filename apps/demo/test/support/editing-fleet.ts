import { OTClient, type RestoredEvent } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { waitUntil } from "@open-ot/harness";
import type { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { expect } from "vitest";
import { createEditorTransport } from "../../src/browser/editor-transport.js";
import type { TransportKind } from "../../src/browser/page-params.js";
import { ServerRotation } from "../../src/browser/server-rotation.js";

/** One editor of a {@link EditingFleet}: the product's OTClient over the reconnecting wrapper over WebSocket or SSE. */
export interface FleetClient {
  readonly label: string;
  readonly kind: TransportKind;
  readonly client: OTClient<string, TextOp>;
  readonly transport: ReconnectingTransport;
  /** Every token this client typed, each once. */
  readonly tokens: string[];
  /** How each lost document came back to this client. */
  readonly restored: RestoredEvent[];
  /** Every state the client went through, in order (for failure messages). */
  readonly states: string[];
  /** Every error the client reported, in order (for failure messages). */
  readonly errors: string[];
}

/** Short delays for tests: clients retry within a second, transports reconnect within one. */
const RETRY = { initialDelay: 100, maxDelay: 1_000 };
const RECONNECT = {
  backoff: { initialDelay: 100, maxDelay: 1_000 },
  connectTimeout: 3_000,
  heartbeat: { interval: 1_000, timeout: 2_000 },
  browserEvents: false,
} as const;

/**
 * Several people editing one document, each typing unique tokens (`<label.n>`), so that the end
 * state can be checked: every client's text equal to the server's, every token present exactly
 * once, every client live and synced (none left refused, waiting or lost).
 */
export class EditingFleet {
  readonly clients: FleetClient[] = [];
  #typed = 0;

  constructor(readonly docId: string) {}

  /** Add a client that uses `servers` in turn (see ServerRotation) over `kind`, and connect it. */
  async add(label: string, servers: readonly string[], kind: TransportKind): Promise<FleetClient> {
    const transport = createEditorTransport({ rotation: new ServerRotation(servers), kind, reconnect: RECONNECT });
    const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: this.docId, retry: RETRY });
    const member: FleetClient = { label, kind, client, transport, tokens: [], restored: [], states: [], errors: [] };
    client.on("restored", (event) => member.restored.push(event));
    client.on("error", (error) => member.errors.push(`[${member.states.at(-1) ?? ""}] ${error.code}: ${error.message}`));
    client.on("status", (status) => {
      if (member.states.at(-1) !== status.state) member.states.push(status.state);
    });
    this.clients.push(member);
    await client.connect();
    return member;
  }

  /** Each client inserts `count` new tokens at places of its choosing (start, middle, end), whatever its state. */
  type(count = 1): void {
    for (const member of this.clients) {
      for (let k = 0; k < count; k++) {
        const token = `<${member.label}.${member.tokens.length}>`;
        const text = member.client.snapshot;
        const at = [0, text.indexOf(">") + 1, text.length][this.#typed++ % 3]!;
        member.client.submit([{ r: at }, { i: token }]);
        member.tokens.push(token);
      }
    }
  }

  /**
   * Wait until every client is live, synced, and holds `serverText()` (read from the server's
   * store), then check that every token typed is in it exactly once.
   */
  async converged(serverText: () => Promise<string>, what: string, timeoutMs = 30_000): Promise<string> {
    let text = "";
    try {
      await waitUntil(
        async () => {
          if (!this.clients.every(({ client }) => client.connectionState === "live" && client.synced)) return false;
          text = await serverText();
          return this.clients.every(({ client }) => client.snapshot === text);
        },
        what,
        timeoutMs,
        50,
      );
    } catch (error) {
      const states = this.clients.map(
        (m) =>
          `${m.label} (${m.kind}): ${m.client.connectionState}, synced ${m.client.synced}, went ${m.states.join(" > ")}\n  ${m.errors.join("\n  ")}`,
      );
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${states.join("\n")}`, { cause: error });
    }
    for (const member of this.clients) {
      expect(member.client.status.state, `${member.label} is live`).toBe("live");
      for (const token of member.tokens) expect(text.split(token).length - 1, `${token} once in the document (${what})`).toBe(1);
    }
    return text;
  }

  /** Wait until every client is live and synced with the same text (before a fault, so every copy holds everything). */
  async quiet(what = "every client synced"): Promise<void> {
    await waitUntil(
      () => {
        const [first] = this.clients;
        return this.clients.every(
          ({ client }) =>
            client.connectionState === "live" &&
            client.synced &&
            client.snapshot === first?.client.snapshot &&
            client.revision === first.client.revision,
        );
      },
      what,
      15_000,
      20,
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map(({ client }) => client.disconnect()));
  }
}

/** The document's text as a fresh client joining it sees it (for a server without a store to read). */
export async function textSeenByNewcomer(server: string, docId: string): Promise<string> {
  const transport = createEditorTransport({ rotation: new ServerRotation([server]), kind: "ws", reconnect: RECONNECT });
  const client = new OTClient<string, TextOp>({ type: TextType, transport, docId });
  try {
    await client.connect();
    return client.snapshot;
  } finally {
    await client.disconnect();
  }
}
