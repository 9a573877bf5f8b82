/**
 * A small seeded PRNG (mulberry32): uniform numbers in `[0, 1)`, and the same seed replays the
 * same sequence, so a failing randomized test can be replayed from the seed it prints.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in `[0, n)`, drawn from `random`. */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** A random element of a non-empty array, drawn from `random`; throws on an empty one. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[randomInt(random, items.length)];
  if (item === undefined) throw new Error("pick: the array is empty; pass at least one item.");
  return item;
}
