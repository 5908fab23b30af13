// The anycast lab: an upstream router (BIRD), three POPs (anycast-dns on the anycast address and a
// unicast one, its health sidecar under ExaBGP), a client and a sync source, in network namespaces
// on this machine, with a live web view on loopback. Run it through `deploy/lab/lab` (root).
//
//   lab up [--http ADDR:PORT] [--rate Q_PER_S] [--dir DIR]   builds it, serves the view, tears it all down on exit
//   lab down                                                  removes what a lab that died left behind
//   lab status                                                lists the lab namespaces on this machine
//
// Only documentation addresses are used (RFC 5737, RFC 5398 AS numbers), and only inside the
// namespaces: nothing is routed to or from the machine's own network.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const NS_PREFIX = 'adnslab-';

const SERVICE = '203.0.113.53';
const ANYCAST_PREFIX = '203.0.113.0/24';
const ROUTER_AS = 64500;
const LAB_NET = '198.51.100.0/24';
/** The client's link is 198.51.100.0/29; POP n's is 198.51.100.(8n)/29. */
const linkAddr = (n, host) => `198.51.100.${8 * n + host}`;
/** Addresses of the flood's forged sources: the probe's own /24 (it probes the anycast address, so that is its source). */
const FLOOD_SOURCES = Array.from({ length: 8 }, (_, i) => `203.0.113.${200 + i}`);
/** The sync source's two zones: one the operator pushes, one whose serial is the source's clock. */
const PUSHED_ZONE = 'example.com.';
const HEARTBEAT_ZONE = 'example.net.';
const SYNC_MS = 250;
const HEARTBEAT_MS = 1000;

const POPS = [1, 2, 3].map((n) => ({
  n,
  name: `pop${n}`,
  as: ROUTER_AS + n,
  unicast: linkAddr(n, 2),
  router: linkAddr(n, 1),
  // The POPs are one, two and three AS hops from the client: the nearest healthy one wins.
  prepend: n - 1,
}));

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}
const inNs = (ns, ...args) => sh('ip', ['netns', 'exec', ns, ...args]);

