import { createServer } from "node:net";

/**
 * A loopback port that nothing listens on right now: the OS picks one, the probe releases it.
 * For a server to start on (redis-server takes no port 0), or for a transport pointed at a
 * dead address.
 */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("could not read the probe port"))));
    });
  });
}
