// Referral templates: one rendered referral per zone cut, reused for every name below it. Under a flood
// of random names below real TLDs every query is a new name, yet all names below one cut get the same
// referral (RFC 1034 §4.3.2 step 3b) but for the question. Only the compression pointers differ: the
// question is longer by the name's labels above the cut (`prefix` octets), so everything after it
// moves by `prefix`. A template is the referral rewritten as if the question were the cut itself;
// using it shifts every pointer back by the new name's prefix.
//
// The result is the very message the writer would make, except where a name in the referral lies
// below the cut under the same label as the question (`ns1.nic.example.` for `www.nic.example.`):
// the writer would then point into the question's own labels. fromTemplate detects that and declines.

import { HEADER_SIZE } from './query.js';
import { T } from '../zone/types.js';
import { lowerByte } from '../zone/name.js';

const POINTER = 0xc0;
/** Pointers reach 14 bits (RFC 1035 §4.1.4): the writer registers no name past this offset. */
const MAX_POINTER = 0x3fff;

/**
 * Walks the records of `buf[bodyStart, end)` (a referral: NS, A, AAAA and OPT records only) of the
 * message that starts at `buf[base]` and moves every compression pointer by `delta`. Pointers before `questionNameEnd` point into the question's
 * name. With `rejectBelow` > HEADER_SIZE, a pointer into `[HEADER_SIZE, rejectBelow)` fails the walk;
 * with `labelAt` >= 0, so does a name whose last label before a pointer to `cutAt` equals the label at
 * `labelAt` of `question` (case-insensitively). Returns false when the message is not one it can move.
 */
function movePointers(
  buf: Buffer,
  base: number,
  bodyStart: number,
  end: number,
  delta: number,
  rejectBelow: number,
  cutAt: number,
  question: Buffer,
  labelAt: number,
): boolean {
  const records = buf.readUInt16BE(base + 6) + buf.readUInt16BE(base + 8) + buf.readUInt16BE(base + 10);
  let p = bodyStart;
  for (let r = 0; r < records; r++) {
    p = moveName(buf, p, delta, rejectBelow, cutAt, question, labelAt);
    if (p < 0 || p + 10 > end) return false;
    const type = (buf[p]! << 8) | buf[p + 1]!;
    const rdlength = (buf[p + 8]! << 8) | buf[p + 9]!;
    p += 10;
    if (type === T.NS) {
      if (moveName(buf, p, delta, rejectBelow, cutAt, question, labelAt) !== p + rdlength) return false;
    } else if (type !== T.A && type !== T.AAAA && type !== T.OPT) {
      return false;
    }
    p += rdlength;
  }
  return p === end;
}

/** moveName for one name at `p`; returns its end, or -1 (see movePointers). */
function moveName(buf: Buffer, p: number, delta: number, rejectBelow: number, cutAt: number, question: Buffer, labelAt: number): number {
  let last = -1;
  for (;;) {
    const len = buf[p]!;
    if (len === 0) return p + 1;
    if ((len & POINTER) === POINTER) {
      const target = ((len & 0x3f) << 8) | buf[p + 1]!;
      if (target < rejectBelow) return -1;
      if (target === cutAt && last >= 0 && labelAt >= 0 && sameLabel(buf, last, question, labelAt)) return -1;
      const moved = target + delta;
      if (moved < HEADER_SIZE || moved > MAX_POINTER) return -1;
      buf[p] = POINTER | (moved >> 8);
      buf[p + 1] = moved & 0xff;
      return p + 2;
    }
    last = p;
    p += len + 1;
  }
}

function sameLabel(a: Buffer, at: number, b: Buffer, bt: number): boolean {
  const len = a[at]!;
  if (b[bt] !== len) return false;
  for (let i = 1; i <= len; i++) if (lowerByte(a[at + i]!) !== lowerByte(b[bt + i]!)) return false;
  return true;
}

/**
 * The template of `response`, a complete referral (empty answer section) to a question whose name is
 * `prefix` octets longer than the cut and ends at `questionEnd`; or null when it points into those
 * octets. The template's question is the cut's name with the original type and class.
 */
export function toTemplate(response: Buffer, questionEnd: number, prefix: number): Buffer | null {
  if (response.readUInt16BE(6) !== 0) return null;
  const t = Buffer.allocUnsafe(response.length - prefix);
  response.copy(t, 0, 0, HEADER_SIZE);
  response.copy(t, HEADER_SIZE, HEADER_SIZE + prefix, response.length);
  return movePointers(t, 0, questionEnd - prefix, t.length, -prefix, HEADER_SIZE + prefix, -1, t, -1) ? t : null;
}

/**
 * Writes into `out` from `at` (template length + `prefix` octets) the referral for the query `msg`, whose name's
 * labels above the cut take `prefix` octets and whose question ends at `questionEnd`, from the
 * template `src[start, end)`, whose question ends at `bodyAt`. Header flags and ID are the caller's to
 * patch. Returns false when the writer would have compressed differently (see the top of this file).
 */
export function fromTemplate(
  src: Buffer,
  start: number,
  end: number,
  bodyAt: number,
  msg: Buffer,
  questionEnd: number,
  prefix: number,
  out: Buffer,
  at: number,
): boolean {
  src.copy(out, at, start, start + HEADER_SIZE);
  msg.copy(out, at + HEADER_SIZE, HEADER_SIZE, questionEnd);
  src.copy(out, at + questionEnd, bodyAt, end);
  // The label of the question's name just above the cut: the one a name below the cut could share.
  let above = HEADER_SIZE;
  while (above + msg[above]! + 1 < HEADER_SIZE + prefix) above += msg[above]! + 1;
  return movePointers(out, at, at + questionEnd, at + questionEnd + end - bodyAt, prefix, HEADER_SIZE, HEADER_SIZE, msg, above);
}
