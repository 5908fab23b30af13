// Whose staleness is it? Stale zones alone say nothing about where the fault is: when the sync source
// is down every POP goes stale together, and if each withdrew for it the service would go dark
// everywhere (as Facebook's DNS did in October 2021, each POP withdrawing for a cause all shared).
// Only a peer that answers with a newer serial shows the fault is this POP's; a peer that cannot be
// reached is no evidence either way.
import { compareSerials } from '../sync/policy.js';

/** What one peer answered: the serial of each zone it answered for (unanswered zones are absent). */
export interface PeerSerials {
  peer: string;
  serials: ReadonlyMap<string, number>;
}

/**
 * The first zone a reachable peer serves newer (RFC 1982 §3.2) than this POP, as a sentence, or null
 * when none does: then the staleness is shared, and the POP degrades instead of withdrawing.
 */
export function fresherPeer(own: ReadonlyMap<string, number>, peers: readonly PeerSerials[]): string | null {
  for (const [zone, serial] of own) {
    for (const p of peers) {
      const theirs = p.serials.get(zone);
      if (theirs !== undefined && compareSerials(theirs, serial) > 0) return `${zone} serial ${serial} here, ${theirs} at peer ${p.peer}`;
    }
  }
  return null;
}
