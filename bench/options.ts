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

  /** The value after the current flag, as a whole number. */
  int(): number {
    const flag = this.argv[this.i];
    const n = Number(this.value());
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number`);
    return n;
  }
}
