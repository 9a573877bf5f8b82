// Two server instances sharing one Redis (the README's example).
// Run after `pnpm build`: REDIS_URL=redis://127.0.0.1:6379 node examples/two-instances.mjs
// test/example.test.ts runs the same function against a private redis-server.
import { fileURLToPath } from "node:url";
import { documentChannel, Server } from "@open-ot/server";
import { RedisAdapter } from "@open-ot/adapter-redis";

/**
 * Two instances edit one document at the same revision; the second commit is transformed over
 * the first, and instance B hears both commits.
 * @param {string} url the Redis to use
 * @param {(...values: unknown[]) => void} log where to print
 */
export async function twoInstances(url, log = console.log) {
  const adapterA = new RedisAdapter(url); // instance A
  const adapterB = new RedisAdapter(url); // instance B
  const serverA = new Server(adapterA);
  const serverB = new Server(adapterB);
  try {
    const docId = `example-${Date.now()}`;
    await serverA.createDocument(docId, "text", "");

    // Instance B hears every commit on the document, A's included.
    /** @type {import("@open-ot/server").CommitNotice[]} */
    const heard = [];
    const unsubscribe = await adapterB.subscribe(documentChannel(docId), (notice) => heard.push(notice));

    // Both edit revision 0. B's insert is transformed over A's (the first committed comes first).
    const fromA = await serverA.submitOperation(docId, [{ i: "Hello, " }], 0);
    const fromB = await serverB.submitOperation(docId, [{ i: "world" }], 0);
    log(fromB);
    const text = (await serverA.getDocument(docId)).snapshot;
    log(text);

    // Pub/sub is asynchronous: wait (bounded) for B to hear both commits.
    const deadline = Date.now() + 5000;
    while (heard.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    log(heard.map((notice) => notice.revision));
    await unsubscribe();
    return { fromA, fromB, text, heard };
  } finally {
    await adapterA.close();
    await adapterB.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await twoInstances(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
}
