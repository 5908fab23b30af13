// The kit's waits: waitFor returns the first truthy value, gives the predicate a last chance at the
// deadline, fails naming what it waited for, and lets a predicate's own error through; withTimeout
// bounds a promise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sleep, waitFor, withTimeout, WaitTimeoutError } from './wait.js';

describe('waitFor', () => {
  it('resolves with the first truthy value the predicate returns', async () => {
    let calls = 0;
    const got = await waitFor(() => (++calls === 3 ? { calls } : null), { timeoutMs: 2000, intervalMs: 5, what: 'a third call' });
    assert.deepEqual(got, { calls: 3 });
  });

  it('fails after the timeout naming what it waited for, with the detail asked at that moment', async () => {
    let polls = 0;
    const started = performance.now();
    await assert.rejects(
      waitFor(() => (polls++, false), { timeoutMs: 120, intervalMs: 20, what: 'the flag to be set', detail: () => `${polls} polls` }),
      (err: Error) => {
        assert.ok(err instanceof WaitTimeoutError);
        assert.match(err.message, /^timed out after 120 ms waiting for the flag to be set; \d+ polls$/);
        return true;
      },
    );
    assert.ok(performance.now() - started >= 120, 'not before the timeout');
    // 7 in theory (a poll every 20 ms and one at the deadline); a timer may wake a fraction of a
    // millisecond before the deadline, which takes a poll or two more, never a busy loop.
    assert.ok(polls >= 2 && polls <= 10, `polled every interval, with a last try at the deadline (${polls} polls)`);
  });

  it('asks once more at the deadline', async () => {
    const until = performance.now() + 100;
    // True only from the deadline on: without the last try, the wait would fail.
    await waitFor(() => performance.now() >= until, { timeoutMs: 100, intervalMs: 1000, what: 'the deadline' });
  });

  it("ends with the predicate's own error", async () => {
    await assert.rejects(
      waitFor(
        () => {
          throw new Error('the server exited');
        },
        { timeoutMs: 1000, what: 'anything' },
      ),
      /^Error: the server exited$/,
    );
  });
});

describe('withTimeout', () => {
  it('passes the value through, or fails naming what it waited for', async () => {
    assert.equal(await withTimeout(sleep(5).then(() => 7), 1000, 'seven'), 7);
    await assert.rejects(withTimeout(sleep(1000), 20, 'the slow one'), /timed out waiting for the slow one/);
  });
});
