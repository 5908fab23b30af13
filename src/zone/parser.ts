// Master-file parser: RFC 1035 §5 plus what BIND accepts on top ($TTL from RFC 2308, $GENERATE,
// TTL units, TTL and class in either order, RFC 3597 generic types and classes). It resolves
// owners, TTLs and classes, hands RDATA to the type table, and passes each record to a sink.
// It reads files (the top file and its $INCLUDEs) and nothing else.

import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { absolutePath } from './files.js';
import { lex, type Entry, LexError, type LexRest } from './lexer.js';
import { keyFromText, keyIsAtOrBelow, keyToText, nameFromText, NameError, nameKey } from './name.js';
import { RdataError, type ParseContext, type RdataField } from './rdata/descriptor.js';
import { classFromText, descriptorFor, genericFromText, typeFromText, typeToText } from './rdata/table.js';
import { parseTtl } from './ttl.js';
import { CLASS, T } from './types.js';

export interface Diagnostic {
  file: string;
  line: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.message}`;
}

export interface RecordSink {
  /** One record; `owner` is the owner's lookup key (lower-cased wire form, see name.ts). */
  add(owner: string, type: number, ttl: number, rdata: Buffer, file: string, line: number): void;
}

/** A regular file its reader has opened: the descriptor (the parser closes it) and the file's size when opened. */
export interface OpenedFile {
  fd: number;
  size: number;
}

export interface ParseOptions {
  /** The zone's origin (wire form): the initial $ORIGIN and the bound for $INCLUDE'd names. */
  origin: Buffer;
  /** $INCLUDE paths resolve against this directory and may not leave it. */
  zoneDir: string;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Stop collecting after this many errors (the file is rejected anyway). */
  maxErrors?: number;
  /**
   * Told of every file opened (the top file, then each $INCLUDE as it is reached; absolute paths as
   * named, not resolved through symlinks, so a symlink swapped to a new target reads as a new file)
   * and of every block of bytes read, so a loader can record and hash exactly what was parsed.
   */
  reads?: { file(realPath: string): void; bytes(block: Buffer): void };
}

/** How much of a zone file is read and lexed at a time: under 1 MiB, where Node would decode into off-heap strings that only a full GC frees. */
const CHUNK_SIZE = 1 << 18;

/** Upper bound on the records one $GENERATE may produce, so a typo can't exhaust memory. */
const MAX_GENERATE = 1 << 20;

/** Most spellings remembered per kind; past that (files of garbage) the rest are looked up each time. */
const MAX_MNEMONICS = 512;

/**
 * Class and type mnemonics as spelled in zone files, looked up once per spelling: a zone repeats a
 * handful of them a million times, and the table lookups upper-case the text first. One memo serves
 * every zone a thread reads (a spelling means the same type in any file): a POP's 100,000 small
 * zones each spell the same few.
 */
class MnemonicMemo {
  private readonly classes = new Map<string, number>();
  private readonly types = new Map<string, number>();

  classOf(text: string): number | undefined {
    let c = this.classes.get(text);
    if (c === undefined) {
      c = classFromText(text) ?? -1;
      if (this.classes.size < MAX_MNEMONICS) this.classes.set(text, c);
    }
    return c < 0 ? undefined : c;
  }

  typeOf(text: string): number | undefined {
    let t = this.types.get(text);
    if (t === undefined) {
      t = typeFromText(text) ?? -1;
      if (this.types.size < MAX_MNEMONICS) this.types.set(text, t);
    }
    return t < 0 ? undefined : t;
  }
}

const mnemonics = new MnemonicMemo();

class ParseFailure extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export class ZoneParser {
  private origin: Buffer;
  /** The current origin is at or below the zone's: names relative to it need no bounds check. */
  private originInZone = true;
  private readonly zoneOriginKey: string;
  private defaultTtl: number | null = null; // $TTL
  private lastTtl: number | null = null; // RFC 1035: the last explicitly stated TTL
  private lastOwner: string | null = null; // key
  private lastOwnerText = '';
  /** The last owner found outside the zone: its records are ignored (with a warning each), as BIND does. */
  private ownerOutside: string | null = null;
  /**
   * The files being read, innermost last: the zone file as named, included ones resolved. The zone
   * file is resolved only when an $INCLUDE asks about cycles, which most zones never do: a POP reads
   * 100,000 small zones at start-up and a realpath each was a measurable part of that.
   */
  private readonly includeStack: string[] = [];
  private readonly ctx: ParseContext;
  private readonly maxErrors: number;

  constructor(
    private readonly opts: ParseOptions,
    private readonly sink: RecordSink,
  ) {
    this.origin = opts.origin;
    this.zoneOriginKey = nameKey(opts.origin);
    this.maxErrors = opts.maxErrors ?? 100;
    const self = this;
    this.ctx = {
      get origin() {
        return self.origin;
      },
      name(field: RdataField): Buffer {
        try {
          return nameFromText(field.text, self.origin);
        } catch (e) {
          if (e instanceof NameError) throw new RdataError(e.message, field);
          throw e;
        }
      },
    };
  }

  /**
   * Parses a zone file. `opened`: the file already opened and its size already known (its identity
   * taken from that descriptor): it is read from there, and closed.
   */
  parseFile(path: string, opened?: OpenedFile): void {
    let fd: number;
    try {
      fd = opened?.fd ?? openSync(path, 'r');
    } catch (e) {
      this.error(path, 0, `cannot read file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      return;
    }
    this.opts.reads?.file(absolutePath(path));
    this.withInclude(path, () => this.readChunks(fd, path, opened?.size));
  }

  /** Parses master-file text; `file` names it in diagnostics. */
  parseText(text: string, file: string): void {
    this.withInclude(file, () => this.lexChunk(text, file, 1, true));
  }

  private withInclude(path: string, run: () => void): void {
    this.includeStack.push(path);
    try {
      run();
    } finally {
      this.includeStack.pop();
    }
  }

  /**
   * Reads a file a chunk at a time, so a large zone is never held whole as bytes and as text at
   * once (peak memory matters: every POP loads every zone). Chunks end at a line break; an entry
   * left open by parentheses carries over into the next chunk as bytes, so each chunk decodes to one
   * flat string (a string joined from two is scanned through an indirection, which is slower).
   */
  private readChunks(fd: number, file: string, knownSize?: number): void {
    const reads = this.opts.reads;
    try {
      // A small file gets a buffer of its size: a POP reads 100,000 small zones at start-up.
      let buf = Buffer.allocUnsafe(Math.min(2 * CHUNK_SIZE, Math.max(1024, (knownSize ?? fstatSync(fd).size) + 1)));
      let carry = 0;
      let line = 1;
      for (;;) {
        if (buf.length - carry < Math.min(CHUNK_SIZE, buf.length / 2)) {
          const bigger = Buffer.allocUnsafe(2 * buf.length);
          buf.copy(bigger, 0, 0, carry);
          buf = bigger;
        }
        const want = Math.min(CHUNK_SIZE, buf.length - carry);
        const got = readSync(fd, buf, carry, want, null);
        reads?.bytes(buf.subarray(carry, carry + got));
        const end = carry + got;
        // A regular file its reader stat'ed (knownSize): a read shorter than asked is its end, with no
        // read of nothing to learn that.
        if (got === 0 || (knownSize !== undefined && got < want)) {
          if (end > 0) this.lexChunk(buf.toString('latin1', 0, end), file, line, true);
          return;
        }
        const cut = buf.lastIndexOf(0x0a, end - 1) + 1;
        if (cut === 0) {
          carry = end;
          continue;
        }
        const rest = this.lexChunk(buf.toString('latin1', 0, cut), file, line, false);
        buf.copyWithin(0, rest.offset, end);
        carry = end - rest.offset;
        line = rest.line;
      }
    } finally {
      closeSync(fd);
    }
  }

  private lexChunk(text: string, file: string, firstLine: number, final: boolean): LexRest {
    return lex(
      text,
      (entry) => {
        if (this.opts.errors.length >= this.maxErrors) return;
        try {
          this.entry(entry, file);
        } catch (e) {
          if (e instanceof ParseFailure) this.error(file, e.line, e.message);
          else if (e instanceof RdataError) this.error(file, e.field?.line ?? entry.line, e.message);
          else if (e instanceof NameError || e instanceof RangeError) this.error(file, entry.line, e.message);
          else throw e;
        }
      },
      (e: LexError) => this.error(file, e.line, e.message),
      firstLine,
      final,
    );
  }

  private error(file: string, line: number, message: string): void {
    if (this.opts.errors.length < this.maxErrors) this.opts.errors.push({ file, line, message });
  }

  private entry(e: Entry, file: string): void {
    const f = e.fields;
    const first = f[0]!;
    if (!e.blankOwner && !first.quoted && first.text.charCodeAt(0) === 0x24 /* $ */) {
      this.directive(e, file);
      return;
    }
    let i = 0;
    let owner: string;
    if (e.blankOwner) {
      if (!this.lastOwner) throw new ParseFailure('no previous owner name for a record with a blank owner', e.line);
      owner = this.lastOwner;
    } else {
      owner = this.ownerName(first);
      i = 1;
    }
    this.record(owner, f, i, e.line, file);
  }

  /** The owner's key. Consecutive records usually repeat the owner: reuse the parsed name. */
  private ownerName(field: RdataField): string {
    if (this.lastOwner !== null && field.text === this.lastOwnerText && !field.quoted) return this.lastOwner;
    if (field.quoted) throw new RdataError(`a name may not be quoted: "${field.text}"`, field);
    let owner: string;
    try {
      owner = keyFromText(field.text, this.origin);
    } catch (e) {
      if (e instanceof NameError) throw new RdataError(e.message, field);
      throw e;
    }
    const relative = field.text.charCodeAt(field.text.length - 1) !== 0x2e; /* . */
    if (!(relative && this.originInZone) && !keyIsAtOrBelow(owner, this.zoneOriginKey)) this.ownerOutside = owner;
    this.lastOwner = owner;
    this.lastOwnerText = field.text;
    return owner;
  }

  private setOrigin(origin: Buffer): void {
    this.origin = origin;
    this.originInZone = keyIsAtOrBelow(nameKey(origin), this.zoneOriginKey);
  }

  private nameField(field: RdataField): Buffer {
    if (field.quoted) throw new RdataError(`a name may not be quoted: "${field.text}"`, field);
    return this.ctx.name(field);
  }

  /** Parses `[ttl] [class] type rdata...` (TTL and class in either order) from fields[i]. */
  private record(owner: string, f: RdataField[], i: number, line: number, file: string): void {
    let ttl: number | null = null;
    let cls: number | null = null;
    for (let k = 0; k < 2 && i < f.length; k++) {
      const t = f[i]!;
      if (t.quoted) break;
      if (ttl === null) {
        const v = parseTtl(t.text);
        if (v !== null) {
          ttl = v;
          this.lastTtl = v;
          i++;
          continue;
        }
      }
      if (cls === null) {
        const c = mnemonics.classOf(t.text);
        if (c !== undefined) {
          cls = c;
          i++;
          continue;
        }
      }
      break;
    }
    const typeField = f[i];
    if (!typeField) throw new ParseFailure('missing RR type', line);
    const type = typeField.quoted ? undefined : mnemonics.typeOf(typeField.text);
    if (type === undefined) throw new RdataError(`unknown RR type '${typeField.text}'`, typeField);
    if (cls !== null && cls !== CLASS.IN) {
      throw new RdataError(`class does not match the zone's class IN`, f[i - 1]);
    }
    if (type === T.OPT || (type >= 249 && type <= 255)) {
      throw new RdataError(`meta type ${typeToText(type)} may not appear in a zone`, typeField);
    }
    const rdataFields = f.slice(i + 1);
    const rdata = this.rdata(type, rdataFields, typeField);
    if (ttl === null) ttl = this.implicitTtl(type, rdata, file, line);
    if (owner === this.ownerOutside) {
      this.opts.warnings.push({ file, line, message: `ignoring out-of-zone data (${keyToText(owner)})` });
      return;
    }
    this.sink.add(owner, type, ttl, rdata, file, line);
  }

  private rdata(type: number, fields: RdataField[], typeField: RdataField): Buffer {
    if (fields.length > 0 && !fields[0]!.quoted && fields[0]!.text === '\\#') return genericFromText(fields, type);
    const d = descriptorFor(type);
    if (!d) throw new RdataError(`type ${typeField.text} has no presentation format: use RFC 3597 \\# syntax`, typeField);
    if (fields.length === 0) throw new RdataError(`missing RDATA for ${d.mnemonic}`, typeField);
    return d.fromText(fields, this.ctx);
  }

  /** The TTL of a record that states none: $TTL, else the last stated TTL (RFC 1035 §5.1), else SOA MINIMUM as BIND does. */
  private implicitTtl(type: number, rdata: Buffer, file: string, line: number): number {
    if (this.defaultTtl !== null) return this.defaultTtl;
    if (this.lastTtl !== null) return this.lastTtl;
    if (type === T.SOA && rdata.length >= 4) {
      const min = rdata.readUInt32BE(rdata.length - 4);
      this.opts.warnings.push({ file, line, message: 'no TTL specified; using SOA MINIMUM instead' });
      this.lastTtl = min;
      return min;
    }
    throw new ParseFailure('no TTL specified and no $TTL or earlier TTL to use', line);
  }

  private directive(e: Entry, file: string): void {
    const f = e.fields;
    const name = f[0]!.text.toUpperCase();
    switch (name) {
      case '$ORIGIN': {
        if (f.length !== 2) throw new ParseFailure('$ORIGIN takes one name', e.line);
        const o = this.nameField(f[1]!);
        this.setOrigin(o);
        return;
      }
      case '$TTL': {
        if (f.length !== 2) throw new ParseFailure('$TTL takes one TTL', e.line);
        const v = parseTtl(f[1]!.text);
        if (v === null) throw new ParseFailure(`bad TTL '${f[1]!.text}'`, f[1]!.line);
        this.defaultTtl = v;
        return;
      }
      case '$INCLUDE':
        this.include(e);
        return;
      case '$GENERATE':
        this.generate(e, file);
        return;
      default:
        throw new ParseFailure(`unknown directive ${f[0]!.text}`, e.line);
    }
  }

  /** RFC 1035 §5.1: `$INCLUDE file [origin]`; the origin and owner return to their values afterwards. */
  private include(e: Entry): void {
    const f = e.fields;
    if (f.length < 2 || f.length > 3) throw new ParseFailure('$INCLUDE takes a file name and an optional origin', e.line);
    const target = f[1]!.text;
    const dir = this.opts.zoneDir;
    const path = isAbsolute(target) ? target : resolve(dir, target);
    let real: string;
    try {
      real = realpathSync.native(path);
    } catch {
      throw new ParseFailure(`$INCLUDE ${target}: file not found`, e.line);
    }
    const realDir = realpathSync(dir);
    const rel = relative(realDir, real);
    if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
      throw new ParseFailure(`$INCLUDE ${target}: refused, outside the zone directory ${dir}`, e.line);
    }
    if (this.includeStack.some((p) => realPathOf(p) === real)) throw new ParseFailure(`$INCLUDE ${target}: include cycle`, e.line);
    const savedOrigin = this.origin;
    const savedOwner = this.lastOwner;
    const savedOwnerText = this.lastOwnerText;
    if (f.length === 3) this.setOrigin(this.nameField(f[2]!));
    this.lastOwner = null;
    this.lastOwnerText = '';
    try {
      this.opts.reads?.file(path);
      const fd = openSync(real, 'r');
      this.withInclude(real, () => this.readChunks(fd, relative(process.cwd(), path) || path));
    } finally {
      this.setOrigin(savedOrigin);
      this.lastOwner = savedOwner;
      this.lastOwnerText = savedOwnerText;
    }
  }

  /** BIND's `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`, with `$` and `${offset,width,base}` substitution. */
  private generate(e: Entry, file: string): void {
    const f = e.fields;
    if (f.length < 4) throw new ParseFailure('$GENERATE takes a range, an owner, a type and RDATA', e.line);
    const m = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(f[1]!.text);
    if (!m) throw new ParseFailure(`$GENERATE: bad range '${f[1]!.text}'`, e.line);
    const start = Number(m[1]);
    const stop = Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (start > stop || step < 1 || stop > 0x7fffffff) throw new ParseFailure(`$GENERATE: bad range '${f[1]!.text}'`, e.line);
    if ((stop - start) / step + 1 > MAX_GENERATE) throw new ParseFailure(`$GENERATE: range produces more than ${MAX_GENERATE} records`, e.line);
    const lhs = compileTemplate(f[2]!.text, e.line);
    const rest = f.slice(3);
    const templates = rest.map((r) => (r.quoted ? null : compileTemplate(r.text, r.line)));
    for (let v = start; v <= stop; v += step) {
      const owner = this.ownerName({ text: lhs(v), quoted: false, line: e.line });
      const fields = rest.map((r, k) => (templates[k] ? { text: templates[k]!(v), quoted: false, line: r.line } : r));
      this.record(owner, fields, 0, e.line, file);
    }
    this.lastOwner = null;
  }
}

