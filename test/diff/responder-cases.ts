// The queries of the responder differential test: every answer case of issue 3 item 3 against the
// zones in test/diff/zones/ plus the 2018 root zone, each in several wire variants.
import type { QueryOptions } from '../helpers/dns-query.js';

/** Which servers answer: `root` serves the root zone too (so no IN name is outside every zone); `noroot` does not. */
export type ServerSet = 'root' | 'noroot';

export interface DiffCase {
  /** Unique, readable: `name TYPE [CLASS] +variants`. */
  id: string;
  query: QueryOptions;
  set: ServerSet;
}

type Base = [name: string, type: string, klass?: string];

/** The questions, grouped by the behaviour they exercise. */
const QUESTIONS: Record<string, Base[]> = {
  exact: [
    ['example.com', 'SOA'], ['example.com', 'NS'], ['example.com', 'MX'], ['example.com', 'TXT'], ['example.com', 'A'],
    ['example.com', 'AAAA'], ['example.com', 'CAA'], ['www.example.com', 'A'], ['www.example.com', 'AAAA'],
    ['mixedcase.example.com', 'A'], ['multi.example.com', 'TXT'], ['hinfo.example.com', 'HINFO'], ['caa.example.com', 'CAA'],
    ['naptr.example.com', 'NAPTR'], ['rp.example.com', 'RP'], ['sshfp.example.com', 'SSHFP'], ['svc.example.com', 'SVCB'],
    ['unknown.example.com', 'TYPE65534'], ['ns1.example.com', 'A'], ['mail.example.com', 'AAAA'],
    ['sub.example.com', 'SOA'], ['sub.example.com', 'NS'], ['sub.example.com', 'MX'], ['www.sub.example.com', 'A'],
    ['ns1.sub.example.com', 'A'], ['tricky.test', 'SOA'], ['tricky.test', 'NS'], ['host.tricky.test', 'A'], ['host.tricky.test', 'TXT'],
    ['.', 'SOA'], ['.', 'NS'], ['.', 'DNSKEY'], ['com', 'DS'], ['se', 'DS'],
  ],
  nodata: [
    ['www.example.com', 'MX'], ['www.example.com', 'TXT'], ['example.com', 'SRV'], ['example.com', 'DS'], ['hinfo.example.com', 'A'],
    ['mail.example.com', 'TYPE65000'], ['sub.example.com', 'TXT'], ['host.tricky.test', 'AAAA'], ['tricky.test', 'A'],
    ['.', 'A'], ['.', 'MX'], ['ns1.example.com', 'TXT'],
  ],
  nxdomain: [
    ['nope.example.com', 'A'], ['a.b.nope.example.com', 'AAAA'], ['nope.sub.example.com', 'A'], ['x.www.example.com', 'A'],
    ['nosuchtld', 'A'], ['test', 'A'], ['test', 'SOA'], ['test', 'NS'], ['x.y.nosuchtld', 'MX'], ['_sip._tcp.example.com', 'SRV'],
  ],
  cname: [
    ['alias.example.com', 'A'], ['alias.example.com', 'AAAA'], ['alias.example.com', 'MX'], ['alias.example.com', 'CNAME'],
    ['chain1.example.com', 'A'], ['chain2.example.com', 'TXT'], ['external.example.com', 'A'], ['cross.example.com', 'A'],
    ['cross.example.com', 'TXT'], ['crosswild.example.com', 'A'], ['crosschild.example.com', 'A'], ['crossdeleg.example.com', 'A'],
    ['loop1.example.com', 'A'], ['self.example.com', 'A'], ['dangling.example.com', 'A'], ['back.sub.example.com', 'A'],
    ['back.sub.example.com', 'AAAA'],
  ],
  dname: [
    ['dn.example.com', 'DNAME'], ['dn.example.com', 'A'], ['x.dn.example.com', 'A'], ['a.b.dn.example.com', 'TXT'],
    ['host.dnin.example.com', 'A'], ['nothere.dnin.example.com', 'AAAA'], ['host.dnin.example.com', 'TXT'],
    ['foo.dnloc.example.com', 'A'], ['exists.dnloc.example.com', 'A'],
  ],
  delegation: [
    ['deleg.example.com', 'A'], ['deleg.example.com', 'NS'], ['www.deleg.example.com', 'A'], ['ns.deleg.example.com', 'A'],
    ['deleg.example.com', 'DS'], ['deleg2.example.com', 'A'], ['x.deleg2.example.com', 'MX'], ['sub.example.com', 'DS'],
    ['com', 'NS'], ['com', 'A'], ['www.google.com', 'A'], ['net', 'NS'], ['a.root-servers.net', 'A'], ['arpa', 'NS'],
    ['1.2.0.192.in-addr.arpa', 'PTR'], ['org', 'SOA'], ['se', 'NS'], ['uk', 'DNSKEY'],
  ],
  wildcard: [
    ['foo.wild.example.com', 'A'], ['foo.wild.example.com', 'TXT'], ['foo.wild.example.com', 'MX'], ['foo.wild.example.com', 'AAAA'],
    ['a.b.wild.example.com', 'A'], ['exists.wild.example.com', 'A'], ['exists.wild.example.com', 'TXT'], ['x.exists.wild.example.com', 'A'],
    ['ent2.wild.example.com', 'A'], ['x.ent2.wild.example.com', 'A'], ['*.wild.example.com', 'A'], ['wild.example.com', 'A'],
    ['foo.cwild.example.com', 'A'], ['foo.cwild.example.com', 'CNAME'], ['foo.cwild.example.com', 'MX'], ['foo.xwild.example.com', 'A'],
    ['anything.tricky.test', 'A'], ['anything.tricky.test', 'AAAA'], ['anything.tricky.test', 'TXT'], ['a.b.c.tricky.test', 'A'],
    ['x.deep.tricky.test', 'TXT'], ['deep.tricky.test', 'TXT'], ['x.x.tricky.test', 'A'], ['sub.*.x.tricky.test', 'A'],
    ['y.*.x.tricky.test', 'A'], ['x.any.sub.example.com', 'TXT'],
  ],
  ent: [
    ['c.ent.example.com', 'A'], ['b.c.ent.example.com', 'A'], ['b.c.ent.example.com', 'TXT'], ['a.b.c.ent.example.com', 'A'],
    ['ent.example.com', 'ANY'], ['x.c.ent.example.com', 'A'],
  ],
  any: [
    ['example.com', 'ANY'], ['www.example.com', 'ANY'], ['alias.example.com', 'ANY'], ['foo.wild.example.com', 'ANY'], ['nope.example.com', 'ANY'],
    ['.', 'ANY'], ['sub.example.com', 'ANY'], ['deleg.example.com', 'ANY'],
  ],
  additional: [
    ['example.com', 'MX'], ['example.com', 'NS'], ['_sip._udp.example.com', 'SRV'], ['_ldap._tcp.example.com', 'SRV'],
    ['sub.example.com', 'MX'], ['bigmx.example.com', 'MX'], ['foo.wild.example.com', 'MX'],
  ],
  size: [['many.example.com', 'A'], ['huge.example.com', 'TXT'], ['bigmx.example.com', 'MX'], ['.', 'NS'], ['com', 'NS']],
  chaos: [
    ['id.server', 'TXT', 'CH'], ['hostname.bind', 'TXT', 'CH'], ['version.bind', 'TXT', 'CH'], ['ID.SERVER', 'TXT', 'CH'],
  ],
  refused: [['example.com', 'SOA', 'HS'], ['www.example.com', 'A', 'CLASS42']],
  // Served without the root zone: names outside every zone are REFUSED, the parent of a served zone too.
  outside: [
    ['www.example.org', 'A'], ['example.net', 'SOA'], ['test', 'A'], ['test', 'SOA'], ['com', 'NS'], ['.', 'SOA'],
    ['tricky.test', 'SOA'], ['anything.tricky.test', 'A'], ['www.sub.example.com', 'A'], ['sub.example.com', 'DS'],
  ],
};

