// NOTIFY (RFC 1996) to the configured secondaries when a zone changes: one UDP message per zone and
// secondary, signed when the target has a key, sent again until it is answered or the tries run out
// (RFC 1996 §3.6), so a secondary learns of a new serial at once instead of at its next refresh.
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { formatListenAddress, type NotifyTarget } from '../ops/config.js';
import type { Logger } from '../log.js';
import type { NotifyResult } from '../ops/zone-metrics.js';
import type { ZoneChange } from '../sync/store.js';
import { TsigSigner } from '../wire/tsig.js';
import { FLAG_AA, FLAG_QR, HEADER_SIZE } from '../wire/query.js';
import { nameFromText } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';

const OPCODE_NOTIFY = 4;
/** RFC 1996 §3.6 leaves the interval to the primary: a lost datagram is sent again this long after, doubling each time. */
const FIRST_RETRY_MS = 1000;
const TRIES = 5;

interface Pending {
  zone: string;
  target: NotifyTarget;
  message: Buffer;
  tries: number;
  timer: NodeJS.Timeout;
}

export class NotifySender {
  private readonly sockets = new Map<4 | 6, Socket>();
  /** By message ID. */
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly targets: readonly NotifyTarget[],
    private readonly log: Logger,
    private readonly metrics: { notified(result: NotifyResult): void },
  ) {}

  /** Tells every target of each zone that changed (a zone removed is not notified). */
  changed(changes: readonly ZoneChange[]): void {
    if (this.targets.length === 0) return;
    for (const c of changes) {
      if (c.zone === null) continue;
      for (const target of this.targets) this.send(c.zone.originText, target);
    }
  }

  private send(zone: string, target: NotifyTarget): void {
    let id = randomInt(0x10000);
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    const message = notifyMessage(zone, id, target);
    const p: Pending = { zone, target, message, tries: 0, timer: undefined as unknown as NodeJS.Timeout };
    this.pending.set(id, p);
    this.attempt(id, p);
  }

  private attempt(id: number, p: Pending): void {
    p.tries++;
    this.socket(p.target.address.family).send(p.message, p.target.address.port, p.target.address.host);
    p.timer = setTimeout(() => {
      if (p.tries < TRIES) this.attempt(id, p);
      else {
        this.pending.delete(id);
        this.metrics.notified('unanswered');
        this.log.warn({ zone: p.zone, to: formatListenAddress(p.target.address), tries: p.tries }, 'notify not answered');
      }
    }, FIRST_RETRY_MS << (p.tries - 1));
    p.timer.unref();
  }

  private socket(family: 4 | 6): Socket {
    let s = this.sockets.get(family);
    if (s === undefined) {
      s = createSocket(family === 4 ? 'udp4' : 'udp6');
      s.on('message', this.onReply);
      s.on('error', (err) => this.log.warn({ err }, 'notify socket error'));
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private readonly onReply = (msg: Buffer): void => {
    if (msg.length < HEADER_SIZE || (msg[2]! & FLAG_QR) === 0 || ((msg[2]! >> 3) & 0x0f) !== OPCODE_NOTIFY) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(msg.readUInt16BE(0));
    const rcode = msg[3]! & 0x0f;
    const fields = { zone: p.zone, to: formatListenAddress(p.target.address), rcode, tries: p.tries };
    this.metrics.notified(rcode === 0 ? 'answered' : 'refused');
    if (rcode === 0) this.log.info(fields, 'notify answered');
    else this.log.warn(fields, 'notify refused');
  };

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}

/** RFC 1996 §3.7: opcode NOTIFY, AA set, the zone's SOA as the question. */
function notifyMessage(zone: string, id: number, target: NotifyTarget): Buffer {
  const name = nameFromText(zone, null);
  const msg = Buffer.alloc(HEADER_SIZE + name.length + 4);
  msg.writeUInt16BE(id, 0);
  msg[2] = (OPCODE_NOTIFY << 3) | FLAG_AA;
  msg.writeUInt16BE(1, 4);
  name.copy(msg, HEADER_SIZE);
  msg.writeUInt16BE(T.SOA, HEADER_SIZE + name.length);
  msg.writeUInt16BE(CLASS.IN, HEADER_SIZE + name.length + 2);
  return target.key === null ? msg : new TsigSigner(target.key, Math.floor(Date.now() / 1000)).sign(msg);
}
