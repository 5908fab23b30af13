// LOC (RFC 1876): presentation
//   d1 [m1 [s1]] N|S d2 [m2 [s2]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]
// ⇄ wire (version, size, horizontal and vertical precision as mantissa/exponent of centimetres,
// latitude and longitude in thousandths of an arc-second offset by 2^31, altitude in centimetres
// above 100 km below the WGS 84 spheroid).

import { RdataError, type RdataField, type TypeDescriptor } from './descriptor.js';
import { RdataReader } from './reader.js';

const EQUATOR = 0x80000000; // RFC 1876 §2: 2^31 is the equator / prime meridian
const ALTITUDE_BASE = 10000000; // RFC 1876 §2: centimetres below the reference spheroid
const MAX_PRECISION_CM = 9e9; // 9e9 cm = 90000000.00 m, the largest mantissa/exponent value

/** A decimal with up to `decimals` fraction digits, scaled to an integer (`"10.5"`, 2 → 1050). */
function scaled(field: RdataField, s: string, decimals: number, what: string): number {
  let neg = false;
  let i = 0;
  if (s.charCodeAt(0) === 0x2d) {
    neg = true;
    i = 1;
  }
  let v = 0;
  let digits = 0;
  let frac = -1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e && frac < 0) {
      frac = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) throw new RdataError(`bad ${what} "${field.text}"`, field);
    if (frac >= 0) {
      if (++frac > decimals) throw new RdataError(`${what} "${field.text}" has more than ${decimals} decimals`, field);
    }
    v = v * 10 + d;
    digits++;
  }
  if (digits === 0 || digits > 12) throw new RdataError(`bad ${what} "${field.text}"`, field);
  for (let k = Math.max(frac, 0); k < decimals; k++) v *= 10;
  return neg ? -v : v;
}

/** Metres with an optional `m` suffix → centimetres. */
function metres(field: RdataField, what: string): number {
  const s = field.text;
  const body = s.length > 0 && (s.charCodeAt(s.length - 1) | 0x20) === 0x6d ? s.substring(0, s.length - 1) : s;
  return scaled(field, body, 2, what);
}

/** Centimetres → RFC 1876 mantissa (high nibble) and power of ten (low nibble), rounded down as BIND does. */
function precision(field: RdataField, what: string): number {
  const cm = metres(field, what);
  if (cm < 0 || cm > MAX_PRECISION_CM) throw new RdataError(`${what} "${field.text}" out of range (0..90000000.00m)`, field);
  let exponent = 0;
  let v = cm;
  while (v >= 10) {
    v = Math.floor(v / 10);
    exponent++;
  }
  return (v << 4) | exponent;
}

function precisionToText(b: number): string {
  const mantissa = b >> 4;
  const exponent = b & 15;
  if (mantissa > 9 || exponent > 9) throw new RdataError('LOC precision has a mantissa or exponent over 9');
  if (exponent >= 2) return `${mantissa * 10 ** (exponent - 2)}m`;
  return `0.${String(mantissa * 10 ** exponent).padStart(2, '0')}m`;
}

