import { describe, expect, it } from "vitest";
import type { ServerMessage } from "@open-ot/core";
import { eventIdFor } from "./event-id.js";

const ack = (docId: string, revision: number): ServerMessage => ({ type: "ack", docId, revision });
const op = (docId: string, revision: number): ServerMessage => ({ type: "op", docId, revision, op: [] });

describe("eventIdFor", () => {
  it("is the revision of an ack, op, snapshot or joined", () => {
    expect(eventIdFor(ack("d", 4), "d")).toBe(4);
    expect(eventIdFor(op("d", 5), undefined)).toBe(5);
    expect(eventIdFor({ type: "joined", docId: "d", revision: 2 }, "d")).toBe(2);
    expect(eventIdFor({ type: "snapshot", docId: "d", revision: 3, data: "", docType: "text" }, "d")).toBe(3);
  });

  it("is absent for pong and error", () => {
    expect(eventIdFor({ type: "pong" }, "d")).toBeUndefined();
    expect(eventIdFor({ type: "error", code: "bad_message", message: "" }, "d")).toBeUndefined();
  });

  it("is the last revision of a batch", () => {
    expect(eventIdFor([op("d", 1), ack("d", 2), { type: "pong" }], "d")).toBe(2);
  });

  it("on a stream for one document, counts only that document", () => {
    expect(eventIdFor([op("d", 7), op("other", 90)], "d")).toBe(7);
    expect(eventIdFor(op("other", 90), "d")).toBeUndefined();
    expect(eventIdFor(op("other", 90), undefined)).toBe(90);
  });
});