/** Compiles a $GENERATE template into a function of the iterator value. `\$` stays an escaped `$`. */
function compileTemplate(text: string, line: number): (v: number) => string {
  const parts: (string | ((v: number) => string))[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      lit += c + text[i + 1];
      i++;
      continue;
    }
    if (c !== '$') {
      lit += c;
      continue;
    }
    if (lit) parts.push(lit);
    lit = '';
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i);
      if (close < 0) throw new ParseFailure(`$GENERATE: unclosed '\${' in '${text}'`, line);
      const spec = text.slice(i + 2, close).split(',');
      const offset = Number(spec[0] ?? 0);
      const width = spec[1] === undefined ? 0 : Number(spec[1]);
      const base = spec[2] ?? 'd';
      if (!Number.isInteger(offset) || !Number.isInteger(width) || width < 0 || !/^[doxXnN]$/.test(base)) {
        throw new ParseFailure(`$GENERATE: bad modifier '\${${spec.join(',')}}'`, line);
      }
      parts.push((v) => formatGenerated(v + offset, width, base));
      i = close;
    } else {
      parts.push((v) => String(v));
    }
  }
  if (lit) parts.push(lit);
  return (v) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(v);
    return out;
  };
}

function formatGenerated(v: number, width: number, base: string): string {
  switch (base) {
    case 'o':
      return v.toString(8).padStart(width, '0');
    case 'x':
      return v.toString(16).padStart(width, '0');
    case 'X':
      return v.toString(16).toUpperCase().padStart(width, '0');
    case 'n':
    case 'N': {
      // Nibble form for ip6.arpa: reversed hex digits joined by dots; width counts output characters.
      let hex = v.toString(16);
      if (base === 'N') hex = hex.toUpperCase();
      const nibbles = Math.max(hex.length, Math.ceil((width + 1) / 2));
      hex = hex.padStart(nibbles, '0');
      return hex.split('').reverse().join('.');
    }
    default:
      return String(v).padStart(width, '0');
  }
}

/** `path` with every symlink resolved, or `path` itself when it can't be (removed since it was opened). */
function realPathOf(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}
