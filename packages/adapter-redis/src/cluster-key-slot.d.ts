// cluster-key-slot (the slot function ioredis itself uses) is CommonJS and ships no types.
declare module "cluster-key-slot" {
  function calculateSlot(key: string): number;
  export default calculateSlot;
}
