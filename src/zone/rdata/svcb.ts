// SVCB and HTTPS (RFC 9460): SvcPriority, TargetName, then SvcParams `key[=value]` in any order,
// stored sorted by key (RFC 9460 §2.2). Values are checked per key as RFC 9460 §7 and BIND do.
//
// The lexer splits `alpn="h2,h3"` into an unquoted `alpn=` and a quoted `h2,h3`; both that and the
// unquoted `alpn=h2,h3` are read here.

import { RdataError, type RdataField, type TypeDescriptor } from './descriptor.js';
import {
  escapeOctets,
  expectAtLeast,
  ipv4ToText,
  ipv6ToText,
  parseIPv4Into,
  parseIPv6Into,
  u16,
  writeBase64,
  writeEscaped,
} from './presentation.js';
import { RdataReader } from './reader.js';
import { RdataWriter, writer } from './writer.js';

const MANDATORY = 0;
const ALPN = 1;
const NO_DEFAULT_ALPN = 2;
const PORT = 3;
const IPV4HINT = 4;
const ECH = 5;
const IPV6HINT = 6;
const DOHPATH = 7; // RFC 9461 §5
const OHTTP = 8; // RFC 9540 §4

const KEY_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['mandatory', MANDATORY], ['alpn', ALPN], ['no-default-alpn', NO_DEFAULT_ALPN], ['port', PORT],
  ['ipv4hint', IPV4HINT], ['ech', ECH], ['ipv6hint', IPV6HINT], ['dohpath', DOHPATH], ['ohttp', OHTTP],
]);

/** The names BIND 9.18 prints; later keys (dohpath, ohttp) print as `keyNNNNN` there, and so here. */
const PRINTED_NAMES: readonly string[] = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];

function keyToText(key: number): string {
  return PRINTED_NAMES[key] ?? `key${key}`;
}

/** A key name (case-sensitive, RFC 9460 §2.1) or `keyNNNNN` without leading zeros. */
function keyFromText(name: string, field: RdataField): number {
  const known = KEY_BY_NAME.get(name);
  if (known !== undefined) return known;
  if (name.startsWith('key') && name.length > 3 && name.length <= 8 && !(name.length > 4 && name.charCodeAt(3) === 0x30)) {
    let v = 0;
    for (let i = 3; i < name.length; i++) {
      const d = name.charCodeAt(i) - 48;
      if (d < 0 || d > 9) v = -1;
      if (v >= 0) v = v * 10 + d;
    }
    if (v > 0xffff) throw new RdataError(`SvcParamKey "${name}" out of range`, field);
    if (v >= 0) return v;
  }
  throw new RdataError(`unknown SvcParamKey "${name}"`, field);
}

const scratch = new RdataWriter();

/** The value's octets with RFC 1035 escapes decoded. */
function decode(text: string, field: RdataField): Buffer {
  writeEscaped(scratch.reset(), { text, quoted: field.quoted, line: field.line });
  return scratch.finish();
}

/** RFC 9460 Appendix A.1 value-list: items split at commas; `\,` and `\\` stand for themselves. */
function valueList(v: Buffer, field: RdataField, what: string): Buffer[] {
  const items: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i <= v.length; i++) {
    if (i === v.length || v[i] === 0x2c) {
      if (cur.length === 0) throw new RdataError(`empty item in ${what} list`, field);
      items.push(Buffer.from(cur));
      cur = [];
      continue;
    }
    if (v[i] === 0x5c && i + 1 < v.length) i++;
    cur.push(v[i]!);
  }
  return items;
}

function addresses(v: Buffer, field: RdataField, size: 4 | 16): Buffer {
  const parts = v.toString('latin1').split(',');
  const out = Buffer.allocUnsafe(parts.length * size);
  parts.forEach((p, i) => {
    const ok = size === 4 ? parseIPv4Into(p, out, i * size) : parseIPv6Into(p, out, i * size);
    if (!ok) throw new RdataError(`bad IPv${size === 4 ? 4 : 6} address "${p}" in hint`, field);
  });
  return out;
}

