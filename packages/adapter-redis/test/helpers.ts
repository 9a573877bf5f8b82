// Small helpers shared by this package's tests.
import { Redis } from "ioredis";
import { afterEach, beforeEach } from "vitest";
import { TextType } from "@open-ot/core";
import type { CommitRequest } from "@open-ot/server";
import { startRedisServer, waitUntil, type RedisServer } from "@open-ot/testing";
import type { RedisAdapter, RedisAdapterOptions } from "../src/index.js";

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

/** What {@link redisPerTest} gives a test file. */
export interface RedisPerTest<A extends RedisAdapter> {
  /** The URL of the current test's redis-server. */
  url(): string;
  /** An adapter on it, closed after the test. */
  adapter(options?: RedisAdapterOptions): A;
}

/**
 * A redis-server of its own for every test of the calling file (call at its top level), and
 * adapters on it made by `make`, closed after the test before the server stops.
 */
export function redisPerTest<A extends RedisAdapter>(make: (url: string, options: RedisAdapterOptions) => A): RedisPerTest<A> {
  let redis: RedisServer | undefined;
  const adapters: A[] = [];
  beforeEach(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
    await redis?.stop();
    redis = undefined;
  });
  const url = (): string => {
    if (redis === undefined) throw new Error("redisPerTest: no redis-server outside a test");
    return redis.url;
  };
  return {
    url,
    adapter(options = {}) {
      const created = make(url(), options);
      adapters.push(created);
      return created;
    },
  };
}
