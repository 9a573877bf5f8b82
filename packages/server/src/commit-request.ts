/** The request a judged submit is committed with (see `IBackendAdapter.commit`). */
import { LazyText } from "@open-ot/core";
import type { CommitRequest } from "./backend.js";

/** What {@link commitRequest} builds a request from. */
export interface CommitRequestFields {
  /** The revision to commit at. */
  readonly revision: number;
  /** The op as judged, transformed up to `revision - 1`. */
  readonly op: unknown;
  /** The held document after the op (a `LazyText` goes as an accessor, see {@link commitRequest}). */
  readonly snapshot: unknown;
  /** The revision the op was written against. */
  readonly base: number;
  /** The document's epoch the submit expects. */
  readonly epoch: string | undefined;
  readonly clientId: string | undefined;
  /** Left out unless the submit has a clientId too (only such ops are de-duplicated). */
  readonly seq: number | undefined;
  /** Only with a seq. */
  readonly principal: string | undefined;
  /** Sent with a seq. */
  readonly maxSeqJump: number;
}

/**
 * The backend's request. A held {@link LazyText} goes as an accessor that builds the string
 * when first read, so a backend that reads the snapshot only now and then never pays for the
 * other commits. The accessor is one shared getter defined on each request, not a getter per
 * object literal, which would make a hidden class per commit (docs/decisions/002).
 */
export function commitRequest(fields: CommitRequestFields): CommitRequest {
  const { revision, op, snapshot, clientId, seq } = fields;
  let request: CommitRequest;
  if (snapshot instanceof LazyText) {
    request = { revision, op } as CommitRequest;
    Object.defineProperty(request, HELD_TEXT, { value: snapshot });
    Object.defineProperty(request, "snapshot", HELD_TEXT_ACCESSOR);
  } else {
    request = { revision, op, snapshot };
  }
  if (clientId !== undefined) request.clientId = clientId;
  if (seq !== undefined) {
    request.seq = seq;
    request.maxSeqJump = fields.maxSeqJump;
    if (fields.principal !== undefined) request.principal = fields.principal;
  }
  request.base = fields.base;
  if (fields.epoch !== undefined) request.epoch = fields.epoch;
  return request;
}

/** Where a commit request keeps the held text its `snapshot` accessor builds (not enumerable). */
const HELD_TEXT: unique symbol = Symbol("held text");

/** The `snapshot` accessor of every request for a held text: the same getter each time. */
const HELD_TEXT_ACCESSOR: PropertyDescriptor = {
  get(this: { [HELD_TEXT]: LazyText }): string {
    return this[HELD_TEXT].toString();
  },
  enumerable: true,
  configurable: true,
};
