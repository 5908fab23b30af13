// TEST ONLY: faults a query thread can be made to suffer, so the supervision in threads.ts can be
// tested against real failures. ANYCAST_DNS_TEST_FAULTS names a directory; every query thread looks
// there a few times a second for a file `crash` or `hang`, and the first to take it (an atomic
// rename to `crash.<thread index>`, `hang.<thread index>`) throws out of its event loop or spins
// forever. Unset (as it must be in production), nothing is watched.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';

const FAULT_ENV = 'ANYCAST_DNS_TEST_FAULTS';
const LOOK_EVERY_MS = 100;
const FAULTS = ['crash', 'hang'] as const;

export function watchTestFaults(index: number, log: Logger): void {
  const dir = process.env[FAULT_ENV];
  if (dir === undefined || dir === '') return;
  setInterval(() => {
    for (const fault of FAULTS) {
      try {
        renameSync(join(dir, fault), join(dir, `${fault}.${index}`));
      } catch {
        continue; // not asked for, or another thread took it
      }
      log.warn({ fault }, 'test fault');
      if (fault === 'crash') throw new Error(`${FAULT_ENV}: thread ${index} crashes as asked`);
      for (;;);
    }
  }, LOOK_EVERY_MS).unref();
}
