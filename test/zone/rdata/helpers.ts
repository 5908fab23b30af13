// Test helpers: split presentation RDATA into fields the way the master-file lexer does (quotes
// removed, escapes kept), and a ParseContext resolving names against an origin.

import { RdataError, type ParseContext, type RdataField } from '../../../src/zone/rdata/descriptor.js';
import { descriptorFor, genericFromText, isGeneric, rdataToText, typeFromText } from '../../../src/zone/rdata/table.js';
import { NameError, nameFromText } from '../../../src/zone/name.js';

export function fieldsOf(text: string): RdataField[] {
  const out: RdataField[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    let s = '';
    const quoted = c === '"';
    if (quoted) i++;
    while (i < text.length) {
      const d = text[i]!;
      if (d === '\\') {
        s += text.substring(i, i + 2);
        i += 2;
        continue;
      }
      // As the master-file lexer does, a bare word also ends at a quote (`alpn="h2"` is two fields).
      if (quoted ? d === '"' : d === ' ' || d === '\t' || d === '\n' || d === '"') break;
      s += d;
      i++;
    }
    if (quoted) i++;
    out.push({ text: s, quoted, line: 1 });
  }
  return out;
}

export function contextFor(origin = 'example.com.'): ParseContext {
  const o = nameFromText(origin, null);
  return {
    origin: o,
    name(field) {
      try {
        return nameFromText(field.text, o);
      } catch (e) {
        if (e instanceof NameError) throw new RdataError(e.message, field);
        throw e;
      }
    },
  };
}

/** Presentation RDATA of `type` (a mnemonic) → wire, as the parser would produce it. */
export function wire(type: string, text: string, origin?: string): Buffer {
  const code = typeFromText(type);
  if (code === undefined) throw new Error(`unknown type ${type}`);
  const fields = fieldsOf(text);
  if (isGeneric(fields)) return genericFromText(fields, code);
  const d = descriptorFor(code);
  if (!d) throw new Error(`no descriptor for ${type}`);
  return d.fromText(fields, contextFor(origin));
}

/** Wire RDATA of `type` → presentation text. */
export function text(type: string, rdata: Buffer): string {
  return rdataToText(typeFromText(type)!, rdata);
}
