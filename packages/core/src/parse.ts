import { decodeFrame } from "./decode-frame.js";
import { describeValue, has, isMessageObject, type UntrustedObject } from "./message-fields.js";
import type { ParseResult, ProtocolError } from "./protocol-error.js";
import {
  MAX_AUTHOR_LENGTH,
  isValidAuthor,
  isValidClientId,
  isValidDocId,
  isValidEpoch,
  isValidRevision,
  isValidSeq,
  type ClientMessage,
  type JoinMessage,
  type OpMessage,
  type RestoreCopy,
} from "./protocol.js";
import { readPresenceState, type PresenceMessage } from "./presence.js";

export { errorMessage, type ParseResult, type ProtocolError } from "./protocol-error.js";
export { parseServerFrame, parseServerMessage } from "./parse-server-message.js";

const DOC_ID_RULE = "1 to 256 characters from [A-Za-z0-9._~:-]";
const CLIENT_ID_RULE = "1 to 64 characters from [A-Za-z0-9_-]";
/** Most `seqs` entries a restoring join may carry (one per author the client saw). */
export const MAX_RESTORE_AUTHORS = 10_000;

/** Thrown inside the parser and caught at its edge; never escapes this module. */
class Refusal {
  constructor(readonly error: ProtocolError) {}
}

/**
 * Validates one client message field by field. Shape problems (`bad_message`) are all checked
 * before the revision (`bad_revision`), as docs/protocol.md's check order requires, so when both are
 * wrong `bad_message` answers.
 */
class ClientMessageReader {
  /** Set as soon as the message is known to carry a valid one, so every refusal can name it. */
  private docId: string | undefined;
  private seq: number | undefined;

  constructor(
    private readonly obj: UntrustedObject,
    private readonly type: string,
  ) {}

  refuse(code: ProtocolError["code"], message: string): never {
    const error: ProtocolError = { code, message };
    if (this.docId !== undefined) error.docId = this.docId;
    if (this.seq !== undefined) error.seq = this.seq;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- control flow caught by the parser's own catch, never seen outside
    throw new Refusal(error);
  }

  /**
   * Look ahead at the identifying fields so that a refusal caused by any other field still
   * names the document and the op's seq.
   */
  noteIdentity(): void {
    if (isValidDocId(this.obj["docId"])) this.docId = this.obj["docId"];
    if (this.type === "op" && isValidSeq(this.obj["seq"])) this.seq = this.obj["seq"];
  }

  requireField(key: string, what: string): void {
    if (!has(this.obj, key)) this.refuse("bad_message", `A "${this.type}" message needs "${key}" (${what}).`);
  }

  docIdField(required: boolean): string | undefined {
    if (!has(this.obj, "docId")) {
      if (required) this.refuse("bad_message", `A "${this.type}" message needs "docId": ${DOC_ID_RULE}.`);
      return undefined;
    }
    const value = this.obj["docId"];
    if (!isValidDocId(value)) {
      this.refuse("bad_message", `"docId" must be ${DOC_ID_RULE}; got ${describeValue(value)}.`);
    }
    return value;
  }

  clientIdField(): string | undefined {
    if (!has(this.obj, "clientId")) return undefined;
    const value = this.obj["clientId"];
    if (!isValidClientId(value)) {
      this.refuse("bad_message", `"clientId" must be ${CLIENT_ID_RULE}; got ${describeValue(value)}.`);
    }
    return value;
  }

  seqField(): number | undefined {
    if (!has(this.obj, "seq")) return undefined;
    const value = this.obj["seq"];
    if (!isValidSeq(value)) {
      this.refuse("bad_message", `"seq" must be a positive safe integer that rises with each op; got ${describeValue(value)}.`);
    }
    return value;
  }

  batchField(): boolean | undefined {
    if (!has(this.obj, "batch")) return undefined;
    const value = this.obj["batch"];
    if (typeof value !== "boolean") this.refuse("bad_message", `"batch" must be true or false; got ${describeValue(value)}.`);
    return value;
  }