/** Flips the case of every other letter: the server must answer case-insensitively and echo the question as sent. */
function mixCase(name: string): string {
  let i = 0;
  return name.replace(/[a-z]/gi, (c) => (i++ % 2 === 0 ? c.toUpperCase() : c.toLowerCase()));
}

function idOf(q: QueryOptions, variant: string): string {
  const cls = q.class && q.class !== 'IN' ? ` ${q.class}` : '';
  return `${q.name} ${q.type}${cls}${variant ? ' ' + variant : ''}`;
}

/** Every case: each question plain (EDNS 1232, UDP), plus variants chosen per group. */
export function diffCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const seen = new Set<string>();
  let set: ServerSet = 'root';
  const add = (q: QueryOptions, variant: string): void => {
    const id = idOf(q, variant) + (set === 'noroot' ? ' (without root zone)' : '');
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ id, query: q, set });
  };
  for (const [group, list] of Object.entries(QUESTIONS)) {
    set = group === 'outside' ? 'noroot' : 'root';
    for (const [name, type, klass] of list) {
      const base: QueryOptions = { name, type, ...(klass ? { class: klass } : {}) };
      add(base, '');
      if (group === 'chaos' || group === 'refused' || group === 'outside') {
        add({ ...base, noEdns: true }, '+noedns');
        continue;
      }
      add({ ...base, name: mixCase(name) }, '+mixcase');
      if (group === 'size') {
        for (const udpSize of [512, 1232, 4096]) add({ ...base, udpSize }, `+bufsize=${udpSize}`);
        add({ ...base, udpSize: 100 }, '+bufsize=100'); // below 512: treated as 512 (RFC 6891 §6.2.5)
        add({ ...base, noEdns: true }, '+noedns');
        add({ ...base, noEdns: true, tcp: true }, '+noedns+tcp');
        add({ ...base, tcp: true }, '+tcp');
        add({ ...base, dnssecOk: true, udpSize: 512 }, '+dnssec+bufsize=512');
        continue;
      }
      if (group === 'any') {
        add({ ...base, tcp: true }, '+tcp');
        add({ ...base, noEdns: true }, '+noedns');
      }
      // Every third question also without EDNS and with DO, so each group meets both.
      if (out.length % 3 === 0) add({ ...base, noEdns: true }, '+noedns');
      if (out.length % 3 === 1) add({ ...base, dnssecOk: true }, '+dnssec');
      if (out.length % 5 === 0) add({ ...base, tcp: true }, '+tcp');
    }
  }
  set = 'root';
  add({ name: 'www.example.com', type: 'A', nsid: true }, '+nsid');
  add({ name: 'www.example.com', type: 'A', recursionDesired: true }, '+rd');
  add({ name: 'example.com', type: 'MX', recursionDesired: true }, '+rd');
  add({ name: 'nope.example.com', type: 'A', recursionDesired: true }, '+rd');
  return out;
}
