// The pure state machine with a fake clock: rounds are fed at the times it asks for, and the routes
// ExaBGP would hold are rebuilt from the announce/withdraw effects it emits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { healthConfigFrom, GRACEFUL_SHUTDOWN, type HealthConfig } from '../../src/health/config.js';
import { initialState, judgeRound, step, type Attempt, type Effect, type HealthEvent, type HealthState, type Round } from '../../src/health/state-machine.js';

function config(health: Record<string, unknown> = {}): HealthConfig {
  return healthConfigFrom({
    identity: 'pop-test',
    zones: '/nonexistent',
    health: { local_as: 65001, routes: [{ prefix: '198.18.53.0/24' }], ...health },
  });
}

const ok = (ms = 1): Attempt => ({ outcome: 'ok', ms });
const timeout = (): Attempt => ({ outcome: 'timeout', ms: 250 });
const refused = (): Attempt => ({ outcome: 'refused', ms: 0.1, detail: 'connection refused' });
const bad = (detail = 'rcode SERVFAIL'): Attempt => ({ outcome: 'bad', ms: 1, detail });
const round = (...checks: Attempt[][]): Round => ({ checks: checks.map((attempts, i) => ({ check: `check${i}`, attempts })), maintenance: false });
const GOOD = round([ok()]);
const DEAD = round([refused()]);
const MAINT: Round = { ...GOOD, maintenance: true };

/** A fake ExaBGP + clock: runs the state machine the way the driver does. */
class Sim {
  state: HealthState = initialState();
  now = 0;
  nextProbe: number | null = null;
  wake: number | null = null;
  /** What ExaBGP holds: null = withdrawn. */
  route: { attrs: string; communities: string[] } | null = null;
  commands: { at: number; kind: 'announce' | 'withdraw'; detail: string }[] = [];
  logs: { from: string; to: string; reason: string }[] = [];
  exitCode: number | null = null;

  constructor(readonly cfg: HealthConfig) {}

  send(event: HealthEvent): Effect[] {
    const { state, effects } = step(this.state, event, this.cfg);
    this.state = state;
    for (const e of effects) {
      switch (e.kind) {
        case 'announce': {
          const detail = `med=${e.attributes.med} prepend=${e.attributes.asPathPrepend} comm=${[...e.attributes.communities, ...e.communities].join(',')}`;
          this.route = { attrs: detail, communities: [...e.attributes.communities, ...e.communities] };
          this.commands.push({ at: this.now, kind: 'announce', detail });
          break;
        }
        case 'withdraw':
          this.route = null;
          this.commands.push({ at: this.now, kind: 'withdraw', detail: '' });
          break;
        case 'log':
          this.logs.push(e);
          break;
        case 'probe':
          this.nextProbe = e.at;
          break;
        case 'wake':
          this.wake = e.at;
          break;
        case 'exit':
          this.exitCode = e.code;
          this.nextProbe = null;
          break;
      }
    }
    return effects;
  }

  start(): this {
    this.send({ type: 'start', now: this.now });
    return this;
  }

  /** Runs the next probe round at the time the state machine asked for. */
  round(r: Round, duration = 1): this {
    assert.notEqual(this.nextProbe, null, 'a probe round was scheduled');
    this.now = Math.max(this.now, this.nextProbe!) + duration;
    this.send({ type: 'round', now: this.now, round: r });
    return this;
  }

  rounds(n: number, r: Round): this {
    for (let i = 0; i < n; i++) this.round(r);
    return this;
  }

  get announced(): boolean {
    return this.route !== null;
  }
}

/** Deterministic PRNG (mulberry32) so the random cases are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One check with up to `attempts` tries, each lost with probability `loss`. */
function lossyRound(rand: () => number, loss: number, attempts: number): Round {
  const tries: Attempt[] = [];
  for (let i = 0; i < attempts; i++) {
    if (rand() < loss) tries.push(timeout());
    else {
      tries.push(ok(1));
      break;
    }
  }
  return round(tries);
}

