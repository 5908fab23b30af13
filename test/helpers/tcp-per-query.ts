// A client that asks every query on a connection of its own, as a resolver retrying over TCP after
// a truncated answer does: connect, send one framed query, read the answer, close; a few
// connections at a time, each next one opened as soon as one finishes. Each query's outcome is kept,
// so a caller can count what was answered, reset or closed unanswered, and compare the answers.
//
//   const outcomes = await askEachOnItsOwnConnection({ port }, rootZoneMix(ROOT_ZONE_2018, 1000), 4);
import { readFileSync } from 'node:fs';
import { dnsQuery, type QueryOptions, type QueryTarget } from './dns-query.js';
import type { WireMessage } from './dns-message.js';

/** `reset`: ECONNRESET; `closed`: the server ended the stream before a whole answer; `timeout`; `other`. */
type Failure = 'reset' | 'closed' | 'timeout' | 'other';

export type Outcome = { reply: WireMessage } | { failure: Failure; detail: string };

export interface OutcomeCounts {
  answered: number;
  reset: number;
  closed: number;
  timeout: number;
  other: number;
}

function classify(err: Error & { code?: string }): Failure {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
  if (/closed before a whole reply/.test(err.message)) return 'closed';
  if (/no TCP reply .* within/.test(err.message)) return 'timeout';
  return 'other';
}

/** Asks `queries` over TCP, one connection each, `concurrency` connections at a time; outcomes in query order. */
export async function askEachOnItsOwnConnection(target: QueryTarget, queries: readonly QueryOptions[], concurrency: number, timeoutMs = 3000): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(queries.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < queries.length; i = next++) {
      try {
        outcomes[i] = { reply: (await dnsQuery(target, { ...queries[i]!, tcp: true, timeoutMs })).message };
      } catch (err) {
        outcomes[i] = { failure: classify(err as Error), detail: (err as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queries.length) }, lane));
  return outcomes;
}

export function countOutcomes(outcomes: readonly Outcome[]): OutcomeCounts {
  const counts: OutcomeCounts = { answered: 0, reset: 0, closed: 0, timeout: 0, other: 0 };
  for (const o of outcomes) counts['reply' in o ? 'answered' : o.failure]++;
  return counts;
}

/**
 * `count` queries a root server sees, from the names of a root zone file, in a fixed order: TLD
 * referrals (half), names under junk TLDs (NXDOMAIN), DS of signed TLDs, and the apex's SOA, NS and
 * DNSKEY. Every fifth asks with DO, so signatures and NSEC proofs are compared too.
 */
export function rootZoneMix(zoneFile: string, count: number): QueryOptions[] {
  const tlds = new Set<string>();
  const signed = new Set<string>();
  for (const line of readFileSync(zoneFile, 'latin1').split('\n')) {
    const [owner, , , type] = line.split(/\s+/);
    if (owner === undefined || owner === '.' || owner.startsWith(';') || owner.split('.').length !== 2) continue;
    if (type === 'NS') tlds.add(owner);
    else if (type === 'DS') signed.add(owner);
  }
  const tldList = [...tlds];
  const dsList = [...signed];
  if (tldList.length === 0 || dsList.length === 0) throw new Error(`${zoneFile}: no delegations with DS found`);
  const junk = ['local', 'home', 'lan', 'corp', 'internal', 'localdomain', 'invalid', 'router'];
  const apex = ['SOA', 'NS', 'DNSKEY'];
  const out: QueryOptions[] = [];
  for (let i = 0; i < count; i++) {
    const tld = tldList[(i * 7919) % tldList.length]!;
    const kind = i % 10;
    let q: QueryOptions;
    if (kind < 4) q = { name: `www.example${i}.${tld}`, type: 'A' };
    else if (kind === 4) q = { name: `mail.example${i}.${tld}`, type: 'AAAA' };
    else if (kind === 5) q = { name: tld, type: 'NS' };
    else if (kind === 6) q = { name: `host${i}.${junk[i % junk.length]}.`, type: 'A' };
    else if (kind === 7) q = { name: `wpad.zz${i.toString(36)}q.`, type: 'A' };
    else if (kind === 8) q = { name: dsList[(i * 104729) % dsList.length]!, type: 'DS' };
    else q = { name: '.', type: apex[i % apex.length]! };
    out.push(i % 5 === 0 ? { ...q, dnssecOk: true } : q);
  }
  return out;
}
