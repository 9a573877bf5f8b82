/**
 * Named ARGV of the Lua scripts. One list of names fixes each argument's position, and both
 * sides are derived from it: the Lua that binds the names ({@link ArgvLayout.lua}) and the
 * TypeScript that fills ARGV ({@link ArgvLayout.encode}), so the two cannot drift apart.
 */

/** A value passed to a script: Redis receives every argument as a string. */
export type ArgValue = string | number;

/**
 * The positions of a script's named arguments. An argument the caller leaves out is sent as
 * `""`, which every script reads as "not given".
 */
export class ArgvLayout<Name extends string> {
  /** How many ARGV entries one {@link encode} fills. */
  readonly size: number;

  constructor(readonly names: readonly Name[]) {
    this.size = names.length;
    for (const name of names) {
      if (!/^[a-z][A-Za-z]*$/.test(name)) throw new TypeError(`ArgvLayout: ${name} is not a plain Lua name`);
    }
  }

  /**
   * A Lua table constructor binding every name to its ARGV entry, counted from `base` (a Lua
   * expression; ARGV[base] is the first name): `{ revision = ARGV[base + 0], ... }`.
   */
  lua(base = "1"): string {
    return `{ ${this.names.map((name, i) => `${name} = ARGV[${base} + ${i}]`).join(", ")} }`;
  }

  /** The ARGV entries of `values` in layout order; absent ones are `""`. */
  encode(values: Partial<Readonly<Record<Name, ArgValue>>>): string[] {
    return this.names.map((name) => {
      const value = values[name];
      return value === undefined ? "" : String(value);
    });
  }
}