  epochField(): string | undefined {
    if (!has(this.obj, "epoch")) return undefined;
    const value = this.obj["epoch"];
    if (!isValidEpoch(value))
      this.refuse("bad_message", `"epoch" must be ${CLIENT_ID_RULE} (as the server sent it); got ${describeValue(value)}.`);
    return value;
  }

  /** The restore extension: `{data, seqs?}`, only next to a `revision` (checked by the caller). */
  restoreField(): RestoreCopy | undefined {
    if (!has(this.obj, "restore")) return undefined;
    const value = this.obj["restore"];
    if (!isMessageObject(value) || !has(value, "data")) {
      this.refuse("bad_message", `"restore" must be an object with "data" (your copy of the document); got ${describeValue(value)}.`);
    }
    if (!has(this.obj, "revision")) this.refuse("bad_message", `"restore" needs "revision": the revision your copy is at.`);
    const copy: RestoreCopy = { data: value["data"] };
    if (has(value, "seqs")) {
      const seqs = value["seqs"];
      if (!isMessageObject(seqs))
        this.refuse("bad_message", `"restore.seqs" must be an object of author -> seq; got ${describeValue(seqs)}.`);
      // No prototype: an author named "__proto__" must be a key like any other.
      const out = Object.create(null) as Record<string, number>;
      let count = 0;
      for (const author of Object.keys(seqs)) {
        const seq = seqs[author];
        if (!isValidAuthor(author) || !isValidSeq(seq)) {
          this.refuse(
            "bad_message",
            `"restore.seqs" maps author labels (as the server sent them: 1 to ${MAX_AUTHOR_LENGTH} characters) to positive seqs; got ${describeValue(author)}: ${describeValue(seq)}.`,
          );
        }
        if (++count > MAX_RESTORE_AUTHORS) this.refuse("bad_message", `"restore.seqs" may name at most ${MAX_RESTORE_AUTHORS} authors.`);
        out[author] = seq;
      }
      copy.seqs = out;
    }
    return copy;
  }

  presenceFlag(): boolean | undefined {
    if (!has(this.obj, "presence")) return undefined;
    const value = this.obj["presence"];
    if (typeof value !== "boolean") this.refuse("bad_message", `"presence" must be true or false; got ${describeValue(value)}.`);
    return value;
  }

  /** The presence state (an object or null), for a `presence` message. */
  presenceState(): PresenceMessage["state"] {
    if (!Object.prototype.hasOwnProperty.call(this.obj, "state"))
      this.refuse("bad_message", `A "presence" message needs "state": an object, or null to clear.`);
    const read = readPresenceState(this.obj["state"]);
    if (!read.ok) this.refuse("bad_message", read.message);
    return read.state;
  }

  /** Call last: a bad revision is `bad_revision`, which loses to every shape problem. */
  revisionField(): number | undefined {
    if (!has(this.obj, "revision")) return undefined;
    const value = this.obj["revision"];
    if (!isValidRevision(value)) {
      this.refuse("bad_revision", `"revision" must be a non-negative integer (a revision you have seen); got ${describeValue(value)}.`);
    }
    return value;
  }
}

function readJoin(reader: ClientMessageReader): JoinMessage {
  const docId = reader.docIdField(true) as string;
  const clientId = reader.clientIdField();
  const batch = reader.batchField();
  const epoch = reader.epochField();
  const restore = reader.restoreField();
  const presence = reader.presenceFlag();
  const revision = reader.revisionField();
  const message: JoinMessage = { type: "join", docId };
  if (clientId !== undefined) message.clientId = clientId;
  if (revision !== undefined) message.revision = revision;
  if (batch !== undefined) message.batch = batch;
  if (epoch !== undefined) message.epoch = epoch;
  if (restore !== undefined) message.restore = restore;
  if (presence !== undefined) message.presence = presence;
  return message;
}

