// The reload benchmark's steady load, in a thread of its own: `www.example.com A` asked at a fixed
// rate from one socket, and how long each answer took. The client's own pauses would be counted as
// the server's (an answer read late by a held-up event loop looks like an answer sent late), so it
// runs apart from the benchmark's main thread, which asks for the new serial and reads /proc
// meanwhile, and it allocates next to nothing per query, so that its garbage collections are short.
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** A wait for an answer: when the query was sent (ms since the epoch) and how long its answer took (ms). */
export interface Wait {
  sentAt: number;
  ms: number;
}

export interface SteadyResult {
  waits: Wait[];
  /** Unanswered within 1 s. */
  lost: number;
  sent: number;
}

interface Start {
  port: number;
  rate: number;
}

/** Milliseconds since the epoch, comparable between threads (each has its own performance.timeOrigin). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The load thread's young generation, in MiB: it allocates little (the queries are made in advance,
 * the times kept in typed arrays), so each of its scavenges is short, never a pause counted as the
 * server's.
 */
const YOUNG_GENERATION_MB = 2;
/** Query IDs: each has its query made in advance, reused only after every other was sent. */
const IDS = 0x10000;

/** Starts asking at `rate` queries per second in another thread; stop() waits 1 s for late answers. */
export function steadyLoad(port: number, rate: number): { stop(): Promise<SteadyResult> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: { port, rate } satisfies Start, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  const result = new Promise<SteadyResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      return r;
    },
  };
}

function run({ port, rate }: Start): void {
  const sock = createSocket('udp4');
  const question = Buffer.from('00000000000100000000000003777777076578616d706c6503636f6d0000010001', 'hex');
  // One query per ID, made now: a send the kernel can't take at once is queued with the buffer given.
  const queries = Array.from({ length: IDS }, (_, id) => {
    const q = Buffer.from(question);
    q.writeUInt16BE(id, 0);
    return q;
  });
  /** When the query of each ID left (epochMs), or 0 when none is waiting. */
  const sentAt = new Float64Array(IDS);
  let waiting = 0;
  /** Pairs (sent at, waited ms), appended as answers come. */
  let waits = new Float64Array(1 << 16);
  let answered = 0;
  let lost = 0;
  let sent = 0;
  let id = 0;
  sock.on('message', (msg) => {
    const now = epochMs();
    const i = msg.readUInt16BE(0);
    const t = sentAt[i]!;
    if (t === 0) return;
    sentAt[i] = 0;
    waiting--;
    if (2 * answered + 2 > waits.length) {
      const more = new Float64Array(waits.length * 2);
      more.set(waits);
      waits = more;
    }
    waits[2 * answered] = t;
    waits[2 * answered + 1] = now - t;
    answered++;
  });
  /** Queries unanswered after 1 s are lost: looked for once a second, over every ID. */
  const expire = (now: number): void => {
    for (let i = 0; i < IDS; i++) {
      if (sentAt[i] !== 0 && now - sentAt[i]! > 1000) {
        sentAt[i] = 0;
        waiting--;
        lost++;
      }
    }
  };
  let expiredAt = epochMs();
  const timer = setInterval(() => {
    const now = epochMs();
    if (now - expiredAt >= 1000) {
      expire(now);
      expiredAt = now;
    }
    // A burst per 10 ms tick keeps the rate without a timer per query.
    for (let i = 0; i < rate / 100; i++) {
      id = (id + 1) % IDS;
      sentAt[id] = epochMs();
      waiting++;
      sock.send(queries[id]!, port, '127.0.0.1');
      sent++;
    }
  }, 10);
  parentPort!.once('message', () => {
    clearInterval(timer);
    setTimeout(() => {
      lost += waiting;
      sock.close();
      const out: Wait[] = [];
      for (let i = 0; i < answered; i++) out.push({ sentAt: waits[2 * i]!, ms: waits[2 * i + 1]! });
      parentPort!.postMessage({ waits: out, lost, sent } satisfies SteadyResult);
    }, 1000);
  });
}

if (!isMainThread) run(workerData as Start);
