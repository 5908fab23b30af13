// Zone sync's metrics: what each zone serves and how its reloads went. Kept in their own registry
// because the zone store runs once per server (in the primary when there are workers), while the
// query counters live in every answering process.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ZoneState, ZoneStatus } from '../sync/store.js';

const PREFIX = 'anycast_dns_';
const STATES: readonly ZoneState[] = ['ok', 'held', 'error'];
export type ReloadResult = 'success' | 'failure' | 'refused' | 'held' | 'removed';

export class ZoneSyncMetrics {
  readonly registry = new Registry();
  private readonly served: Gauge;
  private readonly serial: Gauge<'zone'>;
  private readonly records: Gauge<'zone'>;
  private readonly state: Gauge<'zone' | 'state'>;
  private readonly held: Gauge;
  private readonly reloads: Counter<'zone' | 'result'>;
  private readonly lastSuccess: Gauge<'zone'>;

  /** `popLabel` false leaves the `pop` label to the scraper (a target label). */
  constructor(identity: string, popLabel = true) {
    if (popLabel) this.registry.setDefaultLabels({ pop: identity });
    const registers = [this.registry];
    this.served = new Gauge({ name: `${PREFIX}zones_loaded`, help: 'Zones being served', registers });
    this.serial = new Gauge({ name: `${PREFIX}zone_serial`, help: 'SOA serial of the version of each zone served', labelNames: ['zone'], registers });
    this.records = new Gauge({ name: `${PREFIX}zone_records`, help: 'Records in the version of each zone served', labelNames: ['zone'], registers });
    this.state = new Gauge({ name: `${PREFIX}zone_state`, help: 'Zone sync state of each zone: 1 for its state (ok, held, error), 0 for the others', labelNames: ['zone', 'state'], registers });
    this.held = new Gauge({ name: `${PREFIX}zone_changes_held`, help: 'Zone changes held by a sync guard until `anycast-dns ctl reload --force`', registers });
    this.reloads = new Counter({ name: `${PREFIX}zone_reloads_total`, help: 'Zone versions tried, by result: success, failure (broken file), refused (serial went back), held (guard), removed', labelNames: ['zone', 'result'], registers });
    this.lastSuccess = new Gauge({ name: `${PREFIX}zone_last_reload_success_timestamp_seconds`, help: 'When the version of each zone served was loaded (Unix time)', labelNames: ['zone'], registers });
  }

  /** StoreEvents.status: the whole picture after a change, and the change itself. */
  update(statuses: readonly ZoneStatus[], event: { origin: string; result: ReloadResult } | null): void {
    if (event !== null) this.reloads.labels(event.origin, event.result).inc();
    this.serial.reset();
    this.records.reset();
    this.state.reset();
    this.lastSuccess.reset();
    let served = 0;
    let held = 0;
    for (const s of statuses) {
      if (s.serial !== null) {
        served++;
        this.serial.labels(s.zone).set(s.serial);
        this.records.labels(s.zone).set(s.records ?? 0);
        this.lastSuccess.labels(s.zone).set(Date.parse(s.loaded_at!) / 1000);
      }
      if (s.state === 'held') held++;
      for (const st of STATES) this.state.labels(s.zone, st).set(st === s.state ? 1 : 0);
    }
    this.served.set(served);
    this.held.set(held);
  }
}