function labNamespaces() {
  let out;
  try {
    out = sh('ip', ['netns', 'list']);
  } catch {
    return [];
  }
  return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(NS_PREFIX));
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Removes namespaces (and the processes inside them) of labs whose process is gone, or of `pid`'s. */
function removeNamespaces(filter) {
  for (const ns of labNamespaces().filter(filter)) {
    let pids = [];
    try {
      pids = sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
    } catch {
      // already gone
    }
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
}
const labPid = (ns) => Number(ns.slice(NS_PREFIX.length).split('-')[0]);

// ---------------------------------------------------------------------------------------------
// Zones of the sync source

function zoneText(origin, serial, extra = '') {
  return `$ORIGIN ${origin}
$TTL 60
@ IN SOA ns1.${origin} hostmaster.${origin} ${serial} 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.80
${extra}`;
}

// ---------------------------------------------------------------------------------------------

class Lab {
  constructor(opts) {
    this.id = process.pid;
    this.prefix = `${NS_PREFIX}${this.id}-`;
    this.nsRouter = `${this.prefix}r`;
    this.nsClient = `${this.prefix}c`;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'anycast-lab-'));
    this.rate = opts.rate;
    this.procs = new Map();
    this.t0 = Date.now();
    this.events = [];
    this.timeline = [];
    this.pendingLoss = 0;
    this.client = { current: null, answered: {}, lost: 0, sent: 0, lastAnswer: {} };
    this.routes = [];
    this.pops = POPS.map((p) => ({
      ...p,
      ns: `${this.prefix}p${p.n}`,
      dir: join(this.dir, p.name),
      server: 'stopped',
      slow: null,
      maintenance: false,
      syncCut: false,
      serials: {},
      sidecar: null,
      synced: new Map(),
    }));
    this.syncCut = false;
    this.pushSerial = 1;
    this.pushVersion = 1;
    this.closed = false;
    this.timers = [];
  }

  log(msg) {
    process.stderr.write(`lab: ${msg}\n`);
  }

  event(kind, detail) {
    const e = { t: Date.now(), kind, ...detail };
    this.events.push(e);
    if (this.events.length > 200) this.events.shift();
    return e;
  }

  /** A child in its own process group, stdout and stderr to `log`. */
  start(key, ns, cmd, log, opts = {}) {
    const out = openSync(join(this.dir, log), 'a');
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: [opts.stdin ?? 'ignore', opts.pipeStdout ? 'pipe' : out, out], detached: true, cwd: ROOT });
    closeSync(out);
    const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
    const proc = { child, pid: child.pid, exited };
    this.procs.set(key, proc);
    return proc;
  }

  async stopProc(key, signal = 'SIGKILL') {
    const p = this.procs.get(key);
    if (!p) return;
    this.procs.delete(key);
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    try {
      process.kill(-p.pid, signal);
    } catch {
      return;
    }
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))]);
  }

  // ------------------------------------------------------------------ the network

  network() {
    const veth = (a, b) => sh('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    const into = (dev, ns) => sh('ip', ['link', 'set', dev, 'netns', ns]);
    const addr = (ns, dev, a) => {
      inNs(ns, 'ip', 'addr', 'add', a, 'dev', dev);
      inNs(ns, 'ip', 'link', 'set', dev, 'up');
    };
    for (const ns of [this.nsRouter, this.nsClient, ...this.pops.map((p) => p.ns)]) {
      sh('ip', ['netns', 'add', ns]);
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    inNs(this.nsRouter, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // The flood's forged sources arrive from the client's side: no reverse-path check drops them.
    inNs(this.nsRouter, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0');
    inNs(this.nsRouter, 'sysctl', '-qw', 'net.ipv4.conf.default.rp_filter=0');

    const rc = `al${this.id}rc`;
    const c = `al${this.id}c`;
    veth(rc, c);
    into(rc, this.nsRouter);
    into(c, this.nsClient);
    addr(this.nsRouter, rc, `${linkAddr(0, 1)}/29`);
    addr(this.nsClient, c, `${linkAddr(0, 2)}/29`);
    inNs(this.nsClient, 'ip', 'route', 'add', LAB_NET, 'via', linkAddr(0, 1));
    inNs(this.nsClient, 'ip', 'route', 'add', ANYCAST_PREFIX, 'via', linkAddr(0, 1));
    for (const a of FLOOD_SOURCES) inNs(this.nsClient, 'ip', 'addr', 'add', `${a}/32`, 'dev', 'lo');

    for (const p of this.pops) {
      const r = `al${this.id}r${p.n}`;
      const d = `al${this.id}p${p.n}`;
      veth(r, d);
      into(r, this.nsRouter);
      into(d, p.ns);
      addr(this.nsRouter, r, `${p.router}/29`);
      addr(p.ns, d, `${p.unicast}/29`);
      inNs(p.ns, 'ip', 'addr', 'add', `${SERVICE}/32`, 'dev', 'lo');
      // No default route: replies to the flood's forged sources die here instead of looping.
      inNs(p.ns, 'ip', 'route', 'add', LAB_NET, 'via', p.router);
    }
  }

  // ------------------------------------------------------------------ the router

  startRouter() {
    const sessions = this.pops
      .map(
        (p) => `protocol bgp ${p.name} {
  local ${p.router} as ${ROUTER_AS};
  neighbor ${p.unicast} as ${p.as};
  passive on;
  ipv4 { import filter from_pop; export none; };
}`,
      )
      .join('\n');
    writeFileSync(
      join(this.dir, 'bird.conf'),
      `router id ${linkAddr(0, 1)};
protocol device { scan time 10; }
protocol kernel { ipv4 { export all; }; }
# RFC 8326 §4: a route tagged GRACEFUL_SHUTDOWN is the least preferred, so a draining POP's traffic
# moves to the next one while it still answers.
filter from_pop {
  if ((65535, 0) ~ bgp_community) then bgp_local_pref = 0;
  accept;
}
${sessions}
`,
    );
    this.birdSock = join(this.dir, 'bird.ctl');
    this.start('bird', this.nsRouter, ['bird', '-f', '-c', join(this.dir, 'bird.conf'), '-s', this.birdSock], 'bird.log');
  }

  // ------------------------------------------------------------------ the POPs

  popConfig(p) {
    const peers = this.pops.filter((o) => o !== p).map((o) => `${o.unicast}:53`);
    return {
      identity: p.name,
      listen: [`${SERVICE}:53`, `${p.unicast}:53`],
      zones: join(p.dir, 'zones'),
      management: { listen: '127.0.0.1:9153' },
      // The lab's sync writes each file aside and renames it into place, so a file is whole the
      // moment it appears: no settle time. With the default second, the heartbeat zone, rewritten
      // every second, would seldom be old enough to read, and a POP would look stale at random.
      zone_sync: { settle_time: 0 },
      // The client is one /24 asking one name 200 times a second: above the default rate, below this one.
      rrl: { responses_per_second: 1000 },
      health: {
        server: `${SERVICE}:53`,
        // The sync source rewrites the heartbeat zone every second: five seconds without a new version is stale.
        freshness: { max_age: 5 },
        peers,
        maintenance_file: join(p.dir, 'maintenance'),
        drain_time: 2,
        hold_down: { base: 2, max: 2 },
        degraded: { latency: 0.05 },
        metrics_listen: `${p.unicast}:9154`,
        local_as: p.as,
        // DEGRADED is three hops further, keeping the POPs' order among themselves when all are degraded.
        attributes: { up: { as_path_prepend: p.prepend }, degraded: { as_path_prepend: p.prepend + 3 } },
        routes: [{ prefix: ANYCAST_PREFIX }],
      },
    };
  }

  async preparePops() {
    const { stringify } = await import(pathToFileURL(join(ROOT, 'node_modules', 'yaml', 'dist', 'index.js')).href);
    this.serveFlags = (await import(pathToFileURL(join(ROOT, 'dist', 'src', 'server', 'node-flags.js')).href)).SERVE_NODE_FLAGS;
    const shipped = readFileSync(join(ROOT, 'deploy', 'exabgp.conf'), 'utf8');
    for (const p of this.pops) {
      mkdirSync(join(p.dir, 'zones'), { recursive: true });
      const conf = join(p.dir, 'anycast-dns.yaml');
      writeFileSync(conf, stringify(this.popConfig(p)));
      writeFileSync(
        join(p.dir, 'exabgp.conf'),
        shipped
          .replace(/run [^;]+;/, `run ${process.execPath} ${CLI} health --config ${conf};`)
          .replace(/neighbor 192\.0\.2\.1/, `neighbor ${p.router}`)
          .replace(/router-id [^;]+;/, `router-id ${p.unicast};`)
          .replace(/local-address [^;]+;/, `local-address ${p.unicast};`)
          .replace(/local-as [^;]+;/, `local-as ${p.as};`)
          .replace(/peer-as [^;]+;/, `peer-as ${ROUTER_AS};`)
          .replace(/\n\s*ipv6 unicast;/, ''),
      );
    }
  }

  startServer(p) {
    p.server = 'running';
    this.start(`dns-${p.name}`, p.ns, [process.execPath, ...this.serveFlags, CLI, 'serve', '--config', join(p.dir, 'anycast-dns.yaml')], `${p.name}-dns.log`);
  }

  startSidecar(p) {
    // ExaBGP drops to its own user (deploy/exabgp.env), as on a POP; it and the sidecar read the lab's files.
    // The shipped env drops ExaBGP, and the sidecar it runs, to the exabgp user, as a POP runs it. A
    // checkout that user can't read (a clone inside a 0700 mktemp directory) keeps them root.
    const readable = spawnSync('runuser', ['-u', 'exabgp', '--', 'test', '-r', CLI]).status === 0;
    const asUser = readable ? [] : ['env', 'exabgp_daemon_user=root'];
    this.start(`exabgp-${p.name}`, p.ns, [...asUser, 'exabgp', '--env', join(ROOT, 'deploy', 'exabgp.env'), join(p.dir, 'exabgp.conf')], `${p.name}-exabgp.log`);
  }

  // ------------------------------------------------------------------ the sync source

  writeSource() {
    mkdirSync(join(this.dir, 'source'), { recursive: true });
    const put = (origin, text) => {
      const tmp = join(this.dir, 'source', `.${origin}tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(this.dir, 'source', `${origin}zone`));
    };
    put(PUSHED_ZONE, zoneText(PUSHED_ZONE, this.pushSerial, `version IN TXT "${this.pushVersion}"\n`));
    put(HEARTBEAT_ZONE, zoneText(HEARTBEAT_ZONE, Math.floor(Date.now() / 1000)));
  }

  /** Copies changed files of the source to each POP's zones directory (write, then rename: never half a file). */
  sync() {
    if (this.syncCut) return;
    const src = join(this.dir, 'source');
    const files = readdirSync(src).filter((f) => f.endsWith('.zone'));
    for (const p of this.pops) {
      if (p.syncCut) continue;
      for (const f of files) {
        const text = readFileSync(join(src, f), 'utf8');
        if (p.synced.get(f) === text) continue;
        const tmp = join(p.dir, 'zones', `.${f}.tmp`);
        writeFileSync(tmp, text);
        renameSync(tmp, join(p.dir, 'zones', f));
        p.synced.set(f, text);
      }
    }
  }

  // ------------------------------------------------------------------ the client

  startClient() {
    const args = { service: SERVICE, rate: this.rate, pops: this.pops.map((p) => ({ name: p.name, unicast: p.unicast, metrics: `http://${p.unicast}:9154/status` })), zones: [PUSHED_ZONE, HEARTBEAT_ZONE] };
    const proc = this.start('client', this.nsClient, [process.execPath, join(HERE, 'agent.mjs'), JSON.stringify(args)], 'client.log', { stdin: 'pipe', pipeStdout: true });
    this.agent = proc.child;
    let pending = '';
    proc.child.stdout.setEncoding('utf8');
    proc.child.stdout.on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          this.onAgent(JSON.parse(line));
        } catch (err) {
          this.log(`client said something unreadable: ${line} (${err.message})`);
        }
      }
    });
  }

  tell(msg) {
    this.agent?.stdin.write(JSON.stringify(msg) + '\n');
  }

  onAgent(m) {
    switch (m.type) {
      case 'answer': {
        const c = this.client;
        c.answered[m.pop] = (c.answered[m.pop] ?? 0) + m.n;
        c.lastAnswer[m.pop] = m.t;
        return;
      }
      case 'switch': {
        // The first answer from another POP: a failover (or a return), with the gap since the last answer.
        const e = { t: m.t, from: m.from, to: m.to, gapMs: m.gapMs, unanswered: this.pendingLoss };
        this.pendingLoss = 0;
        this.client.current = m.to;
        if (m.from !== null) this.timeline.push(e);
        this.event('switch', { from: m.from, to: m.to, gapMs: m.gapMs });
        return;
      }
      case 'lost': {
        this.client.lost += m.n;
        // A query lost before the last switch belongs to that failover; later ones to the next.
        const last = this.timeline[this.timeline.length - 1];
        if (last !== undefined && m.sentAt <= last.t) last.unanswered += m.n;
        else this.pendingLoss += m.n;
        return;
      }
      case 'sent':
        this.client.sent = m.total;
        return;
      case 'pops':
        for (const p of this.pops) {
          const s = m.pops[p.name];
          if (!s) continue;
          p.serials = s.serials;
          p.sidecar = s.sidecar;
        }
        return;
      case 'flood':
        this.event('flood-done', { sent: m.sent });
        return;
    }
  }

  // ------------------------------------------------------------------ BIRD's view

  pollRoutes() {
    let out;
    try {
      out = sh('birdc', ['-s', this.birdSock, 'show', 'route', 'all', ANYCAST_PREFIX]);
    } catch {
      return;
    }
    const routes = [];
    let cur = null;
    for (const line of out.split('\n')) {
      const head = /unicast \[(\w+) [^\]]*\]( \*)? \((\d+)\)/.exec(line);
      if (head) {
        cur = { pop: head[1], best: head[2] !== undefined, asPath: '', communities: '', localPref: null };
        routes.push(cur);
        continue;
      }
      if (!cur) continue;
      const a = /^\s+BGP\.(as_path|community|local_pref):\s*(.*)$/.exec(line);
      if (a) {
        if (a[1] === 'as_path') cur.asPath = a[2].trim();
        else if (a[1] === 'community') cur.communities = a[2].trim();
        else cur.localPref = Number(a[2]);
      }
    }
    const before = new Set(this.routes.map((r) => r.pop));
    const after = new Set(routes.map((r) => r.pop));
    for (const p of after) if (!before.has(p)) this.event('announced', { pop: p });
    for (const p of before) if (!after.has(p)) this.event('withdrawn', { pop: p });
    this.routes = routes;
  }

  // ------------------------------------------------------------------ actions (buttons)

  async act(a) {
    const p = this.pops.find((x) => x.name === a.pop);
    const needPop = () => {
      if (!p) throw new Error(`unknown POP "${a.pop}"`);
      return p;
    };
    switch (a.action) {
      case 'kill': {
        const pop = needPop();
        await this.unslow(pop);
        await this.stopProc(`dns-${pop.name}`);
        pop.server = 'killed';
        return this.event('kill', { pop: pop.name });
      }
      case 'start':
        if (needPop().server === 'running') return null;
        this.startServer(p);
        return this.event('start', { pop: p.name });
      case 'slow':
        this.slow(needPop());
        return this.event('slow', { pop: p.name });
      case 'fast':
        await this.unslow(needPop());
        return this.event('fast', { pop: p.name });
      case 'maintenance':
        writeFileSync(join(needPop().dir, 'maintenance'), '');
        p.maintenance = true;
        return this.event('maintenance', { pop: p.name });
      case 'resume':
        rmSync(join(needPop().dir, 'maintenance'), { force: true });
        p.maintenance = false;
        return this.event('resume', { pop: p.name });
      case 'push':
        this.pushSerial++;
        this.pushVersion++;
        this.writeSource();
        return this.event('push', { zone: PUSHED_ZONE, serial: this.pushSerial });
      case 'cut-sync':
        if (p) p.syncCut = true;
        else this.syncCut = true;
        return this.event('cut-sync', { pop: p?.name ?? 'all' });
      case 'restore-sync':
        if (p) p.syncCut = false;
        else {
          this.syncCut = false;
          for (const x of this.pops) x.syncCut = false;
        }
        return this.event('restore-sync', { pop: p?.name ?? 'all' });
      case 'flood': {
        const qps = Math.min(Number(a.qps ?? 4000), 5000);
        const seconds = Math.min(Number(a.seconds ?? 5), 30);
        this.tell({ cmd: 'flood', sources: FLOOD_SOURCES, name: PUSHED_ZONE, qps, seconds });
        return this.event('flood', { pop: 'nearest', qps, seconds, from: '203.0.113.0/24' });
      }
      case 'rate':
        this.rate = Math.min(Math.max(Number(a.rate), 0), 1000);
        this.tell({ cmd: 'rate', rate: this.rate });
        return this.event('rate', { rate: this.rate });
      default:
        throw new Error(`unknown action "${a.action}"`);
    }
  }

  /**
   * A slow server, made by stopping it most of the time (SIGSTOP/SIGCONT): its answers wait in the
   * socket's queue, so the probes and the client see latency without any loss.
   */
  slow(p) {
    const proc = this.procs.get(`dns-${p.name}`);
    if (!proc || p.slow) return;
    p.server = 'slow';
    let stopped = false;
    const tick = () => {
      try {
        process.kill(-proc.pid, stopped ? 'SIGCONT' : 'SIGSTOP');
      } catch {
        return;
      }
      stopped = !stopped;
      p.slow = setTimeout(tick, stopped ? 120 : 30);
    };
    tick();
  }

  async unslow(p) {
    if (!p.slow) return;
    clearTimeout(p.slow);
    p.slow = null;
    const proc = this.procs.get(`dns-${p.name}`);
    if (proc) {
      try {
        process.kill(-proc.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    if (p.server === 'slow') p.server = 'running';
  }

  // ------------------------------------------------------------------ state and view

  state() {
    const best = this.routes.find((r) => r.best)?.pop ?? null;
    return {
      now: Date.now(),
      started: this.t0,
      service: SERVICE,
      prefix: ANYCAST_PREFIX,
      router: { as: ROUTER_AS, best },
      client: { address: linkAddr(0, 2), rate: this.rate, ...this.client, unansweredNow: this.pendingLoss },
      syncCut: this.syncCut,
      pops: this.pops.map((p) => ({
        name: p.name,
        as: p.as,
        unicast: p.unicast,
        prepend: p.prepend,
        server: p.server,
        maintenance: p.maintenance,
        syncCut: this.syncCut || p.syncCut,
        route: this.routes.find((r) => r.pop === p.name) ?? null,
        sidecar: p.sidecar,
        serials: p.serials,
      })),
      timeline: this.timeline,
      events: this.events,
    };
  }

  serve(listen) {
    const page = readFileSync(join(HERE, 'view.html'));
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://lab');
      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      } else if (req.method === 'GET' && url.pathname === '/api/state') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.state()));
      } else if (req.method === 'POST' && url.pathname === '/api/action') {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          let action;
          try {
            action = JSON.parse(body);
          } catch {
            res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'body is not JSON' }));
            return;
          }
          this.act(action).then(
            (e) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ event: e })),
            (err) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })),
          );
        });
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
    const m = /^(.*):(\d+)$/.exec(listen);
    const host = m[1].replace(/^\[|\]$/g, '');
    if (!/^(127\.|::1$|localhost$)/.test(host)) throw new Error(`--http ${listen}: the view listens on loopback only`);
    return new Promise((res, rej) => {
      server.once('error', rej);
      server.listen(Number(m[2]), host, () => {
        this.http = server;
        const port = server.address().port;
        res(`http://${host.includes(':') ? `[${host}]` : host}:${port}/`);
      });
    });
  }

  // ------------------------------------------------------------------ up and down

  async up(listen) {
    const t = Date.now();
    for (const bin of ['ip', 'bird', 'birdc', 'exabgp']) {
      try {
        sh('sh', ['-c', `command -v ${bin}`]);
      } catch {
        throw new Error(`${bin} is not installed (scripts/install-deps.sh installs it)`);
      }
    }
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    // ExaBGP and the sidecar run as the exabgp user: they must reach the configs.
    chmodSync(this.dir, 0o755);
    this.network();
    this.startRouter();
    this.writeSource();
    await this.preparePops();
    this.sync();
    for (const p of this.pops) chmodSync(p.dir, 0o755);
    for (const p of this.pops) this.startServer(p);
    for (const p of this.pops) this.startSidecar(p);
    this.startClient();
    this.timers.push(setInterval(() => this.sync(), SYNC_MS));
    this.timers.push(
      setInterval(() => {
        this.writeSource();
      }, HEARTBEAT_MS),
    );
    this.timers.push(setInterval(() => this.pollRoutes(), 100));
    const url = await this.serve(listen);
    this.event('up', { setupMs: Date.now() - t });
    return url;
  }

  async down() {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const p of this.pops) await this.unslow(p);
    this.http?.close();
    this.http?.closeAllConnections();
    await Promise.all([...this.procs.keys()].map((k) => this.stopProc(k)));
    removeNamespaces((ns) => ns.startsWith(this.prefix));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