/** Reads `d [m [s]] H` from `fields[at]`; returns thousandths of arc-seconds (signed) and the next index. */
function coordinate(fields: readonly RdataField[], at: number, maxDegrees: number, pos: string, neg: string, what: string): [number, number] {
  const parts: RdataField[] = [];
  let i = at;
  for (; i < fields.length && parts.length < 4; i++) {
    const t = fields[i]!.text.toUpperCase();
    if (t === pos || t === neg) break;
    parts.push(fields[i]!);
  }
  const hemisphere = fields[i];
  const h = hemisphere?.text.toUpperCase();
  if (parts.length === 0 || parts.length > 3 || (h !== pos && h !== neg)) {
    throw new RdataError(`LOC ${what} needs degrees [minutes [seconds]] then ${pos} or ${neg}`, fields[i] ?? fields[fields.length - 1]);
  }
  const deg = scaled(parts[0]!, parts[0]!.text, 0, `${what} degrees`);
  const min = parts[1] ? scaled(parts[1], parts[1].text, 0, `${what} minutes`) : 0;
  const sec = parts[2] ? scaled(parts[2], parts[2].text, 3, `${what} seconds`) : 0;
  if (deg < 0 || deg > maxDegrees) throw new RdataError(`${what} degrees out of range (0..${maxDegrees})`, parts[0]);
  if (min < 0 || min > 59) throw new RdataError(`${what} minutes out of range (0..59)`, parts[1]);
  if (sec < 0 || sec > 59999) throw new RdataError(`${what} seconds out of range (0..59.999)`, parts[2]);
  const v = deg * 3600000 + min * 60000 + sec;
  if (v > maxDegrees * 3600000) throw new RdataError(`${what} beyond ${maxDegrees} degrees`, parts[0]);
  return [h === neg ? -v : v, i + 1];
}

function coordinateToText(raw: number, maxDegrees: number, pos: string, neg: string): string {
  let v = raw - EQUATOR;
  const h = v < 0 ? neg : pos;
  v = Math.abs(v);
  if (v > maxDegrees * 3600000) throw new RdataError(`LOC coordinate beyond ${maxDegrees} degrees`);
  const deg = Math.floor(v / 3600000);
  const min = Math.floor(v / 60000) % 60;
  const sec = Math.floor(v / 1000) % 60;
  return `${deg} ${min} ${sec}.${String(v % 1000).padStart(3, '0')} ${h}`;
}

export const LOC: TypeDescriptor = {
  code: 29,
  mnemonic: 'LOC',
  wire: [16],
  fromText(fields) {
    const [lat, next] = coordinate(fields, 0, 90, 'N', 'S', 'latitude');
    const [lon, after] = coordinate(fields, next, 180, 'E', 'W', 'longitude');
    const rest = fields.slice(after);
    if (rest.length === 0) throw new RdataError('LOC needs an altitude', fields[fields.length - 1]);
    if (rest.length > 4) throw new RdataError('LOC has too many fields', rest[4]);
    const alt = metres(rest[0]!, 'altitude');
    // RFC 1876 §3: altitude from -100000.00 m to 42849672.95 m (what 32 bits of centimetres hold).
    if (alt < -ALTITUDE_BASE || alt > 0xffffffff - ALTITUDE_BASE) throw new RdataError(`altitude "${rest[0]!.text}" out of range`, rest[0]);
    // RFC 1876 §3 defaults: size 1 m, horizontal precision 10000 m, vertical precision 10 m.
    const size = rest[1] ? precision(rest[1], 'size') : 0x12;
    const hp = rest[2] ? precision(rest[2], 'horizontal precision') : 0x16;
    const vp = rest[3] ? precision(rest[3], 'vertical precision') : 0x13;
    const out = Buffer.allocUnsafe(16);
    out[0] = 0; // version
    out[1] = size;
    out[2] = hp;
    out[3] = vp;
    out.writeUInt32BE(EQUATOR + lat, 4);
    out.writeUInt32BE(EQUATOR + lon, 8);
    out.writeUInt32BE(alt + ALTITUDE_BASE, 12);
    return out;
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'LOC');
    if (r.u8() !== 0) throw new RdataError('LOC version is not 0');
    const size = precisionToText(r.u8());
    const hp = precisionToText(r.u8());
    const vp = precisionToText(r.u8());
    const lat = coordinateToText(r.u32(), 90, 'N', 'S');
    const lon = coordinateToText(r.u32(), 180, 'E', 'W');
    let alt = r.u32() - ALTITUDE_BASE;
    r.end();
    const sign = alt < 0 ? '-' : '';
    alt = Math.abs(alt);
    return `${lat} ${lon} ${sign}${Math.floor(alt / 100)}.${String(alt % 100).padStart(2, '0')}m ${size} ${hp} ${vp}`;
  },
};
