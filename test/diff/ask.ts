// One query to a server under comparison, its reply normalised; what went wrong, as text, if none came.
import type { QueryOptions } from '../helpers/dns-query.js';
import { dnsQuery, type RunningPeer } from '../helpers/peers.js';
import { normaliseResponse, type NormalResponse } from './normalise-response.js';

export async function ask(server: RunningPeer, q: QueryOptions): Promise<NormalResponse | string> {
  try {
    return normaliseResponse((await dnsQuery(server, { ...q, timeoutMs: 2000 })).message);
  } catch (err) {
    return `no usable reply: ${(err as Error).message}`;
  }
}
