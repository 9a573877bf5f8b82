import { createRequire } from "node:module";

// cluster-key-slot (the slot function ioredis itself uses) is CommonJS without types.
const calculateSlot = createRequire(import.meta.url)("cluster-key-slot") as (key: string) => number;

/** The Redis Cluster hash slot (0-16383) of a key or shard channel, honouring `{hash tags}`. */
export function keySlot(key: string): number {
  return calculateSlot(key);
}
