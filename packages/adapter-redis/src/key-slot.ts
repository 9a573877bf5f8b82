// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the declaration must reach programs that compile this file through path aliases (the demo's typecheck)
/// <reference path="./cluster-key-slot.d.ts" />
// A static import, so that bundlers (the demo's esbuild build) carry the module along.
import calculateSlot from "cluster-key-slot";

/** The Redis Cluster hash slot (0-16383) of a key or shard channel, honouring `{hash tags}`. */
export function keySlot(key: string): number {
  return calculateSlot(key);
}
