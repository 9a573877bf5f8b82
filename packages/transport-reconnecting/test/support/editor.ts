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
  readonly messages: Array<{ type: string; revision?: number; docId?: string }>;
}

/** Passes everything through, logging every inbound message of one connection. */
export class RecordingTransport implements TransportAdapter {
  constructor(
    private readonly inner: TransportAdapter,
    private readonly log: ConnectionLog,
  ) {}
  connect(onReceive: (message: unknown) => void): Promise<void> {
    return this.inner.connect((message) => {
      const m = message as { type?: unknown; revision?: unknown; docId?: unknown };
      if (typeof m.type === "string") {
        this.log.messages.push({
          type: m.type,
          ...(typeof m.revision === "number" ? { revision: m.revision } : {}),
          ...(typeof m.docId === "string" ? { docId: m.docId } : {}),
        });
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
  readonly clientEvents: ClientEvent[] = [];
  /** What the client reported going wrong, for the failure message of a test. */
  readonly incidents: string[] = [];
  #editing: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly options: EditorOptions) {
    this.transport = new ReconnectingTransport(
      () => recordedTransport(options.wire, options.baseUrl(), this.connections),
      options.transport,
    );
    this.client = new OTClient<string, TextOp>({ type: TextType, transport: this.transport, docId: options.docId });
    recordClient(this.client, this.clientEvents, this.incidents);
  }

  /** Insert one new marker at a random place of the local view. */
  edit(): void {
    insertMarker(this.client, this.options.name, this.markers, this.options.random);
  }

  /** Edit every 10 to 60 ms until `stopEditing()` or `maxEdits` markers. */
  startEditing(maxEdits: number): void {
    const next = (): void => {
      this.#editing = setTimeout(
        () => {
          if (this.markers.length >= maxEdits) return;
          this.edit();
          next();
        },
        10 + Math.floor(this.options.random() * 50),
      );
    };
    next();
  }

  stopEditing(): void {
    clearTimeout(this.#editing);
    this.#editing = undefined;
  }

  /** Revision-order violations in what each connection received (protocol guarantee 1). */
  wireViolations(): string[] {
    return revisionViolations(this.options.name, this.connections);
  }

  /** Revisions the client itself reported twice or skipped. */
  clientViolations(): string[] {
    return eventViolations(this.options.name, this.clientEvents);
  }
}

/** A fresh WebSocket or SSE transport to `baseUrl` whose inbound messages are logged in a new entry of `connections`. */
export function recordedTransport(wire: Wire, baseUrl: string, connections: ConnectionLog[]): TransportAdapter {
  const log: ConnectionLog = { wire, messages: [] };
  connections.push(log);
  const inner =
    wire === "ws"
      ? new WebSocketTransport(`${baseUrl.replace(/^http/, "ws")}/ws`, { connectTimeoutMs: 3_000, closeTimeoutMs: 200 })
      : new HttpSseTransport(baseUrl, { connectTimeout: 3_000 });
  return new RecordingTransport(inner, log);
}

/** What a client reported, in order. */
export type ClientEvent = { kind: "snapshot" | "ack" | "remoteOp"; revision: number };

/** Record `client`'s revisions into `events`, and what went wrong into `incidents`. */
export function recordClient(client: OTClient<string, TextOp>, events: ClientEvent[], incidents: string[]): void {
  client.on("snapshot", ({ revision }) => events.push({ kind: "snapshot", revision }));
  client.on("ack", ({ revision }) => events.push({ kind: "ack", revision }));
  client.on("remoteOp", ({ revision }) => events.push({ kind: "remoteOp", revision }));
  client.on("resync", (e) =>
    incidents.push(
      `resync ${e.reason} ${e.previousRevision}->${e.revision} committed=${e.pendingCommitted} dropped=${JSON.stringify(e.dropped)} ${e.error?.message ?? ""}`,
    ),
  );
  client.on("error", (e) => incidents.push(`error ${e.code}: ${e.message}`));
}

/** Insert one new marker `<name:n>` at a random place of `client`'s view, never inside another marker. */
export function insertMarker(client: OTClient<string, TextOp>, name: string, markers: string[], random: () => number): void {
  if (!client.hasDocument) return;
  const text = client.snapshot;
  const at = Math.floor(random() * (text.length + 1));
  // Never inside another marker, so that every marker stays readable in the final text.
  const boundary = at === 0 ? 0 : text.lastIndexOf(">", at - 1) + 1;
  const inMarker = at > 0 && text.lastIndexOf("<", at - 1) >= boundary;
  const position = inMarker ? text.indexOf(">", at) + 1 : at;
  const marker = `<${name}:${markers.length}>`;
  markers.push(marker);
  client.submit(position > 0 ? [{ r: position }, { i: marker }] : [{ i: marker }]);
}

/**
 * Revision-order violations (protocol guarantee 1) in what each connection received, for one
 * document when `docId` is given (a connection that carries many).
 */
export function revisionViolations(name: string, connections: readonly ConnectionLog[], docId?: string): string[] {
  const problems: string[] = [];
  connections.forEach((log, index) => {
    let last: number | undefined;
    for (const m of log.messages) {
      if (docId !== undefined && m.docId !== docId) continue;
      if (m.type === "snapshot" || m.type === "joined") last = m.revision;
      else if (m.type === "ack" || m.type === "op") {
        if (last === undefined) problems.push(`${name} connection ${index}: ${m.type} ${m.revision} before any snapshot/joined`);
        else if (m.revision !== last + 1) problems.push(`${name} connection ${index}: ${m.type} ${m.revision} after ${last}`);
        last = m.revision;
      }
    }
  });
  return problems;
}

/** Revisions a client reported twice or skipped. */
export function eventViolations(name: string, events: readonly ClientEvent[]): string[] {
  const problems: string[] = [];
  let last: number | undefined;
  for (const e of events) {
    if (e.kind === "snapshot") last = e.revision;
    else {
      if (last === undefined || e.revision !== last + 1) problems.push(`${name}: ${e.kind} ${e.revision} after ${String(last)}`);
      last = e.revision;
    }
  }
  return problems;
}
