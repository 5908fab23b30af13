// The ceiling for any single-threaded Node.js UDP responder on this machine: receives a query, sets
// QR and sends the same bytes back, doing no DNS work at all. The serve benchmark compares
// anycast-dns with it.
//
//   node dist/bench/echo-server.js [--address 127.0.0.1] [--port 0] [--literal-lookup | --native]
// Prints `listening ADDRESS PORT` once bound (port 0 picks a free one). As written, it sends the way a
// minimal Node.js program does: socket.send() resolves the address with dns.lookup first. With
// --literal-lookup it takes anycast-dns's own dgram send path (the address is its own answer), which
// shows how much of the gap between the two is DNS work and how much is that choice. With --native it
// reads and writes batches through the native UDP path (native/udp.c), as anycast-dns does by default.
import { createSocket } from 'node:dgram';
import { loadNativeUdp } from '../src/server/native-udp.js';
import { literalLookup, SOCKET_BUFFER_BYTES } from '../src/server/udp.js';

function arg(flag: string, def: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

const address = arg('--address', '127.0.0.1');
const port = Number(arg('--port', '0'));

/** Like a real responder: ignore anything without a full header, and never answer a response (QR set). */
const isQuery = (msg: Uint8Array, at: number, length: number): boolean => length >= 12 && (msg[at + 2]! & 0x80) === 0;

function echoDgram(): void {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const socket = createSocket(process.argv.includes('--literal-lookup') ? { type, lookup: literalLookup } : { type });
  socket.on('message', (msg, rinfo) => {
    if (!isQuery(msg, 0, msg.length)) return;
    msg[2] = msg[2]! | 0x80;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  socket.bind(port, address, () => {
    // The same kernel buffers anycast-dns asks for: with the default ones the echo server drops queries
    // at full rate, each loss stalls a dnsperf slot until its timeout, and the ceiling reads low.
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    const a = socket.address();
    process.stdout.write(`listening ${a.address} ${a.port}\n`);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => socket.close(() => process.exit(0)));
}

function echoNative(): void {
  const { addon, reason } = loadNativeUdp();
  if (addon === null) throw new Error(`the native UDP path is unavailable: ${reason}`);
  // The socket's shared buffers, known once it is open; its callback runs only after that.
  const v = {} as { rx: Uint8Array; tx: Uint8Array; words: Uint32Array };
  const s = addon.open(address, port, false, SOCKET_BUFFER_BYTES, SOCKET_BUFFER_BYTES, (count) => {
    const { batch, slot } = s;
    const { rx, tx, words } = v;
    for (let i = 0; i < count; i++) {
      const length = words[i]!;
      const at = i * slot;
      if (!isQuery(rx, at, length)) continue;
      tx.set(rx.subarray(at, at + length), at);
      tx[at + 2] = tx[at + 2]! | 0x80;
      words[batch + i] = length;
    }
  });
  v.rx = new Uint8Array(s.rx);
  v.tx = new Uint8Array(s.tx);
  v.words = new Uint32Array(s.meta);
  process.stdout.write(`listening ${address} ${s.port}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => addon.close(s.handle, () => process.exit(0)));
}

if (process.argv.includes('--native')) echoNative();
else echoDgram();
