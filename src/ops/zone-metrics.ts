// Zone sync's metrics: what each zone serves and how its reloads went. Kept apart from the query
// counters because the zone store runs once per server (on the main thread), while the query
// counters are counted by every answering thread.
// A POP may serve 100,000 zones: a change costs one counter step, and the per-zone series are
// written from the store's status when scraped, with no metric object per zone in between.
import type { ReloadResult, ZoneState, ZoneStatus } from '../sync/store.js';

const PREFIX = 'anycast_dns_';
const STATES: readonly ZoneState[] = ['ok', 'held', 'error'];
const RESULTS: readonly ReloadResult[] = ['success', 'failure', 'refused', 'held', 'removed'];

const NOTIFY_RESULTS = ['answered', 'refused', 'unanswered'] as const;
export type NotifyResult = (typeof NOTIFY_RESULTS)[number];

export class ZoneSyncMetrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  /** Reloads by zone, counted by result in RESULTS order; kept after a zone is removed (a counter never goes back). */
  private readonly reloads = new Map<string, number[]>();
  private readonly pop: string;
  /** NOTIFYs sent, by how they ended, in NOTIFY_RESULTS order. */
  private readonly notifies = NOTIFY_RESULTS.map(() => 0);

  /** `popLabel` false leaves the `pop` label to the scraper (a target label). `zones` lists every zone's status. */
  constructor(
    identity: string,
    popLabel: boolean,
    private readonly zones: () => Iterable<ZoneStatus>,
  ) {
    this.pop = popLabel ? `pop="${escapeLabel(identity)}"` : '';
  }

  /** StoreEvents.status: a zone's version was tried or removed. */
  update(status: ZoneStatus, result: ReloadResult): void {
    let counts = this.reloads.get(status.zone);
    if (counts === undefined) this.reloads.set(status.zone, (counts = RESULTS.map(() => 0)));
    counts[RESULTS.indexOf(result)]!++;
  }

  /** A NOTIFY to a secondary ended. */
  notified(result: NotifyResult): void {
    this.notifies[NOTIFY_RESULTS.indexOf(result)]!++;
  }

  /** The exposition (Prometheus text format 0.0.4). */
  text(): string {
    const pop = this.pop;
    const labels = (extra: string): string => (pop === '' && extra === '' ? '' : `{${pop}${pop !== '' && extra !== '' ? ',' : ''}${extra}}`);
    const serial: string[] = [];
    const records: string[] = [];
    const state: string[] = [];
    const lastSuccess: string[] = [];
    let served = 0;
    let held = 0;
    for (const s of this.zones()) {
      const zone = `zone="${escapeLabel(s.zone)}"`;
      if (s.serial !== null) {
        served++;
        serial.push(`${PREFIX}zone_serial${labels(zone)} ${s.serial}`);
        records.push(`${PREFIX}zone_records${labels(zone)} ${s.records ?? 0}`);
        lastSuccess.push(`${PREFIX}zone_last_reload_success_timestamp_seconds${labels(zone)} ${Date.parse(s.loaded_at!) / 1000}`);
      }
      if (s.state === 'held') held++;
      for (const st of STATES) state.push(`${PREFIX}zone_state${labels(`${zone},state="${st}"`)} ${st === s.state ? 1 : 0}`);
    }
    const reloads: string[] = [];
    for (const [zone, counts] of this.reloads) {
      for (let i = 0; i < RESULTS.length; i++) if (counts[i]! > 0) reloads.push(`${PREFIX}zone_reloads_total${labels(`zone="${escapeLabel(zone)}",result="${RESULTS[i]}"`)} ${counts[i]}`);
    }
    const out: string[] = [];
    const family = (name: string, type: string, help: string, lines: string[]): void => {
      out.push(`# HELP ${PREFIX}${name} ${help}`, `# TYPE ${PREFIX}${name} ${type}`, ...lines);
    };
    family('zones_loaded', 'gauge', 'Zones being served', [`${PREFIX}zones_loaded${labels('')} ${served}`]);
    family('zone_serial', 'gauge', 'SOA serial of the version of each zone served', serial);
    family('zone_records', 'gauge', 'Records in the version of each zone served', records);
    family('zone_state', 'gauge', 'Zone sync state of each zone: 1 for its state (ok, held, error), 0 for the others', state);
    family('zone_changes_held', 'gauge', 'Zone changes held by a sync guard until `anycast-dns ctl reload --force`', [`${PREFIX}zone_changes_held${labels('')} ${held}`]);
    family('zone_reloads_total', 'counter', 'Zone versions tried, by result: success, failure (broken file), refused (serial went back), held (guard), removed', reloads);
    family(
      'notifies_sent_total',
      'counter',
      'NOTIFYs sent to the transfer.notify secondaries, by how each ended: answered, refused (an error rcode), unanswered (after every retry)',
      NOTIFY_RESULTS.map((r, i) => `${PREFIX}notifies_sent_total${labels(`result="${r}"`)} ${this.notifies[i]}`),
    );
    family('zone_last_reload_success_timestamp_seconds', 'gauge', 'When the version of each zone served was loaded (Unix time)', lastSuccess);
    return out.join('\n') + '\n';
  }
}

/** A label value as the text format writes it: backslash, double quote and line feed escaped. */
function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}
