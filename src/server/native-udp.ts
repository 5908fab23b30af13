// The native UDP path (native/udp.c, built by `npm install`): loading it, and choosing it or
// node:dgram by `udp_io`. A missing or unloadable addon is never fatal unless `udp_io: native` asks for it.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { UdpIo } from '../ops/config.js';
import type { Logger } from '../log.js';

/** The addon's socket, opened and already reading: every buffer is shared with native code. */
export interface NativeSocket {
  /** The addon's handle, for close(). */
  handle: unknown;
  /** The datagrams received, `batch` of at most `slot` octets: the first `head` octets of each side by side, then the rest of each, `slot - head` apart. */
  rx: ArrayBuffer;
  /** `batch` times `slot` octets: the answers, one after another. */
  tx: ArrayBuffer;
  /** 32-bit words, `batch` each: received length (0: too big, dropped), answer length, peer port, interface; 16 octets each of peer and local address; where each answer starts in tx. */
  meta: ArrayBuffer;
  /** Float64 counters: datagrams too big for a slot, answers dropped (EAGAIN, ENOBUFS), answers failed (other errors). */
  stats: ArrayBuffer;
  port: number;
  batch: number;
  slot: number;
  head: number;
}

/** The layout of the memory shared with the addon that this code reads (native/udp.c's LAYOUT). */
const LAYOUT = 2;

export interface NativeUdpAddon {
  /** Absent from a build before the receive memory was split (layout 1). */
  layout?: number;
  open(host: string, port: number, reusePort: boolean, recvBufferBytes: number, sendBufferBytes: number, onBatch: (count: number) => void): NativeSocket;
  close(handle: unknown, onClosed?: () => void): void;
  /** malloc_trim(0) in libuv's thread pool: free pages of every malloc arena back to the system; absent from an addon built before it. */
  releaseFreeMemory?(): Promise<boolean>;
}

/** Where `npm install` builds the addon: build/Release under the package root (this file is in dist/src/server/). */
const ADDON_PATH = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'build', 'Release', 'anycast_udp.node');

export type AddonLoad = { addon: NativeUdpAddon; reason: null } | { addon: null; reason: string };

let loaded: AddonLoad | null = null;

/** Loads the addon once per process; the reason says why it is unavailable. */
export function loadNativeUdp(): AddonLoad {
  if (loaded !== null) return loaded;
  if (process.platform !== 'linux') {
    loaded = { addon: null, reason: `it needs Linux (recvmmsg, sendmmsg), this is ${process.platform}` };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeUdpAddon;
    const layout = addon.layout ?? 1;
    loaded = layout === LAYOUT ? { addon, reason: null } : { addon: null, reason: `${ADDON_PATH} was built by another version (memory layout ${layout}, this one reads ${LAYOUT}): npm install rebuilds it` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'MODULE_NOT_FOUND' ? `${ADDON_PATH} was not built (npm install builds it; it needs a C compiler and make)` : `${ADDON_PATH} did not load: ${e.message}`;
    loaded = { addon: null, reason: why };
  }
  return loaded;
}

/**
 * Gives the memory malloc holds free back to the system, when the addon is there to ask glibc (the
 * zone loader threads' memory, once they have ended: see the addon's releaseFreeMemory).
 */
export function releaseFreeMemory(): void {
  void loadNativeUdp().addon?.releaseFreeMemory?.();
}

/**
 * The UDP path `udp_io` asks for: `native` must load (else start-up stops, naming the key), `auto`
 * takes it when it loads. One log line says which path runs and why, to `popLog`: every answering
 * thread of a process takes the same path, so one of them says it (the others pass null).
 */
export function chooseUdpPath(udpIo: UdpIo, popLog: Logger | null): NativeUdpAddon | null {
  if (udpIo === 'dgram') {
    popLog?.info({ udp_io: udpIo, path: 'dgram' }, 'udp path: node:dgram, as udp_io asks');
    return null;
  }
  const { addon, reason } = loadNativeUdp();
  if (addon !== null) {
    popLog?.info({ udp_io: udpIo, path: 'native' }, 'udp path: native (recvmmsg/sendmmsg)');
    return addon;
  }
  if (udpIo === 'native') throw new ConfigError('udp_io', `is native, but the native UDP path is unavailable: ${reason}`);
  popLog?.warn({ udp_io: udpIo, path: 'dgram', reason }, `udp path: node:dgram, the native path is unavailable: ${reason}`);
  return null;
}
