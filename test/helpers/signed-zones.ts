// Signs zones at test time with BIND's own tools, as an operator's hidden signer would: a KSK and a ZSK
// (ECDSA P-256, fast to make) from dnssec-keygen, then dnssec-signzone with NSEC, or NSEC3 with no salt
// and no extra iterations (RFC 9276 §3.1), with or without opt-out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './peers.js';

export type Denial = 'nsec' | 'nsec3' | 'nsec3-optout';

export interface SignedZone {
  origin: string;
  /** The signed master file. */
  file: string;
  /** The KSK's DNSKEY RDATA in presentation form (`257 3 13 <base64>`), for a trust anchor. */
  ksk: string;
  /** The DS record of the KSK (SHA-256), as a line to put in the parent zone. */
  ds: string;
}

/**
 * Signs `text` (the zone's records, without DNSKEY) for `origin` (`a.test.`) in `dir`. The output has
 * one record per line with its full owner name (`-O full`), so a test can edit it line by line.
 * `extra` goes to dnssec-signzone (e.g. `-s`/`-e` for the signatures' validity).
 */
export function signZone(dir: string, origin: string, text: string, denial: Denial, extra: string[] = []): SignedZone {
  const keygen = requireBinary('dnssec-keygen', 'bind9-utils');
  const signzone = requireBinary('dnssec-signzone', 'bind9-utils');
  const dsfromkey = requireBinary('dnssec-dsfromkey', 'bind9-utils');
  const keys = join(dir, `keys-${origin}`);
  mkdirSync(keys, { recursive: true });
  // Published and active since 2000, so a test may sign with a validity period in the past.
  const since = ['-P', '20000101000000', '-A', '20000101000000'];
  execFileSync(keygen, ['-q', '-K', keys, ...since, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', origin]);
  const kskName = execFileSync(keygen, ['-q', '-K', keys, ...since, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', origin], { encoding: 'utf8' }).trim();
  const unsigned = join(dir, `${origin}zone`);
  const file = join(dir, `${origin}signed`);
  writeFileSync(unsigned, text);
  const nsec3 = denial === 'nsec' ? [] : ['-3', '-', '-H', '0', ...(denial === 'nsec3-optout' ? ['-A'] : [])];
  execFileSync(signzone, ['-q', '-S', '-K', keys, '-d', dir, '-N', 'keep', '-O', 'full', '-o', origin, '-f', file, ...nsec3, ...extra, unsigned]);
  const keyFile = join(keys, `${kskName}.key`);
  const keyLine = readFileSync(keyFile, 'utf8').split('\n').find((l) => l.length > 0 && !l.startsWith(';'))!;
  const ksk = keyLine.replace(/^.*\sDNSKEY\s+/, '').trim();
  const ds = execFileSync(dsfromkey, ['-2', keyFile], { encoding: 'utf8' }).trim();
  return { origin, file, ksk, ds };
}
