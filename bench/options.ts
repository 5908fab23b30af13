// Command-line options of the benchmarks: `for (const flag of opts) …; opts.value(); opts.int()`.

export class OptionReader implements Iterable<string> {
  private i = -1;

  constructor(private readonly argv: readonly string[]) {}

  *[Symbol.iterator](): Iterator<string> {
    while (++this.i < this.argv.length) yield this.argv[this.i]!;
  }

  /** The value after the current flag. */
  value(): string {
    const flag = this.argv[this.i];
    const v = this.argv[++this.i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  }

  /** The value after the current flag, as a taskset CPU list (`1`, `0-3`, `0,2,4-7`). */
  cpus(): string {
    const flag = this.argv[this.i];
    const v = this.value();
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new Error(`${flag} needs a CPU list such as 0-3 or 0,2`);
    return v;
  }

  /** The value after the current flag, as a whole number. */
  int(): number {
    const flag = this.argv[this.i];
    const n = Number(this.value());
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number`);
    return n;
  }

  /** The value after the current flag, one of `choices`. */
  oneOf<T extends string>(choices: readonly T[]): T {
    const flag = this.argv[this.i];
    const v = this.value();
    if (!(choices as readonly string[]).includes(v)) throw new Error(`${flag} needs one of ${choices.join(', ')}`);
    return v as T;
  }

  /** The value after the current flag, as `key=N,key=N` (config keys of one section). */
  settings(): Record<string, number> {
    const flag = this.argv[this.i];
    const out: Record<string, number> = {};
    for (const kv of this.value().split(',')) {
      const m = /^([a-z0-9_]+)=(\d+)$/.exec(kv);
      if (m === null) throw new Error(`${flag} needs key=N,key=N, got "${kv}"`);
      out[m[1]!] = Number(m[2]);
    }
    return out;
  }
}

/** How many CPUs a taskset list names (`0-3,6` is 5). */
export function cpuCount(list: string): number {
  return list.split(',').reduce((n, part) => {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    return n + Math.max(0, b - a + 1);
  }, 0);
}
