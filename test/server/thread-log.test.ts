// A query thread's log lines as they cross to the main thread: the configured level holds there,
// bindings of child loggers ride along, and an Error keeps what the log line needs of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadLogger, type LogLine } from '../../src/server/thread-log.js';

function capture(): { lines: LogLine[]; post: (l: LogLine) => void } {
  const lines: LogLine[] = [];
  return { lines, post: (l) => lines.push(structuredClone(l)) };
}

test('lines below the configured level are not sent', () => {
  const { lines, post } = capture();
  const log = threadLogger('warn', post);
  log.debug({ a: 1 }, 'debug');
  log.info('info');
  log.warn({ b: 2 }, 'warned');
  log.error('failed');
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['warn', 'warned'], ['error', 'failed']]);
  assert.deepEqual(lines[0]!.fields, { b: 2 });
  assert.deepEqual(lines[1]!.fields, {});
});

test('silent sends nothing; debug sends debug', () => {
  const quiet = capture();
  threadLogger('silent', quiet.post).fatal('x');
  assert.equal(quiet.lines.length, 0);
  const loud = capture();
  threadLogger('debug', loud.post).debug('x');
  assert.equal(loud.lines.length, 1);
});

test('a child adds its bindings; the line\'s own fields win', () => {
  const { lines, post } = capture();
  threadLogger('info', post).child({ listen: 'a', x: 1 }).child({ y: 2 }).info({ x: 3 }, 'm');
  assert.deepEqual(lines[0]!.fields, { listen: 'a', x: 3, y: 2 });
});

test('an Error arrives with its type, message, stack and code', () => {
  const { lines, post } = capture();
  const err = Object.assign(new Error('bind failed'), { code: 'EADDRINUSE' });
  threadLogger('info', post).error({ err }, 'tcp listener error');
  const sent = lines[0]!.fields['err'] as Record<string, unknown>;
  assert.equal(sent['type'], 'Error');
  assert.equal(sent['message'], 'bind failed');
  assert.equal(sent['code'], 'EADDRINUSE');
  assert.match(String(sent['stack']), /bind failed/);
});
