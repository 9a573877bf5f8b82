// Group commit: a Server whose backend has commitBatch commits the submits queued on one
// document in one script run. Checked on a real redis-server with two Server instances sharing
// it: no op lost, duplicated or reordered, exactly once by (clientId, seq), refusals unchanged.
// The cases one instance shows are the group commit contract of @open-ot/testing (contracts.test.ts).
import { describe, expect, it } from "vitest";
import { TextType, type OTType, type TextOp } from "@open-ot/core";
import {
  Server,
  type CommitBatchResult,
  type CommitRequest,
  type CommitResult,
  type DuplicateResult,
  type SubmitResult,
} from "@open-ot/server";
import { randomInt, seededRandom } from "@open-ot/harness";
import { outcomeOf, type SubmitOutcome } from "@open-ot/testing";
import { RedisAdapter } from "../src/index.js";
import { redisPerTest } from "./helpers.js";

/** A RedisAdapter that counts its commit script runs (one per `commit` or `commitBatch` call). */
class CountingAdapter extends RedisAdapter {
  commits = 0;
  batches = 0;
  batchedOps = 0;

  override commit(docId: string, request: CommitRequest): Promise<CommitResult> {
    this.commits += 1;
    return super.commit(docId, request);
  }

  /** Run before each `commitBatch` is sent (a test makes another instance commit first). */
  beforeBatch: ((requests: CommitRequest[]) => Promise<void>) | undefined;

  override async commitBatch(docId: string, requests: CommitRequest[]): Promise<CommitBatchResult> {
    this.batches += 1;
    this.batchedOps += requests.length;
    await this.beforeBatch?.(requests);
    return await super.commitBatch(docId, requests);
  }
}

/** Transforms done by {@link countingText}, the text type under another name (so the Server takes the generic path). */
let transforms = 0;
const countingText: OTType<string, TextOp> = {
  ...(TextType as OTType<string, TextOp>),
  name: "counting-text",
  transform(op, other, side) {
    transforms += 1;
    return TextType.transform(op, other, side);
  },
};

const { adapter } = redisPerTest((url, options) => new CountingAdapter(url, options));

