// Small helpers shared by this package's tests.
import { Redis } from "ioredis";
import { TextType } from "@open-ot/core";
import type { CommitRequest } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";

/** Resolve once `condition()` holds (it may be async); fail after `ms`, naming `what`. Polls, never sleeps blindly. */
export function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  return waitUntil(condition, what, ms);
}

/** A plain ioredis client to look at what the adapter stored, that never retries. */
export function inspector(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  return redis;
}

/** The commit request that appends `text` to `doc` at `revision`. */
export function append(doc: string, text: string, revision: number, clientId?: string, seq?: number): CommitRequest {
  const op = [{ r: doc.length }, { i: text }];
  const request: CommitRequest = { revision, op, snapshot: TextType.apply(doc, op) };
  if (clientId !== undefined) request.clientId = clientId;
  if (seq !== undefined) request.seq = seq;
  return request;
}
