import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, messages, records, SOA_NS, tempFiles } from './helpers.js';
import { loadZoneFile } from '../../src/zone/read-zone.js';
import { join } from 'node:path';
import { symlinkSync } from 'node:fs';

test('$ORIGIN, @, relative and absolute owners, blank owner', () => {
  const r = load(`${SOA_NS}
www   IN A 192.0.2.1
      IN AAAA 2001:db8::1
$ORIGIN sub.example.com.
host  IN A 192.0.2.2
@     IN TXT "at sub"
x.example.com. IN A 192.0.2.3
`);
  const rr = records(r);
  assert.ok(rr.includes('www.example.com. 300 IN A 192.0.2.1'));
  assert.ok(rr.includes('www.example.com. 300 IN AAAA 2001:db8::1'));
  assert.ok(rr.includes('host.sub.example.com. 300 IN A 192.0.2.2'));
  assert.ok(rr.includes('sub.example.com. 300 IN TXT "at sub"'));
  assert.ok(rr.includes('x.example.com. 300 IN A 192.0.2.3'));
});

test('TTL and class in either order, both optional, with units', () => {
  const rr = records(load(`${SOA_NS}
a 1h30m IN A 192.0.2.1
b IN 2w A 192.0.2.2
c 60 A 192.0.2.3
d IN A 192.0.2.4
e 1D IN A 192.0.2.5
`));
  assert.ok(rr.includes('a.example.com. 5400 IN A 192.0.2.1'));
  assert.ok(rr.includes('b.example.com. 1209600 IN A 192.0.2.2'));
  assert.ok(rr.includes('c.example.com. 60 IN A 192.0.2.3'));
  assert.ok(rr.includes('d.example.com. 300 IN A 192.0.2.4'));
  assert.ok(rr.includes('e.example.com. 86400 IN A 192.0.2.5'));
});

test('without $TTL: the last stated TTL, and SOA MINIMUM for the first record (with a warning)', () => {
  const r = load(`@ IN SOA ns1 hm 1 2 3 4 3600
@ NS ns1
ns1 600 A 192.0.2.1
ns2 A 192.0.2.2
`);
  const rr = records(r);
  assert.ok(rr.includes('example.com. 3600 IN SOA ns1.example.com. hm.example.com. 1 2 3 4 3600'));
  assert.ok(rr.includes('example.com. 3600 IN NS ns1.example.com.'));
  assert.ok(rr.includes('ns2.example.com. 600 IN A 192.0.2.2'));
  assert.deepEqual(messages(r, 'warnings'), ['test.zone:1: no TTL specified; using SOA MINIMUM instead']);
});

test('parentheses across lines, comments and quoted strings', () => {
  const rr = records(load(`$TTL 300
@ IN SOA ns1 hm ( 2026 ; serial
   7200 ; refresh
   3600 1209600
   300 )
@ NS ns1 ; trailing comment
ns1 A 192.0.2.1
t TXT "semi ; colon" "paren ( )" ( "two"
   "lines" )
`));
  assert.ok(rr.includes('example.com. 300 IN SOA ns1.example.com. hm.example.com. 2026 7200 3600 1209600 300'));
  assert.ok(rr.includes('t.example.com. 300 IN TXT "semi ; colon" "paren ( )" "two" "lines"'));
});

test('escapes in names and character strings', () => {
  const rr = records(load(`${SOA_NS}
a\\.b IN TXT "quote \\" and \\\\ and \\065"
\\097bc IN A 192.0.2.9
`));
  assert.ok(rr.includes('a\\.b.example.com. 300 IN TXT "quote \\" and \\\\ and A"'), rr.join('\n'));
  assert.ok(rr.includes('abc.example.com. 300 IN A 192.0.2.9'));
});

test('RFC 3597 generic types and classes', () => {
  const rr = records(load(`${SOA_NS}
g CLASS1 TYPE65534 \\# 4 0a0b0c0d
h IN TYPE1 \\# 4 c0000201
e IN TYPE65280 \\# 0
`));
  assert.ok(rr.includes('g.example.com. 300 IN TYPE65534 \\# 4 0A0B0C0D'), rr.join('\n'));
  assert.ok(rr.includes('h.example.com. 300 IN A 192.0.2.1'));
  assert.ok(rr.includes('e.example.com. 300 IN TYPE65280 \\# 0'));
});

