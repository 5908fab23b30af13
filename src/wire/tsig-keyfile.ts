// TSIG keys in BIND's key file syntax (what `tsig-keygen` and `keymgr -t` write), so one file serves
// BIND, Knot's `keymgr` import and anycast-dns alike:
//
//   key "transfer-key" {
//       algorithm hmac-sha256;
//       secret "base64...";
//   };
//
// Comments as in named.conf: `#`, `//` and `/* */`. Pure: text in, keys out.

import { tsigKey, type TsigKey } from './tsig.js';

interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

/** Thrown with `file:line: message`. */
class KeyFileError extends Error {}

function tokens(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new KeyFileError(`${file}:${line}: unterminated comment`);
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new KeyFileError(`${file}:${line}: unterminated string`);
      out.push({ text: text.slice(i + 1, end), quoted: true, line });
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 1;
    } else if (c === '{' || c === '}' || c === ';') {
      out.push({ text: c, quoted: false, line });
      i++;
    } else {
      let j = i;
      while (j < n && !/[\s{};"#]/.test(text[j]!)) j++;
      out.push({ text: text.slice(i, j), quoted: false, line });
      i = j;
    }
  }
  return out;
}

/** Every `key` statement of a key file; an error names the file and line. */
export function parseKeyFile(text: string, file: string): TsigKey[] {
  const t = tokens(text, file);
  const keys: TsigKey[] = [];
  let p = 0;
  const lineAt = (): number => (p < t.length ? t[p]!.line : (t[t.length - 1]?.line ?? 1));
  const fail = (message: string): never => {
    throw new KeyFileError(`${file}:${lineAt()}: ${message}`);
  };
  const expect = (s: string): void => {
    if (p >= t.length || t[p]!.quoted || t[p]!.text !== s) fail(`expected "${s}"${p < t.length ? `, got "${t[p]!.text}"` : ' at the end'}`);
    p++;
  };
  const value = (): string => {
    const tok = t[p];
    if (tok === undefined || (!tok.quoted && '{};'.includes(tok.text))) return fail('expected a value');
    p++;
    return tok.text;
  };
  while (p < t.length) {
    const line = lineAt();
    expect('key');
    const name = value();
    expect('{');
    let algorithm: string | null = null;
    let secret: string | null = null;
    while (p < t.length && t[p]!.text !== '}') {
      const clause = value().toLowerCase();
      if (clause === 'algorithm') algorithm = value();
      else if (clause === 'secret') secret = value();
      else fail(`unknown clause "${clause}" in key "${name}"`);
      expect(';');
    }
    expect('}');
    expect(';');
    if (algorithm === null) throw new KeyFileError(`${file}:${line}: key "${name}" has no algorithm`);
    if (secret === null) throw new KeyFileError(`${file}:${line}: key "${name}" has no secret`);
    try {
      keys.push(tsigKey(name, algorithm, secret));
    } catch (err) {
      throw new KeyFileError(`${file}:${line}: key "${name}": ${(err as Error).message}`, { cause: err });
    }
  }
  return keys;
}