/** RFC 9461 §5: a relative URI template starting with "/" that has a "dns" variable. */
function checkDohpath(v: Buffer): void {
  const s = v.toString('latin1');
  if (s.charCodeAt(0) !== 0x2f || (!s.includes('{?dns}') && !s.includes('{&dns}'))) {
    throw new RdataError(`dohpath "${s}" must start with "/" and contain {?dns}`);
  }
}

/** A parameter's presentation value → its wire value (RFC 9460 §7, RFC 9461 §5, RFC 9540 §4). */
function paramValue(key: number, value: Buffer | null, field: RdataField): Buffer {
  const need = (): Buffer => {
    if (value === null || value.length === 0) throw new RdataError(`${keyToText(key)} needs a value`, field);
    return value;
  };
  switch (key) {
    case MANDATORY: {
      const keys = need()
        .toString('latin1')
        .split(',')
        .map((k) => keyFromText(k, field));
      keys.sort((a, b) => a - b);
      const out = Buffer.allocUnsafe(keys.length * 2);
      keys.forEach((k, i) => {
        // RFC 9460 §8: "mandatory" must not list itself nor any key twice.
        if (k === MANDATORY) throw new RdataError('mandatory may not list "mandatory"', field);
        if (i > 0 && keys[i - 1] === k) throw new RdataError(`mandatory lists ${keyToText(k)} twice`, field);
        out.writeUInt16BE(k, i * 2);
      });
      return out;
    }
    case ALPN: {
      const ids = valueList(need(), field, 'alpn');
      const parts: number[] = [];
      for (const id of ids) {
        if (id.length > 255) throw new RdataError('alpn id longer than 255 octets', field);
        parts.push(id.length, ...id);
      }
      return Buffer.from(parts);
    }
    case NO_DEFAULT_ALPN:
    case OHTTP:
      if (value !== null) throw new RdataError(`${[...KEY_BY_NAME].find(([, k]) => k === key)![0]} takes no value`, field);
      return Buffer.alloc(0);
    case PORT: {
      const out = Buffer.allocUnsafe(2);
      out.writeUInt16BE(u16({ text: need().toString('latin1'), quoted: false, line: field.line }, 'port'), 0);
      return out;
    }
    case IPV4HINT:
      return addresses(need(), field, 4);
    case IPV6HINT:
      return addresses(need(), field, 16);
    case ECH: {
      if (value === null || value.length === 0) return Buffer.alloc(0);
      writeBase64(scratch.reset(), [{ text: value.toString('latin1'), quoted: false, line: field.line }], 'ech');
      return scratch.finish();
    }
    case DOHPATH:
      checkDohpath(need());
      return value!;
    default:
      return value ?? Buffer.alloc(0);
  }
}


function svcb(code: number, mnemonic: string): TypeDescriptor {
  return {
    code,
    mnemonic,
    // RFC 9460 §2.2: the TargetName is not compressed (and not lower-cased: not in RFC 4034 §6.2's list).
    wire: [2, 'fixed-name', 'rest'],
    fromText(fields, ctx) {
      expectAtLeast(fields, 2, mnemonic);
      const priority = u16(fields[0]!, 'SvcPriority');
      const target = ctx.name(fields[1]!);
      const params = new Map<number, Buffer>();
      for (let i = 2; i < fields.length; i++) {
        const f = fields[i]!;
        if (f.quoted) throw new RdataError(`expected key=value, got a quoted string "${f.text}"`, f);
        const eq = f.text.indexOf('=');
        const name = eq < 0 ? f.text : f.text.substring(0, eq);
        const key = keyFromText(name, f);
        let value: Buffer | null = null;
        if (eq >= 0) {
          let text = f.text.substring(eq + 1);
          const next = fields[i + 1];
          if (text.length === 0 && next?.quoted) {
            text = next.text;
            i++;
          }
          value = decode(text, f);
        }
        if (params.has(key)) throw new RdataError(`SvcParamKey ${name} appears twice`, f);
        try {
          if (KEY_BY_NAME.has(name)) params.set(key, paramValue(key, value, f));
          else {
            // `keyNNNNN=` gives the wire value itself, even for a key with a format (BIND does the
            // same); it must still be a valid value for that key.
            const v = value ?? Buffer.alloc(0);
            paramToText(key, v, mnemonic);
            params.set(key, v);
          }
        } catch (e) {
          if (e instanceof RdataError && !e.field) throw new RdataError(e.message, f);
          throw e;
        }
      }
      checkParams(params, fields[fields.length - 1]!);
      const w = writer.reset();
      w.u16(priority);
      w.bytes(target);
      for (const key of [...params.keys()].sort((a, b) => a - b)) {
        const v = params.get(key)!;
        w.u16(key);
        w.u16(v.length);
        w.bytes(v);
      }
      return w.finish();
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      let out = `${r.u16()} ${r.name()}`;
      let prev = -1;
      while (r.left > 0) {
        const key = r.u16();
        const len = r.u16();
        const at = r.take(len);
        // RFC 9460 §2.2: keys strictly increasing.
        if (key <= prev) throw new RdataError(`${mnemonic} SvcParamKeys out of order`);
        prev = key;
        out += ' ' + paramToText(key, rdata.subarray(at, at + len), mnemonic);
      }
      return out;
    },
  };
}

