// A flood for the tests of one rate limiter per POP: one name asked from many source ports of one
// address, which the kernel spreads over every answering thread's socket (SO_REUSEPORT picks by
// source address and port), so a limiter per thread would let the rate through once per thread.
import { createSocket, type Socket } from 'node:dgram';
import { parseMessage, type WireMessage } from './dns-message.js';
import { encodeQuery, type QueryOptions } from './dns-query.js';
import { sleep, waitFor } from './wait.js';

/** `count` UDP sockets on `address`, each on a source port of its own; every reply, parsed, lands in `replies`. */
export function sourcePorts(address: string, count: number, replies: WireMessage[]): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const s = createSocket('udp4');
      s.on('message', (m) => replies.push(parseMessage(m)));
      await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
      return s;
    }),
  );
}

/** Queries a burst, and bursts' spacing. */
const BURST = 100;
const BURST_GAP_MS = 100;

/**
 * `bursts` bursts of 100 queries `question` to 127.0.0.1:`port`, 100 ms apart, spread over `ports`
 * source ports of `address`. Begun early in a second of the clock, so every burst falls within one
 * second of the server's (the limiter counts whole seconds): the first spends the bucket's credit
 * and runs it into debt. Resolves, half a second after the last burst, with every reply and how
 * many were full answers (NOERROR, not truncated).
 */
export async function floodOneName(port: number, from: { address: string; ports: number }, question: QueryOptions, bursts: number): Promise<{ replies: WireMessage[]; full: number }> {
  const replies: WireMessage[] = [];
  const sockets = await sourcePorts(from.address, from.ports, replies);
  try {
    await waitFor(() => Date.now() % 1000 >= 100 && Date.now() % 1000 < 300, { timeoutMs: 2000, intervalMs: 5, what: 'the start of a second' });
    for (let burst = 0; burst < bursts; burst++) {
      for (let i = 0; i < BURST; i++) sockets[i % sockets.length]!.send(encodeQuery(question, burst * BURST + i), port, '127.0.0.1');
      await sleep(BURST_GAP_MS);
    }
    await sleep(500);
  } finally {
    for (const s of sockets) s.close();
  }
  return { replies, full: replies.filter((r) => !r.tc && r.rcode === 0).length };
}
