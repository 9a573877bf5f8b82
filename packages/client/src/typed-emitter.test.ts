import { describe, expect, it } from "vitest";
import { TypedEmitter } from "./typed-emitter.js";

interface Events {
  n: number;
  s: string;
}

describe("TypedEmitter", () => {
  it("calls listeners in order, and on() returns a remover", () => {
    const emitter = new TypedEmitter<Events>(() => {});
    const seen: string[] = [];
    const off = emitter.on("n", (n) => seen.push(`a${n}`));
    emitter.on("n", (n) => seen.push(`b${n}`));
    emitter.emit("n", 1);
    off();
    emitter.emit("n", 2);
    expect(seen).toEqual(["a1", "b1", "b2"]);
    expect(emitter.listenerCount("n")).toBe(1);
  });

  it("keeps calling the other listeners when one throws, and reports the throw", () => {
    const reported: unknown[] = [];
    const emitter = new TypedEmitter<Events>((event, error) => reported.push([event, (error as Error).message]));
    const seen: string[] = [];
    emitter.on("s", () => {
      throw new Error("boom");
    });
    emitter.on("s", (s) => seen.push(s));
    emitter.emit("s", "x");
    expect(seen).toEqual(["x"]);
    expect(reported).toEqual([["s", "boom"]]);
  });

  it("off() removes a listener added with on()", () => {
    const emitter = new TypedEmitter<Events>(() => {});
    const seen: number[] = [];
    const listener = (n: number): void => void seen.push(n);
    emitter.on("n", listener);
    emitter.off("n", listener);
    emitter.emit("n", 1);
    expect(seen).toEqual([]);
  });
});
