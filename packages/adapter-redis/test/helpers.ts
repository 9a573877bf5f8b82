// Small helpers shared by this package's tests.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { TextType } from "@open-ot/core";
import type { CommitRequest } from "@open-ot/server";
import { startRedisCluster, startRedisServer, type ClusterSeed, type RedisCluster, type RedisServer } from "@open-ot/harness";
import type { RedisAdapter, RedisAdapterOptions } from "../src/index.js";

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
  /** The current test's redis-server (to shut it down, kill it or read its port). */
  server(): RedisServer;
  /** The URL of the current test's redis-server. */
  url(): string;
  /** A plain client on it (see {@link inspector}), disconnected after the test. */
  raw(): Redis;
  /** An adapter on it, closed after the test. */
  adapter(options?: RedisAdapterOptions): A;
  /** Close `created` after the test, with the adapters made by {@link RedisPerTest.adapter}. */
  track<B extends RedisAdapter>(created: B): B;
}

/**
 * A redis-server of its own for every test of the calling file (call at its top level), and
 * adapters on it made by `make`, closed after the test before the server stops.
 */
export function redisPerTest<A extends RedisAdapter>(make: (url: string, options: RedisAdapterOptions) => A): RedisPerTest<A> {
  let redis: RedisServer | undefined;
  let raw: Redis | undefined;
  const adapters: RedisAdapter[] = [];
  beforeEach(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
    raw?.disconnect();
    raw = undefined;
    await redis?.stop();
    redis = undefined;
  });
  const server = (): RedisServer => {
    if (redis === undefined) throw new Error("redisPerTest: no redis-server outside a test");
    return redis;
  };
  const track = <B extends RedisAdapter>(created: B): B => {
    adapters.push(created);
    return created;
  };
  return {
    server,
    url: () => server().url,
    raw: () => (raw ??= inspector(server().url)),
    adapter: (options = {}) => track(make(server().url, options)),
    track,
  };
}

/** What {@link clusterPerFile} gives a test file. */
export interface ClusterPerFile {
  /** The file's Redis Cluster. */
  cluster(): RedisCluster;
  /** An adapter on it (seed nodes: every node), closed after the test. */
  adapter(options?: RedisAdapterOptions): RedisAdapter;
}

/**
 * One Redis Cluster (three masters, one replica each) for every test of the calling file (call
 * at its top level): starting one takes seconds, and documents with fresh ids do not collide.
 * Adapters made by `adapter` are closed after each test.
 */
export function clusterPerFile(make: (seeds: readonly ClusterSeed[], options: RedisAdapterOptions) => RedisAdapter): ClusterPerFile {
  let started: RedisCluster | undefined;
  const adapters: RedisAdapter[] = [];
  beforeAll(async () => {
    started = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  }, 60_000);
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const cluster = (): RedisCluster => {
    if (started === undefined) throw new Error("clusterPerFile: no cluster outside a test");
    return started;
  };
  return {
    cluster,
    adapter: (options = {}) => {
      const created = make(cluster().seeds, options);
      adapters.push(created);
      return created;
    },
  };
}
