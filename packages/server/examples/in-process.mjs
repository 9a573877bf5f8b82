import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { Hub, MemoryBackend, Server, createInProcessTransport } from "@open-ot/server";

const backend = new MemoryBackend();
const server = new Server(backend); // TextType is registered by default
const hub = new Hub({ server, createOnJoin: true });

// Two editors in the same process, each with its own connection to the hub.
const alice = new OTClient({ type: TextType, transport: createInProcessTransport(hub), docId: "notes" });
const bob = new OTClient({ type: TextType, transport: createInProcessTransport(hub), docId: "notes" });
await Promise.all([alice.connect(), bob.connect()]);

// Concurrent edits, both based on revision 0.
alice.submit([{ i: "Hello" }]);
bob.submit([{ i: "World" }]);

// Wait until both are acknowledged and have seen each other's op.
await new Promise((resolve) => {
  const check = () => {
    if (alice.synced && bob.synced && alice.revision === 2 && bob.revision === 2) resolve();
    else setTimeout(check, 5);
  };
  check();
});

const record = await backend.getRecord("notes");
console.log({ alice: alice.snapshot, bob: bob.snapshot, server: record.data, revision: record.v });

await Promise.all([alice.disconnect(), bob.disconnect()]);
await hub.close();
