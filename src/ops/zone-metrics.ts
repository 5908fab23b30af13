// Zone sync's metrics: what each zone serves and how its reloads went. Kept apart from the query
// counters because the zone store runs once per server (on the main thread), while the query
// counters are counted by every answering thread.
// A POP may serve 100,000 zones: a change costs one counter step, and the per-zone series are
// written from the store's status when scraped, with no metric object per zone in between.
import type { NotifyInResult, SecondaryMetrics, TransferInResult, TransferKind } from '../secondary/service.js';
import type { ReloadResult, ZoneState, ZoneStatus } from '../sync/store.js';

const PREFIX = 'anycast_dns_';
const STATES: readonly ZoneState[] = ['ok', 'held', 'error', 'expired'];
const RESULTS: readonly ReloadResult[] = ['success', 'failure', 'refused', 'held', 'removed'];

const NOTIFY_RESULTS = ['answered', 'refused', 'unanswered'] as const;
export type NotifyResult = (typeof NOTIFY_RESULTS)[number];

const TRANSFER_KINDS: readonly TransferKind[] = ['axfr', 'ixfr'];
const TRANSFER_RESULTS: readonly TransferInResult[] = ['ok', 'rejected', 'failed'];
const NOTIFY_IN_RESULTS: readonly NotifyInResult[] = ['accepted', 'refused', 'notauth', 'formerr', 'badkey', 'badsig', 'badtime'];
/** Upper bounds (seconds) of the transfer duration histogram's buckets: from a small zone's IXFR to a large zone's AXFR. */
const TRANSFER_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

export class ZoneSyncMetrics implements SecondaryMetrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  /** Reloads by zone, counted by result in RESULTS order; kept after a zone is removed (a counter never goes back). */
  private readonly reloads = new Map<string, number[]>();
  private readonly pop: string;
  /** NOTIFYs sent, by how they ended, in NOTIFY_RESULTS order. */
  private readonly notifies = NOTIFY_RESULTS.map(() => 0);
  /** Transfers in by kind then result (TRANSFER_KINDS × TRANSFER_RESULTS); their octets; their durations. */
  private readonly transfersIn = new Array<number>(TRANSFER_KINDS.length * TRANSFER_RESULTS.length).fill(0);
  private transferInBytes = 0;
  private readonly transferBuckets = new Array<number>(TRANSFER_SECONDS.length + 1).fill(0);
  private transferSeconds = 0;
  private readonly notifiesIn = NOTIFY_IN_RESULTS.map(() => 0);

  /** `popLabel` false leaves the `pop` label to the scraper (a target label). `zones` lists every zone's status. */
  constructor(
    identity: string,
    popLabel: boolean,
    private readonly zones: () => Iterable<ZoneStatus>,
  ) {
    this.pop = popLabel ? `pop="${escapeLabel(identity)}"` : '';
  }

  /** StoreEvents.status: a zone's version was tried or removed. */
  update(zone: string, result: ReloadResult): void {
    let counts = this.reloads.get(zone);
    if (counts === undefined) this.reloads.set(zone, (counts = RESULTS.map(() => 0)));
    counts[RESULTS.indexOf(result)]!++;
  }

  /** A NOTIFY to a secondary ended. */
  notified(result: NotifyResult): void {
    this.notifies[NOTIFY_RESULTS.indexOf(result)]!++;
  }

  /** SecondaryMetrics: a transfer in ended. */
  transferred(kind: TransferKind, result: TransferInResult, bytes: number, seconds: number): void {
    this.transfersIn[TRANSFER_KINDS.indexOf(kind) * TRANSFER_RESULTS.length + TRANSFER_RESULTS.indexOf(result)]!++;
    this.transferInBytes += bytes;
    this.transferSeconds += seconds;
    const b = TRANSFER_SECONDS.findIndex((le) => seconds <= le);
    this.transferBuckets[b < 0 ? TRANSFER_SECONDS.length : b]!++;
  }

  /** SecondaryMetrics: a NOTIFY for a secondary zone was answered. */
  notifyReceived(result: NotifyInResult): void {
    this.notifiesIn[NOTIFY_IN_RESULTS.indexOf(result)]!++;
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
    family('zone_state', 'gauge', 'Zone sync state of each zone: 1 for its state (ok, held, error, expired), 0 for the others', state);
    family('zone_changes_held', 'gauge', 'Zone changes held by a sync guard until `anycast-dns ctl reload --force`', [`${PREFIX}zone_changes_held${labels('')} ${held}`]);
    family('zone_reloads_total', 'counter', 'Zone versions tried, by result: success, failure (broken file), refused (serial went back), held (guard), removed', reloads);
    /** A counter by `result`, every result written (zeros too). */
    const byResult = (name: string, help: string, results: readonly string[], counts: readonly number[]): void =>
      family(name, 'counter', help, results.map((r, i) => `${PREFIX}${name}${labels(`result="${r}"`)} ${counts[i]}`));
    byResult('notifies_sent_total', 'NOTIFYs sent to the transfer.notify secondaries, by how each ended: answered, refused (an error rcode), unanswered (after every retry)', NOTIFY_RESULTS, this.notifies);
    const transfers: string[] = [];
    TRANSFER_KINDS.forEach((kind, k) =>
      TRANSFER_RESULTS.forEach((result, r) => transfers.push(`${PREFIX}transfers_in_total${labels(`kind="${kind}",result="${result}"`)} ${this.transfersIn[k * TRANSFER_RESULTS.length + r]}`)),
    );
    family('transfers_in_total', 'counter', 'Zone transfers of the secondary zones, by kind (axfr, ixfr) and result: ok (served, or nothing newer), rejected (refused by the checks or a guard; the last good version stays), failed (did not complete)', transfers);
    family('transfer_in_bytes_total', 'counter', 'Octets of zone transfer messages received', [`${PREFIX}transfer_in_bytes_total${labels('')} ${this.transferInBytes}`]);
    const buckets: string[] = [];
    let cumulative = 0;
    TRANSFER_SECONDS.forEach((le, i) => {
      cumulative += this.transferBuckets[i]!;
      buckets.push(`${PREFIX}transfer_in_duration_seconds_bucket${labels(`le="${le}"`)} ${cumulative}`);
    });
    cumulative += this.transferBuckets[TRANSFER_SECONDS.length]!;
    buckets.push(
      `${PREFIX}transfer_in_duration_seconds_bucket${labels('le="+Inf"')} ${cumulative}`,
      `${PREFIX}transfer_in_duration_seconds_sum${labels('')} ${this.transferSeconds}`,
      `${PREFIX}transfer_in_duration_seconds_count${labels('')} ${cumulative}`,
    );
    family('transfer_in_duration_seconds', 'histogram', 'Seconds each zone transfer in took, from the query to the version served or refused', buckets);
    byResult(
      'notifies_received_total',
      'NOTIFYs received for the secondary zones, by result: accepted (from a primary: the zone is refreshed), refused (not from a primary), notauth (not a secondary zone), formerr, badkey, badsig, badtime (TSIG)',
      NOTIFY_IN_RESULTS,
      this.notifiesIn,
    );
    family('zone_last_reload_success_timestamp_seconds', 'gauge', 'When the version of each zone served was loaded (Unix time)', lastSuccess);
    return out.join('\n') + '\n';
  }
}

/** A label value as the text format writes it: backslash, double quote and line feed escaped. */
function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}
