// An editing client for the real-network tests: an OTClient over a ReconnectingTransport over
// WebSocket or SSE, inserting unique markers, and recording what it receives so that a test can
// check order and exactly-once afterwards.
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp, type TransportAdapter, type TransportCloseEvent } from "@open-ot/core";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { ReconnectingTransport, type ReconnectingTransportOptions } from "../../src/index.js";

export type Wire = "ws" | "sse";

/** What one inner connection received for the document, in order. */
export interface ConnectionLog {
  readonly wire: Wire;
  readonly messages: Array<{ type: string; revision?: number }>;
}

/** Passes everything through, logging every inbound message of one connection. */
class RecordingTransport implements TransportAdapter {
  constructor(
    private readonly inner: TransportAdapter,
    private readonly log: ConnectionLog,
  ) {}
  connect(onReceive: (message: unknown) => void): Promise<void> {
    return this.inner.connect((message) => {
      const m = message as { type?: unknown; revision?: unknown };
      if (typeof m.type === "string") {
        this.log.messages.push(typeof m.revision === "number" ? { type: m.type, revision: m.revision } : { type: m.type });
      }
      onReceive(message);
    });
  }
  send(message: unknown): Promise<void> {
    return this.inner.send(message);
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }
  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    return this.inner.onClose?.(listener) ?? (() => undefined);
  }
}

export interface EditorOptions {
  readonly name: string;
  readonly wire: Wire;
  /** Where to connect; read on every attempt (the port may change through a proxy). */
  readonly baseUrl: () => string;
  readonly docId: string;
  readonly random: () => number;
  readonly transport?: ReconnectingTransportOptions;
}

export class Editor {
  readonly transport: ReconnectingTransport;
  readonly client: OTClient<string, TextOp>;
  readonly connections: ConnectionLog[] = [];
  /** Markers inserted, in order. */
  readonly markers: string[] = [];
  /** Revisions the client reported through events, with the snapshots that reset the count. */
  readonly clientEvents: Array<{ kind: "snapshot" | "ack" | "remoteOp"; revision: number }> = [];
  /** What the client reported going wrong, for the failure message of a test. */
  readonly incidents: string[] = [];
  #editing: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly options: EditorOptions) {
    this.transport = new ReconnectingTransport(() => {
      const log: ConnectionLog = { wire: options.wire, messages: [] };
      this.connections.push(log);
      const inner =
        options.wire === "ws"
          ? new WebSocketTransport(`${options.baseUrl().replace(/^http/, "ws")}/ws`, { connectTimeoutMs: 3_000, closeTimeoutMs: 200 })
          : new HttpSseTransport(options.baseUrl(), { connectTimeout: 3_000 });
      return new RecordingTransport(inner, log);
    }, options.transport);
    this.client = new OTClient<string, TextOp>({ type: TextType, transport: this.transport, docId: options.docId });
    this.client.on("snapshot", ({ revision }) => this.clientEvents.push({ kind: "snapshot", revision }));
    this.client.on("ack", ({ revision }) => this.clientEvents.push({ kind: "ack", revision }));
    this.client.on("remoteOp", ({ revision }) => this.clientEvents.push({ kind: "remoteOp", revision }));
    this.client.on("resync", (e) =>
      this.incidents.push(
        `resync ${e.reason} ${e.previousRevision}->${e.revision} committed=${e.pendingCommitted} dropped=${JSON.stringify(e.dropped)} ${e.error?.message ?? ""}`,
      ),
    );
    this.client.on("error", (e) => this.incidents.push(`error ${e.code}: ${e.message}`));
  }

  /** Insert one new marker at a random place of the local view. */
  edit(): void {
    if (!this.client.hasDocument) return;
    const text = this.client.snapshot;
    const at = Math.floor(this.options.random() * (text.length + 1));
    // Never inside another marker, so that every marker stays readable in the final text.
    const boundary = at === 0 ? 0 : text.lastIndexOf(">", at - 1) + 1;
    const inMarker = at > 0 && text.lastIndexOf("<", at - 1) >= boundary;
    const position = inMarker ? text.indexOf(">", at) + 1 : at;
    const marker = `<${this.options.name}:${this.markers.length}>`;
    this.markers.push(marker);
    this.client.submit(position > 0 ? [{ r: position }, { i: marker }] : [{ i: marker }]);
  }

  /** Edit every 10 to 60 ms until `stopEditing()` or `maxEdits` markers. */
  startEditing(maxEdits: number): void {
    const next = (): void => {
      this.#editing = setTimeout(() => {
        if (this.markers.length >= maxEdits) return;
        this.edit();
        next();
      }, 10 + Math.floor(this.options.random() * 50));
    };
    next();
  }

  stopEditing(): void {
    clearTimeout(this.#editing);
    this.#editing = undefined;
  }

  /** Revision-order violations in what each connection received (protocol guarantee 1). */
  wireViolations(): string[] {
    const problems: string[] = [];
    this.connections.forEach((log, index) => {
      let last: number | undefined;
      for (const m of log.messages) {
        if (m.type === "snapshot" || m.type === "joined") last = m.revision;
        else if (m.type === "ack" || m.type === "op") {
          if (last === undefined) problems.push(`${this.options.name} connection ${index}: ${m.type} ${m.revision} before any snapshot/joined`);
          else if (m.revision !== last + 1) problems.push(`${this.options.name} connection ${index}: ${m.type} ${m.revision} after ${last}`);
          last = m.revision;
        }
      }
    });
    return problems;
  }

  /** Revisions the client itself reported twice or skipped. */
  clientViolations(): string[] {
    const problems: string[] = [];
    let last: number | undefined;
    for (const e of this.clientEvents) {
      if (e.kind === "snapshot") last = e.revision;
      else {
        if (last === undefined || e.revision !== last + 1) problems.push(`${this.options.name}: ${e.kind} ${e.revision} after ${String(last)}`);
        last = e.revision;
      }
    }
    return problems;
  }
}
