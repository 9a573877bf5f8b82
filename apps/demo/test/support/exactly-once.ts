import { TextType, type TextOp } from "@open-ot/core";
import type { CommittedOp } from "@open-ot/server";
import { expect } from "vitest";

/** A test's client with the acks it counted per seq. */
export interface AckCountingClient {
  readonly client: { readonly clientId: string; readonly lastSeq: number };
  /** How many acks arrived for each seq. */
  readonly acks: ReadonlyMap<number, number>;
  readonly index: number;
}

/**
 * The exactly-once checks of a text document after a run: the committed ops hold no
 * `(clientId, seq)` twice and replay to `text`, every client got one ack per seq it used, and
 * the acks name exactly the committed ops.
 */
export function expectExactlyOnce(
  committed: readonly CommittedOp[],
  text: unknown,
  clients: readonly AckCountingClient[],
  context: string,
): void {
  const pairs = committed.map((c) => `${c.clientId}/${c.seq}`);
  expect(new Set(pairs).size, `no op committed twice ${context}`).toBe(pairs.length);
  expect(
    committed.reduce<string>((doc, c) => TextType.apply(doc, c.op as TextOp), ""),
    `the committed ops replay to the text ${context}`,
  ).toBe(text);
  const acked: string[] = [];
  for (const { client, acks, index } of clients) {
    for (const [seq, count] of acks) {
      expect(count, `client ${index} seq ${seq} acked once ${context}`).toBe(1);
      acked.push(`${client.clientId}/${seq}`);
    }
    expect(acks.size, `client ${index}: every seq it used was acked ${context}`).toBe(client.lastSeq);
  }
  expect(new Set(acked), `the acks name exactly the committed ops ${context}`).toEqual(new Set(pairs));
}
