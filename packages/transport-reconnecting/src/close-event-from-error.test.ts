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

  it("takes the close code of an attempt the server refused in band (an SSE stream holding only a close event)", () => {
    const refused = Object.assign(new Error("closed with 4003"), { closeCode: 4003 });
    expect(closeEventFromError(refused).code).toBe(4003);
    // A status wins: it says what the server answered.
    expect(closeEventFromError(Object.assign(new HttpError("refused", 429), { closeCode: 1006 })).code).toBe(4029);
  });
});
