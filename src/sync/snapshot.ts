// A compiled zone as one file: how the primary hands each zone version to its worker processes.
// A worker reads the file in its loader thread and gets the zone's arrays as views of one buffer,
// transferred to the thread that answers queries: nothing there is parsed, copied or deserialized,
// so a million-record zone arriving never holds up an answer (sending it over the cluster channel
// did: each worker decoded the whole zone on its query thread).
//
// Layout: [u32 LE header length][header: JSON of the parts, each typed array replaced by its
// constructor name, offset and length][the arrays' bytes, each at an 8-octet boundary].
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZoneParts } from '../zone/zone.js';

type ArrayName = 'Uint8Array' | 'Uint16Array' | 'Uint32Array' | 'Int32Array';
const CONSTRUCTORS: Record<ArrayName, new (b: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  Uint8Array,
  Uint16Array,
  Uint32Array,
  Int32Array,
};
interface ArrayRef {
  $array: ArrayName;
  offset: number;
  length: number;
}

const ALIGN = 8;
const pad = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** Writes `parts` to `path` (synchronously: the primary answers no queries). */
export function writeSnapshot(path: string, parts: ZoneParts): void {
  const arrays: Uint8Array[] = [];
  let offset = 0;
  // The holder's own value: JSON.stringify hands a replacer a Buffer already turned into JSON by its toJSON.
  const header = JSON.stringify(parts, function (this: Record<string, unknown>, key: string, json: unknown) {
    const value = this[key];
    if (!ArrayBuffer.isView(value)) return json;
    const name = (value instanceof Buffer ? 'Uint8Array' : value.constructor.name) as ArrayName;
    if (!(name in CONSTRUCTORS)) throw new Error(`snapshot: cannot store a ${value.constructor.name}`);
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const ref: ArrayRef = { $array: name, offset, length: value.byteLength / (value as Uint8Array).BYTES_PER_ELEMENT };
    arrays.push(bytes);
    offset = pad(offset + bytes.length);
    return ref;
  });
  const head = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(pad(4 + head.length));
  prefix.writeUInt32LE(head.length, 0);
  head.copy(prefix, 4);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, prefix);
    let written = 0;
    for (const a of arrays) {
      writeSync(fd, a);
      written += a.length;
      const gap = pad(written) - written;
      if (gap > 0) writeSync(fd, Buffer.alloc(gap));
      written += gap;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads a snapshot: the parts, every array a view of one ArrayBuffer (to transfer between threads). */
export function readSnapshot(path: string): { parts: ZoneParts; buffer: ArrayBuffer } {
  let file = readFileSync(path);
  if (file.byteOffset % ALIGN !== 0) file = Buffer.from(file);
  const ab = file.buffer as ArrayBuffer;
  const headLength = file.readUInt32LE(0);
  const base = file.byteOffset + pad(4 + headLength);
  const parts = JSON.parse(file.toString('utf8', 4, 4 + headLength), (_key, value: unknown) => {
    const ref = value as ArrayRef | null;
    if (ref === null || typeof ref !== 'object' || !('$array' in ref)) return value;
    return new CONSTRUCTORS[ref.$array](ab, base + ref.offset, ref.length);
  }) as ZoneParts;
  return { parts, buffer: ab };
}

/**
 * The snapshot files of the zones a primary serves, in a directory of its own: the current one per
 * zone, and the one before it, which a worker may still be reading (an older one is gone, and a worker
 * that misses it asks for every zone again).
 */
export class ZoneSnapshots {
  private dir: string | null = null;
  private next = 0;
  private readonly files = new Map<string, { current: string; previous: string | null }>();

  /** Writes `parts` as the current snapshot of zone `key`; returns its path. */
  put(key: string, parts: ZoneParts): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'anycast-dns-zones-'));
    const path = join(this.dir, `${this.next++}.zone-snapshot`);
    writeSnapshot(path, parts);
    const old = this.files.get(key);
    if (old?.previous) rmSync(old.previous, { force: true });
    this.files.set(key, { current: path, previous: old?.current ?? null });
    return path;
  }

  remove(key: string): void {
    const old = this.files.get(key);
    this.files.delete(key);
    if (old?.previous) rmSync(old.previous, { force: true });
    // The current one may still be being read; it goes with the directory.
  }

  current(): { key: string; path: string }[] {
    return [...this.files].map(([key, f]) => ({ key, path: f.current }));
  }

  close(): void {
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
