// TTLs in master files: plain seconds or BIND's unit form (`1h30m`, `2w`), RFC 2308 §4 for $TTL.

/** RFC 2181 §8: TTLs are unsigned 32-bit values whose most significant bit must be zero. */
const MAX_TTL = 0x7fffffff;

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds for a TTL field, or null when the text is not a TTL at all; throws RangeError when it is one but too large. */
export function parseTtl(text: string): number | null {
  const c0 = text.charCodeAt(0);
  if (!(c0 >= 0x30 && c0 <= 0x39)) return null;
  let total = 0;
  let value = 0;
  let digits = 0;
  let sawUnit = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      digits++;
      continue;
    }
    const mult = UNIT[text[i]!.toLowerCase()];
    if (mult === undefined || digits === 0) return null;
    total += value * mult;
    value = 0;
    digits = 0;
    sawUnit = true;
  }
  if (digits > 0) {
    // A trailing number after units (`1h30`) counts as seconds, as BIND reads it.
    total += value;
  } else if (!sawUnit) {
    return null;
  }
  if (total > MAX_TTL) throw new RangeError(`TTL ${text} is out of range (at most ${MAX_TTL})`);
  return total;
}
