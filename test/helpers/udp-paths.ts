// Both UDP paths for in-process tests: node:dgram and the native one. The native path must be built
// (npm install): a test asking for it fails when it is not, it never skips.
import type { ListenAddress } from '../../src/ops/config.js';
import type { Logger } from '../../src/log.js';
import type { ServerMetrics } from '../../src/ops/metrics.js';
import { loadNativeUdp } from '../../src/server/native-udp.js';
import { UdpListener, type UdpOptions } from '../../src/server/udp.js';
import { NativeUdpListener } from '../../src/server/udp-native.js';
import type { QueryHandler } from '../../src/wire/handler-types.js';

export const UDP_PATHS = ['dgram', 'native'] as const;
export type UdpPath = (typeof UDP_PATHS)[number];

/** A UDP listener on `path`, bound and reading. */
export async function openUdpListener(
  path: UdpPath,
  address: ListenAddress,
  handler: QueryHandler,
  metrics: ServerMetrics,
  log: Logger,
  opts: UdpOptions = { reusePort: false },
): Promise<UdpListener | NativeUdpListener> {
  let listener: UdpListener | NativeUdpListener;
  if (path === 'dgram') {
    listener = new UdpListener(address, handler, metrics, log, opts);
  } else {
    const { addon, reason } = loadNativeUdp();
    if (addon === null) throw new Error(`the native UDP path is unavailable: ${reason}`);
    listener = new NativeUdpListener(address, addon, handler, metrics, log, opts);
  }
  await listener.listen();
  return listener;
}

/** The udp_io value for servers the tests start (startAnycastDns): ANYCAST_DNS_UDP_IO, or the config's default. */
export function udpIoForTests(): Record<string, string> {
  const io = process.env['ANYCAST_DNS_UDP_IO'];
  return io === undefined || io === '' ? {} : { udp_io: io };
}
