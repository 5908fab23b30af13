// The secondary zones as the server runs them, the same with or without query threads: made before
// zone sync's first scan (their state files are served from it), started once it has loaded, and
// shown and driven through the management endpoint.
import type { Logger } from '../log.js';
import type { ServerConfig } from '../ops/config.js';
import type { ManagementSources } from '../ops/http.js';
import { SecondaryZones, type SecondaryMetrics } from '../secondary/service.js';
import type { SecondaryZone } from '../secondary/config.js';
import type { ZoneSync } from '../sync/service.js';

/** The secondary zones of the config, ready for zone sync to serve their state files; null when there are none. */
export function prepareSecondaries(cfg: ServerConfig, log: Logger, metrics: SecondaryMetrics, zonesChanged: (zones: SecondaryZone[]) => void): SecondaryZones | null {
  if (cfg.secondary === null) return null;
  const s = new SecondaryZones(cfg.secondary, log, metrics, Date.now, zonesChanged);
  s.prepare(cfg.zones, cfg.zoneFiles);
  return s;
}

/** `/zones` with the secondary zones' refresh state, and `/refresh`, `/retransfer`. */
export function secondarySources(sync: () => ZoneSync | null, secondaries: () => SecondaryZones | null): Pick<ManagementSources, 'zones' | 'refresh'> {
  const zones = (): ReturnType<ManagementSources['zones']> => {
    const s = secondaries();
    const statuses = sync()?.store.status() ?? [];
    return s === null ? statuses : s.status(statuses);
  };
  return {
    zones,
    refresh: (zone, axfr) => {
      const s = secondaries();
      if (s === null || !s.has(zone)) return null;
      return s.refresh(zone, { axfr, reason: axfr ? 'retransfer' : 'refresh' }).then(zones);
    },
  };
}
