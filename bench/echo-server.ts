// The ceiling for any single-threaded Node.js UDP responder on this machine: receives a query, sets
// QR and sends the same bytes back, doing no DNS work at all. The serve benchmark compares
// anycast-dns with it.
//
//   node dist/bench/echo-server.js [--address 127.0.0.1] [--port 0] [--literal-lookup]
// Prints `listening ADDRESS PORT` once bound (port 0 picks a free one). As written, it sends the way a
// minimal Node.js program does: socket.send() resolves the address with dns.lookup first. With
// --literal-lookup it takes anycast-dns's own send path (the address is its own answer), which shows
// how much of the gap between the two is DNS work and how much is that choice.
import { createSocket } from 'node:dgram';
import { literalLookup } from '../src/server/udp.js';

function arg(flag: string, def: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

const address = arg('--address', '127.0.0.1');
const type = address.includes(':') ? 'udp6' : 'udp4';
const socket = createSocket(process.argv.includes('--literal-lookup') ? { type, lookup: literalLookup } : { type });

socket.on('message', (msg, rinfo) => {
  // Like a real responder: ignore anything without a full header, and never answer a response (QR set).
  if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return;
  msg[2] = msg[2]! | 0x80;
  socket.send(msg, rinfo.port, rinfo.address);
});

socket.bind(Number(arg('--port', '0')), address, () => {
  // The same kernel buffers anycast-dns asks for: with the default ones the echo server drops queries
  // at full rate, each loss stalls a dnsperf slot until its timeout, and the ceiling reads low.
  socket.setRecvBufferSize(4 * 1024 * 1024);
  socket.setSendBufferSize(4 * 1024 * 1024);
  const a = socket.address();
  process.stdout.write(`listening ${a.address} ${a.port}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => socket.close(() => process.exit(0)));
