// Reading typed values out of parsed YAML, so every bad value names its key.
import { ConfigError } from '../errors.js';

export type Plain = Record<string, unknown>;

/** While keysAskedFor runs: every key a reader was asked for, dotted, list items as `[]`. */
let asked: Set<string> | null = null;

/**
 * The keys the readers in `read` ask for: what the config file accepts, so the reference
 * (docs/reference.md) can be checked against the code. `read` must be synchronous.
 */
export function keysAskedFor(read: () => void): Set<string> {
  const outer = asked;
  const keys = new Set<string>();
  asked = keys;
  try {
    read();
  } finally {
    asked = outer;
  }
  return keys;
}

export class ConfigReader {
  private readonly seen = new Set<string>();
  constructor(
    private readonly obj: Plain,
    /** Dotted path of this object in the config, '' at the top. */
    readonly path = '',
  ) {}

  key(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  private mark(k: string): void {
    this.seen.add(k);
    asked?.add(this.key(k).replace(/\[\d+\]/g, '[]'));
  }

  private take(k: string): unknown {
    this.mark(k);
    return this.obj[k];
  }

  has(k: string): boolean {
    return this.obj[k] !== undefined && this.obj[k] !== null;
  }

  string(k: string, def: string): string {
    const v = this.take(k);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(this.key(k), `expected a string, got ${describe(v)}`);
    return String(v);
  }

  /** A string, `def` when the key is absent, null when it is set to null: how a default is turned off. */
  stringOrNull(k: string, def: string): string | null {
    if (this.obj[k] === null) {
      this.take(k);
      return null;
    }
    return this.string(k, def);
  }

  bool(k: string, def: boolean): boolean {
    const v = this.take(k);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') throw new ConfigError(this.key(k), `expected true or false, got ${describe(v)}`);
    return v;
  }

  int(k: string, def: number, min: number, max: number): number {
    const v = this.take(k);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(this.key(k), `expected an integer, got ${describe(v)}`);
    if (v < min || v > max) throw new ConfigError(this.key(k), `${v} is out of range ${min}..${max}`);
    return v;
  }

  number(k: string, def: number, min: number, max: number): number {
    const v = this.take(k);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(this.key(k), `expected a number, got ${describe(v)}`);
    if (v < min || v > max) throw new ConfigError(this.key(k), `${v} is out of range ${min}..${max}`);
    return v;
  }

  oneOf<S extends string>(k: string, def: S, allowed: readonly S[]): S {
    const v = this.string(k, def);
    if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(this.key(k), `"${v}" is not one of ${allowed.join(', ')}`);
    return v as S;
  }

  stringList(k: string, def: string[]): string[] {
    const v = this.take(k);
    if (v === undefined || v === null) return def;
    const arr = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(arr) || arr.some((x) => typeof x !== 'string' && typeof x !== 'number')) {
      throw new ConfigError(this.key(k), `expected a list of strings, got ${describe(v)}`);
    }
    return arr.map(String);
  }

  /** A mapping of names to strings (e.g. zone origin → file); null when absent. */
  stringMap(k: string): Map<string, string> | null {
    const v = this.take(k);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(this.key(k), `expected a mapping, got ${describe(v)}`);
    const out = new Map<string, string>();
    for (const [name, value] of Object.entries(v as Plain)) {
      if (typeof value !== 'string' || value === '') throw new ConfigError(`${this.key(k)}.${name}`, `expected a file name, got ${describe(value)}`);
      out.set(name, value);
    }
    return out;
  }

  /** A nested mapping (empty when absent). */
  section(k: string): ConfigReader {
    const v = this.take(k);
    if (v === undefined || v === null) return new ConfigReader({}, this.key(k));
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(this.key(k), `expected a mapping, got ${describe(v)}`);
    return new ConfigReader(v as Plain, this.key(k));
  }

  /** A list of mappings. */
  sections(k: string): ConfigReader[] {
    const v = this.take(k);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ConfigError(this.key(k), `expected a list, got ${describe(v)}`);
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw new ConfigError(`${this.key(k)}[${i}]`, `expected a mapping, got ${describe(item)}`);
      }
      return new ConfigReader(item as Plain, `${this.key(k)}[${i}]`);
    });
  }

  /** Marks a key as known without reading it (another module reads that section). */
  skip(k: string): void {
    this.mark(k);
  }

  /** Call after reading every key: an unknown key is an error that names it. */
  done(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) throw new ConfigError(this.key(k), 'unknown key');
    }
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