describe("group commit (Server + RedisAdapter.commitBatch)", () => {
  it("two instances sharing Redis: concurrent submits with resends and invalid ops commit each (clientId, seq) once, contiguously", async () => {
    const backends = [adapter(), adapter()];
    const servers = backends.map((b) => new Server(b));
    await servers[0]!.createDocument("doc", "text", "seed");
    const random = seededRandom(20261122);
    /** An integer from `min` to `max` inclusive. */
    const int = (min: number, max: number): number => min + randomInt(random, max - min + 1);
    const clients = 6;
    const rounds = 8;
    const nextSeq = Array.from({ length: clients }, () => 1);
    const acked: { clientId: string; seq: number; op: TextOp; revision: number }[] = [];
    const committedOnce = new Map<string, number>();
    let submits = 0;
    /** The newest seq of each client committed in an earlier round. */
    const lastCommitted = new Map<string, number>();
    const valid: { key: string; outcomes: SubmitOutcome[] }[] = [];

    for (let round = 0; round < rounds; round++) {
      // Each client writes against a snapshot one of the instances had at the start of the round.
      const views = await Promise.all(servers.map((s) => s.getDocument("doc")));
      const pending: {
        key: string;
        clientId: string;
        seq: number;
        kind: "valid" | "invalid" | "resend-invalid";
        outcome: Promise<SubmitOutcome>;
      }[] = [];
      for (let c = 0; c < clients; c++) {
        const clientId = `client-${c}`;
        const home = c % 2;
        const view = views[int(0, 1)]!;
        const length = (view.snapshot as string).length;
        let earlierOp: Promise<unknown> = Promise.resolve();
        for (let k = 0; k < 2; k++) {
          const seq = nextSeq[c]!++;
          const key = `${clientId}:${seq}`;
          const at = int(0, length);
          const op: TextOp = at === 0 ? [{ i: `[${key}]` }] : [{ r: at }, { i: `[${key}]` }];
          const server = servers[home]!;
          const outcome = outcomeOf(server.submitOperation("doc", op, view.revision, { clientId, seq }));
          pending.push({ key, clientId, seq, kind: "valid", outcome });
          submits += 1;
          if (int(0, 2) === 0) {
            // A resend of the same op under the same (clientId, seq), racing the original. On the
            // other instance it is sent once the client's earlier op is answered, as a client
            // does: sent sooner it could commit first, and the earlier op would then rightly be a
            // duplicate (seqs must rise). On the same instance its queue keeps the order.
            const to = servers[int(0, 1)]!;
            const resend =
              to === server
                ? outcomeOf(to.submitOperation("doc", op, view.revision, { clientId, seq }))
                : earlierOp.then(() => outcomeOf(to.submitOperation("doc", op, view.revision, { clientId, seq })));
            pending.push({ key, clientId, seq, kind: "valid", outcome: resend });
            submits += 1;
          }
          earlierOp = outcome;
        }
        if (int(0, 3) === 0) {
          const seq = nextSeq[c]!++;
          pending.push({
            key: `${clientId}:${seq}`,
            clientId,
            seq,
            kind: "invalid",
            outcome: outcomeOf(servers[home]!.submitOperation("doc", [{ r: length + 1000 }, { i: "!" }], view.revision, { clientId, seq })),
          });
          submits += 1;
        }
        const earlier = lastCommitted.get(clientId);
        if (earlier !== undefined && int(0, 3) === 0) {
          // A resend of an op committed in an earlier round, with content that would be refused now.
          const seq = earlier;
          pending.push({
            key: `${clientId}:${seq}`,
            clientId,
            seq,
            kind: "resend-invalid",
            outcome: outcomeOf(servers[1 - home]!.submitOperation("doc", [{ r: length + 1000 }], 0, { clientId, seq })),
          });
          submits += 1;
        }
      }
      const byKey = new Map<string, SubmitOutcome[]>();
      for (const p of pending) {
        const outcome = await p.outcome;
        if (p.kind === "invalid") {
          expect(outcome).toMatchObject({ error: { code: "invalid_op", seq: p.seq } });
          continue;
        }
        if (p.kind === "resend-invalid") {
          expect(outcome).toMatchObject({ ok: { duplicate: true } });
          continue;
        }
        if ("error" in outcome) throw outcome.error;
        byKey.set(p.key, [...(byKey.get(p.key) ?? []), outcome]);
        if (outcome.ok.duplicate !== true) {
          committedOnce.set(p.key, (committedOnce.get(p.key) ?? 0) + 1);
          lastCommitted.set(p.clientId, Math.max(lastCommitted.get(p.clientId) ?? 0, p.seq));
          acked.push({ clientId: p.clientId, seq: p.seq, op: outcome.ok.op as TextOp, revision: outcome.ok.revision });
        }
      }
      for (const [key, outcomes] of byKey) valid.push({ key, outcomes });
    }

    // Every valid (clientId, seq) committed exactly once; its resends were answered as duplicates.
    for (const { key, outcomes } of valid) expect(committedOnce.get(key), `${key}: ${JSON.stringify(outcomes)}`).toBe(1);
    expect([...committedOnce.values()].every((n) => n === 1)).toBe(true);
    // Revisions contiguous from 1; the text is the acked ops applied in revision order.
    acked.sort((a, b) => a.revision - b.revision);
    expect(acked.map((a) => a.revision)).toEqual(Array.from({ length: acked.length }, (_, k) => k + 1));
    let text = "seed";
    for (const a of acked) text = TextType.apply(text, a.op);
    const record = await backends[0]!.getRecord("doc");
    expect(record.v).toBe(acked.length);
    expect(record.data).toBe(text);
    for (const server of servers)
      await expect(server.getDocument("doc")).resolves.toMatchObject({ revision: acked.length, snapshot: text });
    // Storage holds exactly the acked ops, with their (clientId, seq).
    const stored = await backends[1]!.getOps("doc", 1);
    expect(stored).toEqual(acked.map((a) => ({ revision: a.revision, op: a.op, clientId: a.clientId, seq: a.seq })));
    // Each committed op inserted its marker once: the text is the seed plus every marker's characters.
    expect(text.length).toBe("seed".length + acked.reduce((n, a) => n + `[${a.clientId}:${a.seq}]`.length, 0));
    // Batches happened: fewer script runs than submits.
    const runs = backends.reduce((n, b) => n + b.commits + b.batches, 0);
    expect(backends.reduce((n, b) => n + b.batches, 0)).toBeGreaterThan(0);
    expect(runs).toBeLessThan(submits);
  });

  it("a batch that lost the race carries its ops on from their last judgement, not from their base revision", async () => {
    const a = adapter({ types: [countingText] });
    const b = adapter({ types: [countingText] });
    const serverA = new Server(a, { types: [countingText] });
    const serverB = new Server(b, { types: [countingText] });
    await serverB.createDocument("doc", "counting-text", "");
    // 200 revisions of history, so that ops based on revision 0 are far behind.
    const history = 200;
    for (let k = 0; k < history; k++) await serverB.submitOperation("doc", [{ i: "h" }], k, { clientId: "b", seq: k + 1 });
    await serverA.getDocument("doc");

    // Before A's first batch reaches Redis, B commits `winners` ops: the batch loses the race.
    const winners = 5;
    const calls: { size: number; transforms: number }[] = [];
    a.beforeBatch = async (requests) => {
      if (calls.length === 0) {
        for (let k = 0; k < winners; k++)
          await serverB.submitOperation("doc", [{ i: "w" }], history + k, { clientId: "b", seq: history + k + 1 });
      }
      calls.push({ size: requests.length, transforms });
    };
    const queued = 20;
    const submits: Promise<SubmitResult | DuplicateResult>[] = [];
    for (let k = 0; k < queued; k++) submits.push(serverA.submitOperation("doc", [{ i: `<${k}>` }], 0, { clientId: `a${k}`, seq: 1 }));
    const results = (await Promise.all(submits)) as SubmitResult<TextOp>[];

    expect(calls.length).toBe(2);
    const [lost, retried] = calls as [{ size: number; transforms: number }, { size: number; transforms: number }];
    const k = lost.size;
    expect(k).toBeGreaterThan(10);
    expect(retried.size).toBe(k);
    // The retry transformed each op over the winners, then over the batch's earlier ops, and
    // nothing more. Judged again from revision 0, each would also have been transformed over the
    // 200 ops committed before its first judgement (4,000 transforms more).
    expect(retried.transforms - lost.transforms).toBe(k * winners + (k * (k - 1)) / 2);

    // Every op committed once; the document is the history, the winners and the 20 ops.
    expect(results.every((r) => !("duplicate" in r))).toBe(true);
    expect(new Set(results.map((r) => r.revision)).size).toBe(queued);
    const record = await a.getRecord("doc");
    expect(record.v).toBe(history + winners + queued);
    const text = record.data as string;
    for (let i = 0; i < queued; i++) expect(text.split(`<${i}>`).length).toBe(2);
    expect(text.length).toBe(history + winners + results.reduce((n, _r, i) => n + `<${i}>`.length, 0));
  });
});
