import { afterEach, expect, it } from "vitest";
import { HttpSseTransport } from "../src/index.js";
import { StubHub } from "./stub-hub.js";
import { startSseServer, waitFor, type TestServer } from "./helpers.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
});

it("ping pong", async () => {
  const hub = new StubHub();
  srv = await startSseServer({ hub });
  const t = new HttpSseTransport(srv.baseUrl);
  const got: unknown[] = [];
  await t.connect((m) => got.push(m));
  await t.send({ type: "ping", t: 1 });
  await waitFor(() => got.length > 0);
  expect(got).toEqual([{ type: "pong", t: 1 }]);
  await t.disconnect();
  await waitFor(() => srv!.handler.sessionCount === 0);
});
