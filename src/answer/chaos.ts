// Server identity over class CHAOS (RFC 4892 §2): TXT id.server and the conventional hostname.bind,
// version.bind and version.server (which Knot and NSD answer too). Pure: the identity and version come
// from the configuration.

import { nameFromText, nameKey } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import { RCODE, emptyPlan, planRR, type AnswerPlan, type Question } from './plan.js';

const ID_SERVER = nameKey(nameFromText('id.server.', null));
const HOSTNAME_BIND = nameKey(nameFromText('hostname.bind.', null));
const VERSION_BIND = nameKey(nameFromText('version.bind.', null));
const VERSION_SERVER = nameKey(nameFromText('version.server.', null));

/** TXT RDATA holding `text` as character-strings of at most 255 octets (RFC 1035 §3.3.14). */
function txtRdata(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

export interface ServerIdentity {
  identity: string;
  /** null hides the version: version.bind and version.server are REFUSED. */
  version: string | null;
}

export function answerChaos(q: Question, server: ServerIdentity): AnswerPlan {
  const text =
    q.key === ID_SERVER || q.key === HOSTNAME_BIND ? server.identity : q.key === VERSION_BIND || q.key === VERSION_SERVER ? server.version : null;
  if (q.qclass !== CLASS.CH || text === null) return emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null);
  const plan = emptyPlan('answer', RCODE.NOERROR, true, CLASS.CH, null);
  if (q.qtype !== T.TXT && q.qtype !== T.ANY) {
    plan.outcome = 'nodata';
    return plan;
  }
  // TTL 0: the identity differs per anycast POP, so no resolver should cache it.
  plan.answer.push(planRR(q.key, { type: T.TXT, ttl: 0, rdatas: [txtRdata(text)] }));
  return plan;
}
