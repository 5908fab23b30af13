// The whole system on the anycast lab (deploy/lab): BIRD as the router, three POPs of anycast-dns
// with their sidecars under ExaBGP, a client at 200 queries/s and a sync source, in network
// namespaces the lab makes and removes. The lab is driven through its HTTP API, the one its web view's
// buttons use; what the client saw (NSID of each answer, unanswered queries) comes from its /api/state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../helpers/paths.js';
import { requireBinary } from '../helpers/peers.js';
import { sleep, waitFor } from '../helpers/wait.js';

interface Route {
  pop: string;
  best: boolean;
  asPath: string;
  communities: string;
}
interface PopState {
  name: string;
  server: string;
  route: Route | null;
  sidecar: { state: string; reason: string; draining: boolean } | null;
  serials: Record<string, number | null>;
}
interface Failover {
  t: number;
  from: string;
  to: string;
  gapMs: number | null;
  unanswered: number;
}
interface LabState {
  client: { current: string | null; lost: number; sent: number; unansweredNow: number };
  pops: PopState[];
  timeline: Failover[];
  events: { t: number; kind: string; pop?: string; setupMs?: number }[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the anycast lab: three POPs, BIRD, ExaBGP and a client', { timeout: 240_000 }, () => {
  let lab: ChildProcess | undefined;
  let base = '';
  let log = '';
  const figures: Record<string, number[] | number> = { killToNextPopMs: [], killToWithdrawnMs: [] };

  const state = async (): Promise<LabState> => (await (await fetch(`${base}api/state`)).json()) as LabState;
  const pop = (s: LabState, name: string): PopState => s.pops.find((p) => p.name === name)!;
  async function act(action: string, popName?: string, extra: Record<string, unknown> = {}): Promise<{ t: number }> {
    const r = await fetch(`${base}api/action`, { method: 'POST', body: JSON.stringify({ action, ...(popName ? { pop: popName } : {}), ...extra }) });
    const body = (await r.json()) as { event: { t: number }; error?: string };
    assert.equal(r.status, 200, body.error);
    return body.event;
  }
  async function until(what: string, pred: (s: LabState) => boolean, timeoutMs: number): Promise<LabState> {
    let last: LabState | undefined;
    return waitFor(
      async () => {
        last = await state();
        return pred(last) ? last : null;
      },
      { timeoutMs, intervalMs: 50, what, detail: () => `lab state: ${JSON.stringify(last?.pops.map((p) => ({ ...p, serials: undefined })))}\nlab log tail: ${log.slice(-2000)}` },
    );
  }
  const allUp = (s: LabState): boolean => s.pops.every((p) => p.route !== null && p.sidecar?.state === 'UP');

  before(async () => {
    for (const [bin, pkg] of [['bird', 'bird2'], ['birdc', 'bird2'], ['exabgp', 'exabgp'], ['ip', 'iproute2']] as const) requireBinary(bin, pkg);
    const startedAt = performance.now();
    lab = spawn(process.execPath, [join(REPO_ROOT, 'deploy', 'lab', 'lab.mjs'), 'up', '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    lab.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    lab.stdout!.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /lab view: (http:\S+)/.exec(log);
      if (m) base = m[1]!;
    });
    await waitFor(() => base !== '' || lab!.exitCode !== null, { timeoutMs: 30_000, what: 'the lab to come up', detail: () => log });
    assert.notEqual(base, '', `the lab did not start: ${log}`);
    await until('every POP announced and UP, the client answered', (s) => allUp(s) && s.client.current !== null, 40_000);
    figures.setupMs = Math.round(performance.now() - startedAt);
  });

  after(async () => {
    if (lab && lab.exitCode === null) {
      const t = performance.now();
      lab.kill('SIGTERM');
      await Promise.race([new Promise((r) => lab!.once('exit', r)), sleep(30_000)]);
      figures.teardownMs = Math.round(performance.now() - t);
    }
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`adnslab-${lab?.pid}-`));
    process.stderr.write(`lab figures: ${JSON.stringify(figures)}\n`);
    assert.deepEqual(left, [], 'the lab removed its namespaces');
  });

  it('the client is answered by the nearest POP (the shortest AS path)', async () => {
    const s = await until('pop1 answering', (x) => x.client.current === 'pop1', 10_000);
    assert.equal(pop(s, 'pop1').route?.best, true);
    assert.equal(pop(s, 'pop1').route?.asPath, '64501');
    assert.equal(pop(s, 'pop3').route?.asPath, '64503 64503 64503');
  });

  it('its server killed, the next POP answers (5 runs); restarted, traffic returns after the rise rounds', async () => {
    for (let i = 0; i < 5; i++) {
      await until('pop1 announced, UP and answering', (s) => pop(s, 'pop1').sidecar?.state === 'UP' && s.client.current === 'pop1', 20_000);
      // Land the kill at different points of the probe interval.
      await sleep(700 + i * 230);
      const killed = await act('kill', 'pop1');
      const s = await until('pop2 answering', (x) => x.timeline.some((f) => f.t > killed.t && f.from === 'pop1' && f.to === 'pop2'), 10_000);
      const failover = s.timeline.find((f) => f.t > killed.t && f.to === 'pop2')!;
      (figures.killToNextPopMs as number[]).push(failover.t - killed.t);
      const withdrawn = s.events.find((e) => e.kind === 'withdrawn' && e.pop === 'pop1' && e.t > killed.t);
      if (withdrawn) (figures.killToWithdrawnMs as number[]).push(withdrawn.t - killed.t);
      await act('start', 'pop1');
      const back = await until('pop1 answering again', (x) => x.client.current === 'pop1', 20_000);
      // Back to pop1 (from pop2, or from pop3 should pop2 have wavered meanwhile).
      assert.ok(back.timeline.some((f) => f.t > killed.t && f.to === 'pop1'));
    }
    const m = median(figures.killToNextPopMs as number[]);
    assert.ok(m <= 1000, `the next POP answers ${m} ms (median) after the server dies: ${JSON.stringify(figures)}`);
  });

  it('maintenance drains pop1 to pop2 with no unanswered query at 200 queries/s', async () => {
    await until('pop1 answering', (s) => s.client.current === 'pop1' && pop(s, 'pop1').sidecar?.state === 'UP', 20_000);
    const before = await state();
    const started = await act('maintenance', 'pop1');
    try {
      await until('pop1 withdrawn after its drain', (s) => pop(s, 'pop1').route === null && s.client.current === 'pop2', 15_000);
      // Every query sent before the withdrawal has had its full second to be answered.
      await sleep(1500);
      const s = await state();
      const drained = s.timeline.filter((f) => f.t > started.t);
      assert.deepEqual(drained.map((f) => `${f.from}>${f.to}`), ['pop1>pop2']);
      figures.drainUnanswered = s.client.lost - before.client.lost;
      figures.drainQueries = s.client.sent - before.client.sent;
      assert.equal(s.client.lost - before.client.lost, 0, `queries unanswered while draining: ${JSON.stringify(drained)}`);
    } finally {
      // Out of maintenance whatever happened, so the next tests start from a whole lab.
      await act('resume', 'pop1');
    }
    await until('pop1 back', (x) => x.client.current === 'pop1', 20_000);
  });

  it('pop1 made slow goes DEGRADED (prepended, still announced): the client moves to pop2; fast again, it returns', async () => {
    await until('pop1 answering', (s) => s.client.current === 'pop1' && allUp(s), 20_000);
    await act('slow', 'pop1');
    try {
      // The lab reads the sidecar, the route and the client at different moments: wait for all three.
      await until(
        'pop1 DEGRADED, its route prepended (still announced), and pop2 answering',
        (x) => pop(x, 'pop1').sidecar?.state === 'DEGRADED' && pop(x, 'pop1').route?.asPath === '64501 64501 64501 64501' && x.client.current === 'pop2',
        20_000,
      );
    } finally {
      // Fast again whatever happened, so the tests after this one start from a whole lab.
      await act('fast', 'pop1');
    }
    await until('pop1 UP and answering again', (x) => pop(x, 'pop1').sidecar?.state === 'UP' && x.client.current === 'pop1', 30_000);
  });

  it('a zone version pushed to the sync source is served by all three POPs within 3 s', async () => {
    const s0 = await state();
    const serial = (pop(s0, 'pop1').serials['example.com.'] ?? 0) + 1;
    const pushed = await act('push');
    const s = await until(`serial ${serial} everywhere`, (x) => x.pops.every((p) => p.serials['example.com.'] === serial), 10_000);
    const ms = Date.now() - pushed.t;
    figures.pushToAllPopsMs = ms;
    assert.ok(ms <= 3000, `served everywhere ${ms} ms after the push`);
    assert.ok(allUp(s));
  });

  it('the sync source cut: every POP goes stale and DEGRADED, none withdraws', async () => {
    await act('cut-sync');
    const s = await until('every POP DEGRADED', (x) => x.pops.every((p) => p.sidecar?.state === 'DEGRADED'), 20_000);
    for (const p of s.pops) {
      assert.notEqual(p.route, null, `${p.name} still announced`);
      assert.match(p.sidecar!.reason, /no reachable peer serves fresher zones/);
    }
    // Degraded everywhere alike (three more hops each), the nearest still answers.
    assert.equal(pop(s, 'pop1').route?.asPath, '64501 64501 64501 64501');
    assert.equal(s.client.current, 'pop1');
    await act('restore-sync');
    await until('every POP UP again', allUp, 20_000);
  });

  it('one POP\'s sync cut while its peers stay fresh: that POP withdraws, the others stay UP', async () => {
    await act('cut-sync', 'pop2');
    const s = await until('pop2 withdrawn', (x) => pop(x, 'pop2').route === null && pop(x, 'pop2').sidecar?.state === 'DOWN', 25_000);
    assert.match(pop(s, 'pop2').sidecar!.reason, /behind its peers/);
    for (const name of ['pop1', 'pop3']) {
      assert.equal(pop(s, name).sidecar?.state, 'UP');
      assert.notEqual(pop(s, name).route, null);
    }
    await act('restore-sync', 'pop2');
    await until('every POP UP again', allUp, 20_000);
  });

  it('a flood of forged queries from the probe\'s own /24 at its probe name: the sidecar stays UP', async () => {
    await until('pop1 answering', (s) => s.client.current === 'pop1' && allUp(s), 20_000);
    const flood = await act('flood', undefined, { qps: 4000, seconds: 5 });
    const states = new Set<string>();
    let withdrawn = false;
    while (Date.now() < flood.t + 6000) {
      const s = await state();
      states.add(pop(s, 'pop1').sidecar?.state ?? 'unreachable');
      withdrawn ||= pop(s, 'pop1').route === null;
      await sleep(100);
    }
    assert.deepEqual([...states], ['UP']);
    assert.equal(withdrawn, false);
  });

  it('the web view in Chromium: its kill button fails the client over, and the page shows it', async () => {
    requireBinary('chromium', 'chromium');
    await until('pop1 answering', (s) => s.client.current === 'pop1' && allUp(s), 20_000);
    const profile = mkdtempSync(join(tmpdir(), 'lab-chromium-'));
    // Without the background-networking flags Chromium's own connections fail in a sandboxed build machine.
    // A fresh profile (the user data directory) each run.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(base);
      const answering = page.getByTestId('answering');
      const shows = (selector: string, text: RegExp, timeout: number) => page.locator(selector, { hasText: text }).waitFor({ timeout });
      await shows('#answering', /^pop1$/, 10_000);
      assert.match((await page.locator('tr[data-pop="pop1"] .route').textContent()) ?? '', /^BEST, AS path 64501/);
      assert.match((await page.locator('tr[data-pop="pop2"] .serials').textContent()) ?? '', /example\.com\. \d+/);
      const failovers = await page.locator('#timeline tbody tr').count();

      await page.locator('tr[data-pop="pop1"] button[data-action="kill"]').click();
      await shows('#answering', /^pop2$/, 10_000);
      await shows('tr[data-pop="pop1"] .route', /withdrawn/, 10_000);
      assert.equal(await answering.textContent(), 'pop2');
      assert.match((await page.locator('tr[data-pop="pop1"] .server').textContent()) ?? '', /killed/);
      assert.match((await page.locator('tr[data-pop="pop2"] .route').textContent()) ?? '', /^BEST/);
      // The newest failover is the first row: pop1 to pop2, with its unanswered queries counted.
      await page.locator('#timeline tbody tr').nth(failovers).waitFor({ timeout: 5000 });
      const row = await page.locator('#timeline tbody tr').first().locator('td').allTextContents();
      assert.equal(row[1], 'pop1');
      assert.equal(row[2], 'pop2');
      assert.match(row[4] ?? '', /^\d+$/);
      // Let the lost queries of this failover time out and be counted before the picture is taken.
      await sleep(1500);
      const dir = join(REPO_ROOT, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      const shot = join(dir, 'lab-view.png');
      await page.screenshot({ path: shot, fullPage: true });
      process.stderr.write(`lab web view screenshot: ${shot}\n`);

      await page.locator('tr[data-pop="pop1"] button[data-action="start"]').click();
      await shows('#answering', /^pop1$/, 20_000);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