/** RFC 9460 §8: keys listed as mandatory must be present; no-default-alpn needs alpn (§7.1.1). */
function checkParams(params: ReadonlyMap<number, Buffer>, last: RdataField): void {
  const m = params.get(MANDATORY);
  if (m) {
    for (let i = 0; i < m.length; i += 2) {
      const k = m.readUInt16BE(i);
      if (!params.has(k)) throw new RdataError(`mandatory key ${keyToText(k)} is missing`, last);
    }
  }
  if (params.has(NO_DEFAULT_ALPN) && !params.has(ALPN)) throw new RdataError('no-default-alpn needs alpn', last);
}

function paramToText(key: number, v: Buffer, mnemonic: string): string {
  const name = keyToText(key);
  const bad = (): never => {
    throw new RdataError(`${mnemonic} ${name} value is malformed`);
  };
  switch (key) {
    case MANDATORY: {
      if (v.length === 0 || v.length % 2 !== 0) bad();
      const keys: string[] = [];
      for (let i = 0; i < v.length; i += 2) keys.push(keyToText(v.readUInt16BE(i)));
      return `${name}=${keys.join(',')}`;
    }
    case ALPN: {
      const ids: string[] = [];
      for (let i = 0; i < v.length; ) {
        const len = v[i]!;
        if (len === 0 || i + 1 + len > v.length) bad();
        // Value-list escaping (`,` → `\,`, `\` → `\\`), then character-string escaping.
        let item = '';
        for (let j = i + 1; j <= i + len; j++) {
          const c = v[j]!;
          item += c === 0x2c || c === 0x5c ? '\\' + String.fromCharCode(c) : String.fromCharCode(c);
        }
        ids.push(escapeOctets(Buffer.from(item, 'latin1'), 0, item.length));
        i += 1 + len;
      }
      if (ids.length === 0) bad();
      return `${name}="${ids.join(',')}"`;
    }
    case NO_DEFAULT_ALPN:
      if (v.length !== 0) bad();
      return name;
    case PORT:
      if (v.length !== 2) bad();
      return `${name}=${v.readUInt16BE(0)}`;
    case IPV4HINT:
    case IPV6HINT: {
      const size = key === IPV4HINT ? 4 : 16;
      if (v.length === 0 || v.length % size !== 0) bad();
      const addrs: string[] = [];
      for (let i = 0; i < v.length; i += size) addrs.push(size === 4 ? ipv4ToText(v, i) : ipv6ToText(v, i));
      return `${name}=${addrs.join(',')}`;
    }
    case ECH:
      return v.length === 0 ? name : `${name}=${v.toString('base64')}`;
    case DOHPATH:
      checkDohpath(v);
      return `${name}="${escapeOctets(v, 0, v.length)}"`;
    default:
      return v.length === 0 ? name : `${name}="${escapeOctets(v, 0, v.length)}"`;
  }
}

export const SVCB_TYPES: readonly TypeDescriptor[] = [svcb(64, 'SVCB'), svcb(65, 'HTTPS')];
