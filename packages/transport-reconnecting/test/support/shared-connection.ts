// Many documents over one connection for the real-network tests: an OTConnection over a
// ReconnectingTransport over WebSocket or SSE, one DocumentEditor per open document, each
// recording what it receives so that the checks of the single-document tests apply per document.
import { OTConnection, type OTClient } from "@open-ot/client";
import { TextType, type TextOp, type TransportAdapter } from "@open-ot/core";
import { ReconnectingTransport, type ReconnectingTransportOptions } from "../../src/index.js";
import {
  eventViolations,
  insertMarker,
  recordClient,
  recordedTransport,
  revisionViolations,
  type ClientEvent,
  type ConnectionLog,
  type Wire,
} from "./editor.js";

export interface SharedConnectionOptions {
  readonly name: string;
  readonly wire: Wire;
  readonly baseUrl: () => string;
  readonly random: () => number;
  readonly transport?: ReconnectingTransportOptions;
  /** `false`: the plain transport, without the reconnecting wrapper. @default true */
  readonly reconnecting?: boolean;
}

/** One client's view of one document over a shared connection, as the checks of `convergence.ts` read it. */
export class DocumentEditor {
  readonly markers: string[] = [];
  readonly clientEvents: ClientEvent[] = [];
  readonly incidents: string[] = [];
  readonly options: { readonly name: string };

  constructor(
    readonly owner: SharedConnection,
    readonly docId: string,
    readonly client: OTClient<string, TextOp>,
  ) {
    this.options = { name: `${owner.options.name}/${docId}` };
    // Opened: what the client received so far (its snapshot, maybe ops after it) is in its revision.
    this.clientEvents.push({ kind: "snapshot", revision: client.revision });
    recordClient(client, this.clientEvents, this.incidents);
  }

  /** What the failure message of `waitForConvergence` shows. */
  get transport(): { readonly status: { readonly state: string } } {
    return { status: { state: this.owner.transport?.status.state ?? this.owner.connection.state } };
  }

  edit(): void {
    insertMarker(this.client, this.owner.options.name, this.markers, this.owner.options.random);
  }

  wireViolations(): string[] {
    return revisionViolations(this.options.name, this.owner.connections, this.docId);
  }

  clientViolations(): string[] {
    return eventViolations(this.options.name, this.clientEvents);
  }
}

export class SharedConnection {
  /** The reconnecting wrapper, unless `reconnecting` is false. */
  readonly transport: ReconnectingTransport | undefined;
  readonly connection: OTConnection;
  readonly connections: ConnectionLog[] = [];
  readonly editors = new Map<string, DocumentEditor>();
  #editing: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly options: SharedConnectionOptions) {
    const factory = (): TransportAdapter => recordedTransport(options.wire, options.baseUrl(), this.connections);
    this.transport = options.reconnecting === false ? undefined : new ReconnectingTransport(factory, options.transport);
    this.connection = new OTConnection({ transport: this.transport ?? factory() });
  }

  /** Open `docId` and record it. */
  async open(docId: string): Promise<DocumentEditor> {
    const client = await this.connection.open(docId, { type: TextType });
    const editor = new DocumentEditor(this, docId, client);
    this.editors.set(docId, editor);
    return editor;
  }

  /** Edit a random open document every 2 to 12 ms until `stopEditing()`. */
  startEditing(): void {
    const next = (): void => {
      this.#editing = setTimeout(
        () => {
          const editors = [...this.editors.values()];
          editors[Math.floor(this.options.random() * editors.length)]?.edit();
          next();
        },
        2 + Math.floor(this.options.random() * 10),
      );
    };
    next();
  }

  stopEditing(): void {
    clearTimeout(this.#editing);
    this.#editing = undefined;
  }
}
