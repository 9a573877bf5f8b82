// A join the client sends while its reconnecting wrapper is down must not wait in the wrapper's
// queue: sent after the next connection's handshake join, it would bring a second answer for
// what the client counts as one. When the document was lost meanwhile, the first answer makes
// the client offer its copy, and the second (the plain join's `bad_revision`) was taken for the
// answer to that restore: the client stopped, lost, with a copy nobody had refused.
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { startFaultProxy, startRedisServer, waitUntil, type FaultProxy, type RedisServer } from "@open-ot/harness";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEditorTransport } from "../src/browser/editor-transport.js";
import type { TransportKind } from "../src/browser/page-params.js";
import { ServerRotation } from "../src/browser/server-rotation.js";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";

let bundle: DemoBundle;
let redis: RedisServer;
let demo: DemoProcess;
let proxy: FaultProxy;
let store: RedisAdapter;

beforeAll(async () => {
  [bundle, redis] = await Promise.all([bundleDemo(), startRedisServer()]);
  demo = new DemoProcess({ bundle, redisUrl: redis.url, args: ["--storage-timeout", "1000", "--rate-limit", "0"] });
  await demo.start();
  proxy = await startFaultProxy({ target: { port: demo.port } });
  store = new RedisAdapter(redis.url);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await proxy?.close();
  await demo?.stop();
  await redis?.stop();
  await bundle?.cleanup();
});

describe.each<TransportKind>(["ws", "sse"])("a join sent while the connection is down, over %s", (kind) => {
  it("brings no answer that is taken for the restore's, and the lost document comes back from the client's copy", async () => {
    const docId = `queued-join-${kind}`;
    const states: string[] = [];
    // The client retries well before the wrapper reconnects.
    const transport = createEditorTransport({
      rotation: new ServerRotation([`http://127.0.0.1:${proxy.port}`]),
      kind,
      reconnect: { backoff: { initialDelay: 500, maxDelay: 500 }, browserEvents: false },
    });
    const client = new OTClient<string, TextOp>({ type: TextType, transport, docId, retry: { initialDelay: 300, maxDelay: 300 } });
    client.on("status", (status) => {
      if (states.at(-1) !== status.state) states.push(status.state);
    });
    try {
      await client.connect();
      client.submit([{ i: "before " }]);
      await waitUntil(() => client.synced, "the first edit acknowledged", 10_000);

      // Redis dies: the next edit is refused for a while (transient), the client waits to retry.
      await redis.kill("SIGKILL");
      client.submit([{ r: 7 }, { i: "during" }]);
      await waitUntil(() => client.status.state === "waiting", "a transient refusal", 10_000);

      // The connection drops and the server looks down; the client's retry sends its join meanwhile.
      proxy.refuse(true);
      proxy.cutAll();
      await waitUntil(() => client.status.state === "joining", "the retry's join, sent while the connection is down", 10_000);
      expect(transport.status.state).toBe("reconnecting");

      // Redis comes back empty, and the server is reachable again: the handshake's join finds the
      // document lost, and the client offers its copy.
      await redis.start();
      proxy.refuse(false);

      await waitUntil(
        async () => client.connectionState === "live" && client.synced && (await store.getRecord(docId)).data === client.snapshot,
        "the document restored from the copy",
        15_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)} (went ${states.join(" > ")}; ${JSON.stringify(client.status)})`, { cause: error });
      });
      expect(client.snapshot).toBe("before during");
      expect(states).toContain("lost");
    } finally {
      await client.disconnect();
    }
  }, 40_000);
});
