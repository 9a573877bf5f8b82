// cluster-key-slot ships no types; it is the slot function ioredis itself uses.
declare module "cluster-key-slot" {
  /** The Redis Cluster hash slot (0-16383) of a key or shard channel, honouring `{hash tags}`. */
  export default function calculateSlot(key: string | Buffer): number;
}
