// Where `anycast-dns ctl` finds the server: --server; else management.listen in --config, or in the
// default config file when it exists; else the endpoint `serve` opens without a config.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ctlServer } from '../../src/commands/ctl.js';
import { UsageError } from '../../src/errors.js';

describe('ctl: which server it talks to', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-ctl-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const absent = join(dir, 'no-such.yaml');

  it('with no flags and no default config: the default endpoint, 127.0.0.1:9153, and says so', () => {
    const r = ctlServer({}, absent);
    assert.equal(r.address, '127.0.0.1:9153');
    assert.match(r.from, /default endpoint/);
  });

  it('with no flags: the default config file when it exists, its default endpoint when it names none', () => {
    assert.deepEqual(ctlServer({}, config('set.yaml', 'management: { listen: "127.0.0.1:9999" }\n')), {
      address: '127.0.0.1:9999',
      from: `management.listen in ${join(dir, 'set.yaml')}`,
    });
    assert.equal(ctlServer({}, config('bare.yaml', 'identity: pop1\n')).address, '127.0.0.1:9153');
  });

  it('--config beats the default config, --server beats both', () => {
    const etc = config('etc.yaml', 'management: { listen: "127.0.0.1:1111" }\n');
    const mine = config('mine.yaml', 'management: { listen: "[::1]:2222" }\n');
    assert.equal(ctlServer({ config: mine }, etc).address, '[::1]:2222');
    assert.equal(ctlServer({ config: mine, server: '127.0.0.1:3333' }, etc).address, '127.0.0.1:3333');
  });

  it('a config that turns the endpoint off is a usage error naming the file', () => {
    const off = config('off.yaml', 'management: { listen: null }\n');
    assert.throws(() => ctlServer({ config: off }, absent), (err: unknown) => err instanceof UsageError && /off\.yaml has management\.listen: null/.test(err.message));
  });
});
