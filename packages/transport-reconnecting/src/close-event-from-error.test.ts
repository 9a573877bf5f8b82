import { describe, expect, it } from "vitest";
import { closeEventFromError } from "./close-event-from-error.js";

class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

describe("closeEventFromError", () => {
  it.each([
    [401, 4003],
    [403, 4003],
    [404, 4001],
    [413, 1009],
    [429, 4029],
    [500, 1006],
    [502, 1006],
  ])("maps HTTP status %i to close code %i", (status, code) => {
    const error = new HttpError(`refused with ${status}`, status);
    const event = closeEventFromError(error);
    expect(event).toEqual({ code, reason: `refused with ${status}`, local: false, error });
  });

  it("treats errors without a status, and non-errors, as network failures (1006)", () => {
    expect(closeEventFromError(new Error("connect ECONNREFUSED")).code).toBe(1006);
    const fromString = closeEventFromError("boom");
    expect(fromString.code).toBe(1006);
    expect(fromString.reason).toBe("boom");
    expect(fromString.error).toBeInstanceOf(Error);
    expect(closeEventFromError({ status: "401" }).code).toBe(1006);
  });
});
