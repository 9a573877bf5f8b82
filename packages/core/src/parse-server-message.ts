import { isErrorCode } from "./codes.js";
import { decodeFrame } from "./decode-frame.js";
import { describeValue, has, isMessageObject, type UntrustedObject } from "./message-fields.js";
import type { ParseResult, ProtocolError } from "./protocol-error.js";
import { isPresencePeers } from "./presence.js";
import {
  isValidAuthor,
  isValidDocId,
  isValidEpoch,
  isValidRevision,
  isValidSeq,
  type AckMessage,
  type RemoteOpMessage,
  type ServerMessage,
} from "./protocol.js";

/** A field check: true when the value is acceptable. */
type Check = (value: unknown) => boolean;

const isString: Check = (v) => typeof v === "string";
const isNonEmptyString: Check = (v) => typeof v === "string" && v.length > 0;
const isPing: Check = (v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
const isPresent: Check = () => true;
/** A committed revision: the op committed at `r` turns revision `r - 1` into `r`, so `r >= 1`. */
function isCommitRevision(v: unknown): v is number {
  return isValidRevision(v) && v >= 1;
}

interface FieldRule {
  readonly check: Check;
  readonly rule: string;
  readonly required: boolean;
}

const req = (check: Check, rule: string): FieldRule => ({ check, rule, required: true });
const opt = (check: Check, rule: string): FieldRule => ({ check, rule, required: false });

const DOC_ID = req(isValidDocId, "a valid document id");
const REVISION = req(isValidRevision, "a non-negative integer");
const COMMIT_REVISION = req(isCommitRevision, "a positive integer");
const SEQ = opt(isValidSeq, "a positive safe integer");
const EPOCH = opt(isValidEpoch, "1 to 64 characters from [A-Za-z0-9_-]");
const AUTHOR = opt(isValidAuthor, "a label of 1 to 256 characters");

/** The fields of each server message type; a message keeps only these. */
const SERVER_FIELDS: Readonly<Record<ServerMessage["type"], Readonly<Record<string, FieldRule>>>> = {
  snapshot: {
    docId: DOC_ID,
    revision: REVISION,
    data: req(isPresent, "the document"),
    docType: req(isNonEmptyString, "a type name"),
    lastSeq: SEQ,
    epoch: EPOCH,
    author: AUTHOR,
  },
  joined: { docId: DOC_ID, revision: REVISION, epoch: EPOCH, author: AUTHOR },
  ack: { docId: DOC_ID, revision: COMMIT_REVISION, seq: SEQ },
  op: {
    docId: DOC_ID,
    op: req(isPresent, "the op"),
    revision: COMMIT_REVISION,
    author: AUTHOR,
    seq: SEQ,
  },
  error: {
    code: req(isErrorCode, "a protocol error code"),
    message: req(isString, "a string"),
    docId: opt(isValidDocId, "a valid document id"),
    seq: SEQ,
    serverRevision: opt((v) => v === null || isValidRevision(v), "a non-negative integer or null"),
  },
  pong: { t: opt(isPing, "a number or a string") },
  presence: {
    docId: DOC_ID,
    peers: req(isPresencePeers, "an array of peers' presence"),
    full: opt((v) => typeof v === "boolean", "true or false"),
  },
};

/** {@link SERVER_FIELDS} as lists, listed once rather than on every message. */
const SERVER_FIELD_LISTS = Object.fromEntries(
  Object.entries(SERVER_FIELDS).map(([type, fields]) => [type, Object.entries(fields)]),
) as unknown as Readonly<Record<ServerMessage["type"], readonly (readonly [string, FieldRule])[]>>;

function isServerType(type: unknown): type is ServerMessage["type"] {
  return typeof type === "string" && Object.prototype.hasOwnProperty.call(SERVER_FIELDS, type);
}

function refuse(message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: { code: "bad_message", message } };
}

/** `obj[key]` when it is an own field, else `undefined`. */
function own(obj: UntrustedObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/**
 * `op` and `ack`, the messages a client gets most, taken without the loop over
 * {@link SERVER_FIELDS}: the same rules written out, for messages that meet them. Anything
 * else gives `undefined` and goes through the loop, which says what is wrong.
 */
function acceptCommon(value: UntrustedObject, type: unknown): ServerMessage | undefined {
  if (type === "op") {
    const docId = own(value, "docId");
    const op = own(value, "op");
    const revision = own(value, "revision");
    const author = own(value, "author");
    const seq = own(value, "seq");
    if (!isValidDocId(docId) || op === undefined || !isCommitRevision(revision)) return undefined;
    if ((author !== undefined && !isValidAuthor(author)) || (seq !== undefined && !isValidSeq(seq))) return undefined;
    const message: RemoteOpMessage = { type, docId, op, revision };
    if (author !== undefined) message.author = author;
    if (seq !== undefined) message.seq = seq;
    return message;
  }
  if (type === "ack") {
    const docId = own(value, "docId");
    const revision = own(value, "revision");
    const seq = own(value, "seq");
    if (!isValidDocId(docId) || !isCommitRevision(revision) || (seq !== undefined && !isValidSeq(seq))) return undefined;
    const message: AckMessage = { type, docId, revision };
    if (seq !== undefined) message.seq = seq;
    return message;
  }
  return undefined;
}

/** Check `value` against {@link SERVER_FIELDS}, field by field. */
export function parseServerFields(value: unknown): ParseResult<ServerMessage> {
  if (!isMessageObject(value)) return refuse(`A server message must be a JSON object; got ${describeValue(value)}.`);
  const type = value["type"];
  if (!isServerType(type)) return refuse(`Unknown server message type ${describeValue(type)}.`);
  const out: Record<string, unknown> = { type };
  for (const [key, rule] of SERVER_FIELD_LISTS[type]) {
    if (!has(value, key)) {
      if (rule.required) return refuse(`A "${type}" message from the server lacks "${key}" (${rule.rule}).`);
      continue;
    }
    const field = value[key];
    if (!rule.check(field)) {
      return refuse(`A "${type}" message from the server has a bad "${key}": expected ${rule.rule}, got ${describeValue(field)}.`);
    }
    out[key] = field;
  }
  // Every field was checked against SERVER_FIELDS[type], which mirrors the message interfaces.
  return { ok: true, message: out as unknown as ServerMessage };
}

function parseServerValue(value: unknown): ParseResult<ServerMessage> {
  if (isMessageObject(value)) {
    const message = acceptCommon(value, value["type"]);
    if (message !== undefined) return { ok: true, message };
  }
  return parseServerFields(value);
}

/**
 * Validate one message from a server, so that a client can ignore garbage instead of acting
 * on it. Same input forms as `parseClientMessage`; unknown fields are dropped. `ack` and `op`
 * must carry a revision of at least 1 (a commit's revision), and an `error` a known code.
 * Refusals use the `bad_message` code.
 */
export function parseServerMessage(input: unknown): ParseResult<ServerMessage> {
  const decoded = decodeFrame(input);
  if (!decoded.ok) return decoded;
  return parseServerValue(decoded.value);
}

/**
 * Parse a whole frame from a server: a JSON array (a batch, for connections that opted in)
 * gives one result per element, in order; anything else one result.
 */
export function parseServerFrame(input: unknown): ParseResult<ServerMessage>[] {
  const decoded = decodeFrame(input);
  if (!decoded.ok) return [decoded];
  if (Array.isArray(decoded.value)) return decoded.value.map(parseServerValue);
  return [parseServerValue(decoded.value)];
}
