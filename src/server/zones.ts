// Loading the zones directory at start-up: every zone that loads is served, every zone that fails
// is reported with its `file:line: message` errors and left out, so one bad file never takes the
// other zones down.
import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Logger } from '../ops/log.js';
import type { ServerMetrics } from '../ops/metrics.js';
import { loadZoneDir } from '../zone/loader.js';
import { formatDiagnostic } from '../zone/parser.js';
import type { ZoneSet } from '../zone/zone.js';

export function loadServedZones(dir: string, log: Logger, metrics: ServerMetrics): ZoneSet {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new ConfigError('zones', `${dir} is not a directory`);

  const { zones, results } = loadZoneDir(dir);
  for (const r of results) {
    for (const w of r.warnings) log.warn({ origin: r.origin, warning: formatDiagnostic(w) }, 'zone warning');
    if (r.zone) {
      log.info({ origin: r.zone.originText, serial: r.zone.serial, records: r.zone.recordCount, file: r.file }, 'zone loaded');
    } else {
      metrics.zoneLoadFailed(r.origin);
      log.error({ origin: r.origin, file: r.file, errors: r.errors.map(formatDiagnostic) }, 'zone not loaded');
    }
  }
  const served = [...zones.zones.values()];
  metrics.zonesServed(served);
  if (served.length === 0) log.warn({ dir }, 'no zones loaded: every query will be refused');
  return zones;
}