test('$GENERATE with $ and ${offset,width,base}', () => {
  const rr = records(load(`${SOA_NS}
$GENERATE 1-3 host$ A 192.0.2.$
$GENERATE 10-14/2 r\${0,3,d} CNAME h\${5,2,x}
$GENERATE 1-1 n\${0,0,X} TXT "lit\\$"
`));
  for (const i of [1, 2, 3]) assert.ok(rr.includes(`host${i}.example.com. 300 IN A 192.0.2.${i}`));
  assert.ok(rr.includes('r010.example.com. 300 IN CNAME h0f.example.com.'));
  assert.ok(rr.includes('r012.example.com. 300 IN CNAME h11.example.com.'));
  assert.ok(rr.includes('r014.example.com. 300 IN CNAME h13.example.com.'));
  assert.ok(!rr.some((l) => l.startsWith('r011')));
  assert.ok(rr.includes('n1.example.com. 300 IN TXT "lit$"'), rr.join('\n'));
});

test('$INCLUDE: relative to the zone directory, with an origin, refused outside, cycles reported', () => {
  const { dir, cleanup } = tempFiles({
    'zones/example.com.zone': `${SOA_NS}$INCLUDE hosts.inc\n$INCLUDE sub/more.inc sub.example.com.\nafter A 192.0.2.99\n`,
    'zones/hosts.inc': 'www A 192.0.2.1\n',
    'zones/sub/more.inc': 'deep A 192.0.2.2\n',
    'zones/bad.zone': `${SOA_NS}$INCLUDE ../secret.inc\n`,
    'secret.inc': 'x A 192.0.2.3\n',
    'zones/cycle.zone': `${SOA_NS}$INCLUDE a.inc\n`,
    'zones/a.inc': '$INCLUDE b.inc\n',
    'zones/b.inc': '$INCLUDE a.inc\n',
    'zones/self.zone': `${SOA_NS}$INCLUDE self.zone\n`,
  });
  // The zone file itself, reached through a symlink, included again: a cycle through the file's real path.
  symlinkSync('self.zone', join(dir, 'zones/alias.zone'));
  try {
    const rr = records(loadZoneFile(join(dir, 'zones/example.com.zone')));
    assert.ok(rr.includes('www.example.com. 300 IN A 192.0.2.1'));
    assert.ok(rr.includes('deep.sub.example.com. 300 IN A 192.0.2.2'));
    assert.ok(rr.includes('after.example.com. 300 IN A 192.0.2.99'), 'origin restored after $INCLUDE');
    const bad = loadZoneFile(join(dir, 'zones/bad.zone'), 'example.com.');
    assert.equal(bad.zone, null);
    assert.match(messages(bad)[0]!, /bad\.zone:5: \$INCLUDE \.\.\/secret\.inc: refused, outside the zone directory/);
    const cyc = loadZoneFile(join(dir, 'zones/cycle.zone'), 'example.com.');
    assert.equal(cyc.zone, null);
    assert.match(messages(cyc)[0]!, /b\.inc:1: \$INCLUDE a\.inc: include cycle/);
    for (const file of ['self.zone', 'alias.zone']) {
      const self = loadZoneFile(join(dir, 'zones', file), 'example.com.');
      assert.equal(self.zone, null, file);
      // Reported in the file named, at once: not one level deeper, in the included copy.
      assert.match(messages(self)[0]!, new RegExp(`/${file.replace('.', '\\.')}:\\d+: \\$INCLUDE self\\.zone: include cycle`), file);
    }
  } finally {
    cleanup();
  }
});

test('syntax errors are reported as file:line: message, one per bad record', () => {
  const r = load(`${SOA_NS}
ok A 192.0.2.1
bad1 A 192.0.2.256
bad2 BOGUS 1
${'x'.repeat(64)} A 192.0.2.1
bad3 MX 65536 mail
bad4 TXT ( "a"
bad5 TXT "unterminated
bad6 CH TXT "class"
bad7 DS 1 8 2 zz
`);
  assert.equal(r.zone, null);
  const m = messages(r);
  const lineOf = (n: number) => m.find((x) => x.startsWith(`test.zone:${n}:`));
  assert.ok(lineOf(7), 'bad IPv4 on line 7: ' + m.join('\n'));
  assert.match(lineOf(8)!, /unknown RR type 'BOGUS'/);
  assert.match(lineOf(9)!, /label longer than 63/);
  assert.ok(lineOf(10), 'MX preference out of range on line 10');
  assert.match(m.join('\n'), /unbalanced (parentheses|quotes)/);
  assert.match(m.join('\n'), /class does not match/);
  assert.ok(m.some((x) => /bad hex|hex/i.test(x)), 'bad hex in DS');
  assert.ok(m.every((x) => /^test\.zone:\d+: /.test(x)));
});

test('unbalanced parentheses report the line they opened on', () => {
  const r = load(`${SOA_NS}a TXT ( "x"\n`);
  assert.deepEqual(messages(r), ['test.zone:5: unbalanced parentheses']);
  const r2 = load(`${SOA_NS}a TXT "x" )\n`);
  assert.deepEqual(messages(r2), ['test.zone:5: unbalanced parentheses']);
});