function readOp(obj: UntrustedObject, reader: ClientMessageReader): OpMessage {
  reader.requireField("op", "the op itself");
  reader.requireField("revision", "the revision the op is based on");
  const docId = reader.docIdField(false);
  const clientId = reader.clientIdField();
  const seq = reader.seqField();
  const revision = reader.revisionField() as number;
  // The op's value is judged later, by the document's type on the server (`invalid_op`).
  const message: OpMessage = { type: "op", op: obj["op"], revision };
  if (docId !== undefined) message.docId = docId;
  if (clientId !== undefined) message.clientId = clientId;
  if (seq !== undefined) message.seq = seq;
  return message;
}

function readPing(obj: UntrustedObject, reader: ClientMessageReader): ClientMessage {
  if (!has(obj, "t")) return { type: "ping" };
  const t = obj["t"];
  if (typeof t === "string" || (typeof t === "number" && Number.isFinite(t))) return { type: "ping", t };
  return reader.refuse("bad_message", `A ping's "t" must be a number or a string; got ${describeValue(t)}.`);
}

/** Validate an already decoded value as one client message. */
function parseClientValue(value: unknown): ParseResult<ClientMessage> {
  if (!isMessageObject(value)) {
    const error: ProtocolError = {
      code: "bad_message",
      message: `A message must be a JSON object with a "type"; got ${describeValue(value)}.`,
    };
    return { ok: false, error };
  }
  const type = value["type"];
  if (type !== "join" && type !== "op" && type !== "leave" && type !== "ping" && type !== "presence") {
    const error: ProtocolError = {
      code: "bad_message",
      message: has(value, "type")
        ? `Unknown message type ${describeValue(type)}: a client sends "join", "op", "leave" or "ping".`
        : `The message has no "type": a client sends "join", "op", "leave" or "ping".`,
    };
    if (isValidDocId(value["docId"])) error.docId = value["docId"];
    return { ok: false, error };
  }
  const reader = new ClientMessageReader(value, type);
  reader.noteIdentity();
  try {
    switch (type) {
      case "join":
        return { ok: true, message: readJoin(reader) };
      case "op":
        return { ok: true, message: readOp(value, reader) };
      case "leave":
        return { ok: true, message: { type: "leave", docId: reader.docIdField(true) as string } };
      case "ping":
        return { ok: true, message: readPing(value, reader) };
      case "presence": {
        const docId = reader.docIdField(true) as string;
        return { ok: true, message: { type: "presence", docId, state: reader.presenceState() } };
      }
    }
  } catch (thrown) {
    if (thrown instanceof Refusal) return { ok: false, error: thrown.error };
    throw thrown;
  }
}

/**
 * Parse one client message (the rules of docs/protocol.md "Messages").
 *
 * `input` is JSON text (a string), UTF-8 bytes (`Uint8Array`/`Buffer`/`ArrayBuffer`), or an
 * already parsed value. The returned message holds only the fields the protocol knows, so
 * nothing untrusted rides along; the value of an `op`'s `op` is passed through unjudged (the
 * server's type validates it and answers `invalid_op`). A JSON array is refused here: use
 * {@link parseClientFrame} for frames that may be batches.
 */
export function parseClientMessage(input: unknown): ParseResult<ClientMessage> {
  const decoded = decodeFrame(input);
  if (!decoded.ok) return decoded;
  return parseClientValue(decoded.value);
}

/**
 * Parse a whole inbound frame (a WebSocket message or a POST body): one result per message,
 * in order. A JSON array is a batch and gives one result per element (none for `[]`);
 * anything else gives exactly one result. Input that is not JSON or not UTF-8 gives one
 * `bad_message`.
 */
export function parseClientFrame(input: unknown): ParseResult<ClientMessage>[] {
  const decoded = decodeFrame(input);
  if (!decoded.ok) return [decoded];
  if (Array.isArray(decoded.value)) return decoded.value.map(parseClientValue);
  return [parseClientValue(decoded.value)];
}
