import { describe, expect, it } from "vitest";
import { ErrorClasses, ErrorCodes, errorClassOf } from "./codes.js";

describe("error classes", () => {
  it("gives every error code a class", () => {
    expect(Object.keys(ErrorClasses).sort()).toEqual(Object.keys(ErrorCodes).sort());
  });

  it("makes only storage, overload and server faults transient", () => {
    const transient = Object.entries(ErrorClasses)
      .filter(([, c]) => c === "transient")
      .map(([code]) => code)
      .sort();
    expect(transient).toEqual(["internal", "rate_limited", "unavailable"]);
  });

  it("treats an unknown code as final", () => {
    expect(errorClassOf("no_such_code")).toBe("final");
    expect(errorClassOf("unavailable")).toBe("transient");
  });
});