function option(argv, name, def) {
  const i = argv.indexOf(name);
  if (i === -1) return def;
  if (argv[i + 1] === undefined) throw new Error(`${name} needs a value`);
  return argv[i + 1];
}

async function main(argv) {
  const cmd = argv[0];
  if (process.getuid?.() !== 0 && cmd !== 'status') throw new Error('the lab makes network namespaces: run it as root');
  if (cmd === 'status') {
    const found = labNamespaces();
    process.stdout.write(found.length === 0 ? 'no lab namespaces\n' : found.map((n) => `${n}${alive(labPid(n)) ? '' : ' (its lab is gone: lab down removes it)'}\n`).join(''));
    return;
  }
  if (cmd === 'down') {
    // Only namespaces of labs that are no longer running: a running lab tears itself down on exit.
    removeNamespaces((ns) => !alive(labPid(ns)));
    return;
  }
  if (cmd !== 'up') throw new Error('usage: lab up [--http ADDR:PORT] [--rate Q_PER_S] [--dir DIR] | lab down | lab status');
  const lab = new Lab({ rate: Number(option(argv, '--rate', '200')), dir: option(argv, '--dir', undefined) });
  let downing = null;
  const down = () => (downing ??= lab.down().then(() => lab.log('torn down')));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void down().then(() => process.exit(0)));
  process.on('exit', () => {
    // Last resort (an exception after the traps): no namespace survives the process.
    if (!lab.closed) removeNamespaces((ns) => ns.startsWith(lab.prefix));
  });
  try {
    const url = await lab.up(option(argv, '--http', '127.0.0.1:8053'));
    process.stdout.write(`lab view: ${url}\n`);
    lab.log(`up (namespaces ${lab.prefix}*, files in ${lab.dir}); Ctrl-C tears it down`);
  } catch (err) {
    await down();
    throw err;
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`lab: ${err.message}\n`);
  process.exit(1);
});
