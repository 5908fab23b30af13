// The messages of zone transfers out, read back with dns-packet: AXFR (RFC 5936 §2.2: SOA, every
// record, SOA; the question in the first message only; every message within its size) and IXFR's
// condensed difference (RFC 1995 §4) between two versions, as a table of changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { NOT_YET, axfrMessages } from '../../src/wire/axfr.js';
import { ixfrMessages } from '../../src/wire/ixfr.js';
import { zoneFromText } from '../answer/helpers.js';
import { query } from './helpers.js';

const BASE = `$TTL 300
@ SOA ns1 hostmaster SERIAL 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
`;

function zone(serial: number, body: string): ReturnType<typeof zoneFromText> {
  return zoneFromText('example.com.', BASE.replace('SERIAL', String(serial)) + body);
}

/** Each answer record as `name type ttl data`, in order, over all messages (pauses, NOT_YET, skipped). */
function answers(messages: Buffer[]): string[] {
  return messages.filter((m) => m !== NOT_YET).flatMap((m) =>
    (dnsPacket.decode(m).answers ?? []).map((answer) => {
      const a = answer as { name: string; type: string; ttl: number; data: unknown };
      const data =
        a.type === 'SOA' ? String((a.data as { serial: number }).serial) : JSON.stringify(Array.isArray(a.data) ? a.data.map((b: Buffer) => b.toString()) : a.data);
      return `${a.name} ${a.type} ${a.ttl} ${data}`;
    }),
  );
}

const Q_AXFR = query('example.com', { type: 'AXFR', rd: false });
const QUESTION_END = Q_AXFR.length;

describe('zone transfer messages', () => {
  test('AXFR: SOA, every record, SOA; the question only in the first; each message under the limit with room for TSIG', () => {
    let body = '';
    for (let i = 0; i < 3000; i++) body += `host${i} TXT "${'x'.repeat(50)} ${i}"\n`;
    const z = zone(7, body);
    const messages = [...axfrMessages(z, Q_AXFR, QUESTION_END, 100)];
    assert.ok(messages.length > 5);
    const records = answers(messages);
    assert.equal(records.length, 3000 + 3 + 1);
    assert.equal(records[0], 'example.com SOA 300 7');
    assert.equal(records[records.length - 1], 'example.com SOA 300 7');
    for (const [i, m] of messages.entries()) {
      const d = dnsPacket.decode(m);
      assert.equal(d.id, 0x1234);
      assert.equal((d.questions ?? []).length, i === 0 ? 1 : 0, `message ${i}`);
      assert.ok(m.length <= 65535 - 100);
    }
  });

  test('IXFR over a big zone with one change pauses between walks (the event loop turns), and sends the change', () => {
    let body = '';
    for (let i = 0; i < 10_000; i++) body += `h${i} A 192.0.2.${i & 255}\n`;
    const messages = [...ixfrMessages(zone(1, body), zone(2, body.replace('h7 A 192.0.2.7', 'h7 A 192.0.2.99')), query('example.com', { type: 'IXFR', rd: false }), QUESTION_END, 0)];
    assert.ok(messages.filter((m) => m === NOT_YET).length >= 4);
    assert.deepEqual(answers(messages).filter((r) => !r.includes(' SOA ')), ['h7.example.com A 300 "192.0.2.7"', 'h7.example.com A 300 "192.0.2.99"']);
  });

  const cases: { what: string; old: string; now: string; gone: string[]; come: string[] }[] = [
    { what: 'a record added', old: 'www A 192.0.2.1\n', now: 'www A 192.0.2.1\nwww A 192.0.2.2\n', gone: [], come: ['www.example.com A 300 "192.0.2.2"'] },
    { what: 'a record removed', old: 'www A 192.0.2.1\nwww A 192.0.2.2\n', now: 'www A 192.0.2.2\n', gone: ['www.example.com A 300 "192.0.2.1"'], come: [] },
    { what: 'a name gone, another come', old: 'a TXT "one"\n', now: 'b TXT "one"\n', gone: ['a.example.com TXT 300 ["one"]'], come: ['b.example.com TXT 300 ["one"]'] },
    {
      what: 'a TTL changed: the whole RRset goes and comes',
      old: 'www A 192.0.2.1\nwww A 192.0.2.2\n',
      now: 'www 60 A 192.0.2.1\nwww 60 A 192.0.2.2\n',
      gone: ['www.example.com A 300 "192.0.2.1"', 'www.example.com A 300 "192.0.2.2"'],
      come: ['www.example.com A 60 "192.0.2.1"', 'www.example.com A 60 "192.0.2.2"'],
    },
    { what: 'the same records in another order: nothing', old: 'www A 192.0.2.1\nwww A 192.0.2.2\n', now: 'www A 192.0.2.2\nwww A 192.0.2.1\n', gone: [], come: [] },
  ];
  for (const c of cases) {
    test(`IXFR: ${c.what}`, () => {
      const old = zone(1, c.old);
      const now = zone(2, c.now);
      const records = answers([...ixfrMessages(old, now, query('example.com', { type: 'IXFR', rd: false }), QUESTION_END, 0)]);
      // RFC 1995 §4: new SOA, old SOA, deleted, new SOA, added, new SOA.
      const soas = records.map((r, i) => (r.startsWith('example.com SOA ') ? i : -1)).filter((i) => i >= 0);
      assert.equal(soas.length, 4, records.join('\n'));
      assert.deepEqual(records.filter((r) => r.startsWith('example.com SOA ')).map((r) => r.split(' ')[3]), ['2', '1', '2', '2']);
      assert.deepEqual(records.slice(soas[1]! + 1, soas[2]).sort(), c.gone.sort());
      assert.deepEqual(records.slice(soas[2]! + 1, soas[3]).sort(), c.come.sort());
    });
  }
});