describe('judgeRound', () => {
  const cases: { name: string; round: Round; healthy: boolean; loss?: number }[] = [
    { name: 'one answer', round: round([ok()]), healthy: true, loss: 0 },
    { name: 'answer on the third attempt', round: round([timeout(), timeout(), ok()]), healthy: true, loss: 2 / 3 },
    { name: 'every attempt lost', round: round([timeout(), timeout(), timeout(), timeout(), timeout()]), healthy: false, loss: 1 },
    { name: 'refused port fails at once', round: round([refused()]), healthy: false, loss: 0 },
    { name: 'wrong rcode', round: round([bad()]), healthy: false },
    { name: 'one check lost, another answered: loss, not death', round: round([ok()], [timeout(), timeout()]), healthy: true, loss: 2 / 3 },
    { name: 'one wrong answer among good ones fails', round: round([ok()], [bad('not authoritative (AA clear)')]), healthy: false },
    { name: 'nothing to probe (no zones) fails', round: { checks: [], maintenance: false }, healthy: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = judgeRound(c.round);
      assert.equal(v.healthy, c.healthy, v.reason);
      if (c.loss !== undefined) assert.equal(v.loss, c.loss);
    });
  }
});

describe('state machine', () => {
  it('starts withdrawn: the first effect withdraws whatever a previous instance left, then probes at once', () => {
    const sim = new Sim(config());
    const effects = sim.send({ type: 'start', now: 5 });
    assert.deepEqual(effects, [{ kind: 'withdraw' }, { kind: 'probe', at: 5 }]);
    assert.equal(sim.state.name, 'INIT');
  });

  const riseFall: { rise: number; fall: number }[] = [
    { rise: 1, fall: 1 },
    { rise: 3, fall: 3 },
    { rise: 5, fall: 2 },
  ];
  for (const { rise, fall } of riseFall) {
    it(`announces after exactly rise=${rise} healthy rounds and withdraws after exactly fall=${fall} failed ones`, () => {
      const sim = new Sim(config({ rise, fall })).start();
      sim.rounds(rise - 1, GOOD);
      assert.equal(sim.announced, false, 'not announced before rise rounds');
      if (rise > 1) assert.equal(sim.state.name, 'RISING');
      sim.round(GOOD);
      assert.equal(sim.announced, true);
      assert.equal(sim.state.name, 'UP');
      sim.rounds(fall - 1, DEAD);
      assert.equal(sim.announced, true, 'still announced before fall rounds');
      if (fall > 1) assert.equal(sim.state.name, 'FALLING');
      sim.round(DEAD);
      assert.equal(sim.announced, false);
      assert.equal(sim.state.name, 'DOWN');
      sim.rounds(rise - 1, GOOD);
      assert.equal(sim.announced, false, 'back only after rise rounds');
      sim.round(GOOD);
      assert.equal(sim.announced, true);
    });
  }

  it('probes fast while in transition and at the normal interval when settled', () => {
    const cfg = config({ interval: 1, fast_interval: 0.2, rise: 2, fall: 2 });
    const sim = new Sim(cfg).start();
    const gap = (): number => sim.nextProbe! - sim.now;
    sim.round(GOOD);
    assert.equal(sim.state.name, 'RISING');
    assert.equal(gap(), 200);
    sim.round(GOOD);
    assert.equal(sim.state.name, 'UP');
    assert.equal(gap(), 1000);
    sim.round(round([bad()]));
    assert.equal(sim.state.name, 'FALLING');
    assert.equal(gap(), 200);
    sim.round(round([bad()]));
    assert.equal(sim.state.name, 'DOWN');
    assert.equal(gap(), 1000);
  });

  it('confirms a refused port at confirm_interval: withdrawn (fall) rounds later, not fall intervals later', () => {
    const cfg = config({ interval: 1, fast_interval: 0.25, confirm_interval: 0.05, rise: 1, fall: 3 });
    const sim = new Sim(cfg).start();
    sim.round(GOOD);
    assert.equal(sim.announced, true);
    const diedAt = sim.now;
    sim.round(DEAD);
    assert.equal(sim.state.name, 'FALLING');
    assert.equal(sim.nextProbe! - sim.now, 50);
    sim.round(DEAD).round(DEAD);
    assert.equal(sim.announced, false);
    // The first failed round comes a full interval after the last good one; the two confirmations 50 ms apart.
    assert.ok(sim.now - diedAt <= 1000 + 2 * 50 + 3, `withdrawn ${sim.now - diedAt} ms after the last good round`);
    // A refused round between good ones is still only one failure: fall rounds in a row are needed.
    const flappy = new Sim(cfg).start();
    flappy.round(GOOD);
    for (let i = 0; i < 100; i++) flappy.round(i % 3 === 2 ? GOOD : DEAD);
    assert.equal(flappy.commands.filter((c) => c.kind === 'withdraw').length, 1, 'only the start-up withdrawal');
  });

  it('stale zones no peer has fresher: DEGRADED (announced, prepended), never withdrawn; fresh again: UP', () => {
    const sim = new Sim(config({ rise: 1, fall: 1 })).start();
    const stale: Attempt = { outcome: 'stale', ms: 0, detail: 'newest zone version was loaded 120 s ago' };
    const STALE = { checks: [{ check: 'udp', attempts: [ok()] }, { check: 'freshness', attempts: [stale] }], maintenance: false };
    sim.round(GOOD);
    sim.rounds(50, STALE);
    assert.equal(sim.state.name, 'DEGRADED');
    assert.match(sim.route!.attrs, /prepend=3/);
    assert.match(sim.logs.at(-1)!.reason, /loaded 120 s ago; no reachable peer serves fresher zones/);
    sim.round(GOOD);
    assert.equal(sim.state.name, 'UP');
    // Behind a fresher peer: the freshness check fails, and the POP withdraws like for any failure.
    const behind = { checks: [{ check: 'udp', attempts: [ok()] }, { check: 'freshness', attempts: [stale, bad('behind its peers')] }], maintenance: false };
    sim.round(behind);
    assert.equal(sim.announced, false);
    assert.equal(sim.state.name, 'DOWN');
  });

  it('needs every attempt of a round to be lost before the round fails', () => {
    const sim = new Sim(config({ rise: 1, fall: 1, attempts: 3 })).start();
    sim.round(GOOD);
    sim.rounds(20, round([timeout(), timeout(), ok()]));
    assert.equal(sim.announced, true);
    sim.round(round([timeout(), timeout(), timeout()]));
    assert.equal(sim.announced, false);
  });

  it('sends a command only on a change, never again each interval', () => {
    const sim = new Sim(config({ rise: 2 })).start();
    sim.rounds(500, GOOD);
    assert.deepEqual(sim.commands.map((c) => c.kind), ['withdraw', 'announce']);
    sim.rounds(500, DEAD);
    assert.deepEqual(sim.commands.map((c) => c.kind), ['withdraw', 'announce', 'withdraw']);
  });

  it('logs each transition once with its reason', () => {
    const sim = new Sim(config({ rise: 2, fall: 2 })).start();
    sim.rounds(10, GOOD).rounds(10, DEAD);
    assert.deepEqual(sim.logs.map((l) => `${l.from}>${l.to}`), ['INIT>RISING', 'RISING>UP', 'UP>FALLING', 'FALLING>DOWN']);
    assert.match(sim.logs[3]!.reason, /refused/);
  });

  it('does not flap under alternating failures', () => {
    const sim = new Sim(config({ fall: 2 })).start();
    sim.rounds(3, GOOD);
    for (let i = 0; i < 1000; i++) sim.round(i % 2 === 0 ? DEAD : GOOD);
    assert.equal(sim.commands.filter((c) => c.kind === 'withdraw').length, 1, 'only the start-up withdrawal');
    assert.equal(sim.announced, true);
  });

  it('does not flap under random single failures', () => {
    const rand = prng(7);
    const sim = new Sim(config()).start();
    sim.rounds(3, GOOD);
    let last: Round = GOOD;
    for (let i = 0; i < 5000; i++) {
      // Fail at random, but never twice in a row.
      last = last !== DEAD && rand() < 0.4 ? DEAD : GOOD;
      sim.round(last);
    }
    assert.equal(sim.commands.length, 2, sim.commands.map((c) => c.kind).join(','));
  });

  it('never withdraws a working server with 30% random probe loss over 10,000 rounds (it may go DEGRADED)', () => {
    const cfg = config();
    const rand = prng(20240601);
    const sim = new Sim(cfg).start();
    sim.rounds(cfg.rise, GOOD);
    assert.equal(sim.announced, true);
    const states = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      sim.round(lossyRound(rand, 0.3, cfg.attempts));
      states.add(sim.state.name);
      assert.equal(sim.announced, true, `withdrawn at round ${i}`);
    }
    assert.equal(sim.commands.filter((c) => c.kind === 'withdraw').length, 1, 'only the start-up withdrawal');
    assert.ok(states.has('DEGRADED'), 'sustained 30% loss is reported as DEGRADED');
    assert.ok(!states.has('DOWN'));
  });

  it('grows a hold-down after repeated flaps, up to the maximum, and forgets flaps outside the window', () => {
    const cfg = config({ rise: 1, fall: 1, interval: 1, fast_interval: 1, hold_down: { base: 10, max: 40, window: 600 } });
    const sim = new Sim(cfg).start();
    sim.round(GOOD);
    const downThenBack = (): number => {
      sim.round(DEAD);
      assert.equal(sim.announced, false);
      const downAt = sim.now;
      while (!sim.announced) sim.round(GOOD);
      return sim.now - downAt;
    };
    // First flap: back after rise (one round, 1 s); then held 10, 20, 40 (the maximum), 40 s.
    const waits = [downThenBack(), downThenBack(), downThenBack(), downThenBack(), downThenBack()];
    assert.deepEqual(waits.map((w) => Math.round(w / 1000)), [1, 10, 20, 40, 40]);
    // Quiet for longer than the window: the count starts again.
    sim.rounds(700, GOOD);
    assert.equal(Math.round(downThenBack() / 1000), 1);
  });

  it('drains and withdraws while the maintenance file exists, and comes back when it goes away', () => {
    const cfg = config({ rise: 2, drain_time: 5 });
    const sim = new Sim(cfg).start();
    sim.rounds(2, GOOD);
    assert.equal(sim.announced, true);
    sim.round(MAINT);
    assert.equal(sim.state.name, 'DISABLED');
    assert.deepEqual(sim.route?.communities, [GRACEFUL_SHUTDOWN], 'drained with GRACEFUL_SHUTDOWN first');
    const drainEnd = sim.wake!;
    assert.equal(drainEnd, sim.now + 5000);
    sim.rounds(2, MAINT);
    sim.now = drainEnd;
    sim.send({ type: 'timer', now: sim.now });
    assert.equal(sim.announced, false, 'withdrawn after drain_time');
    sim.rounds(10, MAINT);
    assert.equal(sim.announced, false, 'stays withdrawn while the file exists');
    sim.round(GOOD);
    assert.equal(sim.state.name, 'UP', 'healthy all along: back at once');
    assert.deepEqual(sim.route?.communities, []);
  });

  it('maintenance when not announced withdraws nothing more, and an unhealthy POP does not come back with the file removed', () => {
    const sim = new Sim(config()).start();
    sim.round(MAINT);
    assert.equal(sim.state.name, 'DISABLED');
    assert.equal(sim.commands.length, 1);
    sim.round(DEAD);
    assert.equal(sim.state.name, 'DOWN');
    assert.equal(sim.announced, false);
  });

  it('announces DEGRADED with the AS-path prepend when answers are slow, and returns to UP when they are fast again', () => {
    const cfg = config({ rise: 1, degraded: { latency: 0.05 } });
    const sim = new Sim(cfg).start();
    sim.round(GOOD);
    assert.equal(sim.state.name, 'UP');
    sim.rounds(20, round([ok(200)]));
    assert.equal(sim.state.name, 'DEGRADED');
    assert.equal(sim.announced, true, 'a slow POP is not withdrawn');
    assert.match(sim.route!.attrs, /prepend=3/);
    sim.rounds(50, round([ok(1)]));
    assert.equal(sim.state.name, 'UP');
    assert.match(sim.route!.attrs, /prepend=0/);
    const announces = sim.commands.filter((c) => c.kind === 'announce').length;
    assert.equal(announces, 3, 'UP, DEGRADED, UP: one command each');
  });

  it('on stop: announces with GRACEFUL_SHUTDOWN, waits drain_time, withdraws and exits 0', () => {
    const sim = new Sim(config({ rise: 1, drain_time: 15 })).start();
    sim.round(GOOD);
    sim.send({ type: 'stop', now: sim.now });
    assert.equal(sim.state.name, 'EXIT');
    assert.deepEqual(sim.route?.communities, [GRACEFUL_SHUTDOWN]);
    assert.equal(sim.wake, sim.now + 15_000);
    // Probe results arriving during the drain change nothing.
    sim.send({ type: 'round', now: sim.now + 1000, round: DEAD });
    assert.deepEqual(sim.route?.communities, [GRACEFUL_SHUTDOWN]);
    sim.send({ type: 'timer', now: sim.now + 14_000 });
    assert.equal(sim.exitCode, null, 'not before drain_time');
    sim.send({ type: 'timer', now: sim.now + 15_000 });
    assert.equal(sim.announced, false);
    assert.equal(sim.exitCode, 0);
  });

  it('a drain timer that fires early asks to be woken again instead of stalling', () => {
    for (const drainStart of ['stop', 'maintenance'] as const) {
      const sim = new Sim(config({ rise: 1, drain_time: 2 })).start();
      sim.round(GOOD);
      if (drainStart === 'stop') sim.send({ type: 'stop', now: sim.now });
      else sim.round(MAINT);
      const due = sim.wake!;
      sim.wake = null;
      // setTimeout fired a fraction of a millisecond before `due` by the driver's clock.
      sim.send({ type: 'timer', now: due - 0.4 });
      assert.equal(sim.wake, due, `${drainStart}: woken again at the drain's end`);
      assert.equal(sim.announced, true);
      sim.send({ type: 'timer', now: due });
      assert.equal(sim.announced, false, `${drainStart}: withdrawn once the drain is over`);
    }
  });

  it('on stop when not announced, or on a second stop, exits at once', () => {
    const idle = new Sim(config()).start();
    idle.round(DEAD);
    idle.send({ type: 'stop', now: idle.now });
    assert.equal(idle.exitCode, 0);
    assert.equal(idle.commands.length, 1);

    const busy = new Sim(config({ rise: 1 })).start();
    busy.round(GOOD);
    busy.send({ type: 'stop', now: busy.now });
    busy.send({ type: 'stop', now: busy.now + 1 });
    assert.equal(busy.announced, false);
    assert.equal(busy.exitCode, 0);
  });

  it('after a restart by ExaBGP: withdraws first and rebuilds from fresh probes', () => {
    const sim = new Sim(config({ rise: 3 })).start();
    sim.rounds(3, GOOD);
    assert.equal(sim.announced, true);
    // ExaBGP respawns the process: a fresh start from the initial state, whatever came before.
    sim.state = initialState();
    sim.start();
    assert.equal(sim.announced, false);
    sim.rounds(2, GOOD);
    assert.equal(sim.announced, false);
    sim.round(GOOD);
    assert.equal(sim.announced, true);
  });
});
