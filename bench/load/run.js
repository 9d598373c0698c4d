// Load generator of bench/run.sh: drives SliceChat (ws) and the Socket.IO peer (socket.io-client)
// with the same scenarios, interleaving the two targets, and writes JSON and Markdown results.
// It is started by bench/run.sh, which passes the servers' addresses and process ids:
//   BENCH_SLICECHAT_URLS=http://127.0.0.1:5001,http://127.0.0.1:5002
//   BENCH_PEER_URLS=http://127.0.0.1:3001,http://127.0.0.1:3002
//   BENCH_PIDS_APP=pid,pid BENCH_PIDS_PEER=pid,pid BENCH_PID_REDIS=pid BENCH_PID_POSTMASTER=pid
//   BENCH_PG_HOST / BENCH_PG_PORT / BENCH_PG_DB / PG_BIN      (seeding, pgbench)
//   BENCH_APP_LOGS=path,path      the app instances' logs, where their gap fills are counted
//   BENCH_LAUNCHERS=dir           where each instance's launcher script is (<dir>/app_a.sh, ...: scenario c restarts them)
// Knobs: BENCH_SCENARIOS=a,b,c,d,e,f  BENCH_RUNS=3  BENCH_DURATION=10 (s)  BENCH_WARMUP=10 (s)  BENCH_C_SOCKETS=5000
//   BENCH_E_RATE=10 (msg/s)  BENCH_F_SAMPLES=200  BENCH_F_MESSAGES=1000000
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, spawn } = require('node:child_process');
const L = require('./lib');

const env = (k, d) => (process.env[k] === undefined || process.env[k] === '' ? d : process.env[k]);
const SC = env('BENCH_SLICECHAT_URLS', '').split(',').filter(Boolean);
const PEER = env('BENCH_PEER_URLS', '').split(',').filter(Boolean);
const SCENARIOS = env('BENCH_SCENARIOS', 'a,b,c,d,e,f').split(',').map((s) => s.trim()).filter(Boolean);
const RUNS = Number(env('BENCH_RUNS', 3));
const DURATION = Number(env('BENCH_DURATION', 10));
// Unmeasured load before a scenario's first measured run of each target, so both are measured warm
// (.NET's tiered JIT recompiles the hot path for seconds after it first runs; V8 warms up too).
const WARMUP = Number(env('BENCH_WARMUP', 10));
const C_SOCKETS = Number(env('BENCH_C_SOCKETS', 5000));
const C_MESSAGES = Number(env('BENCH_C_MESSAGES', 10));
const E_RATE = Number(env('BENCH_E_RATE', 10));
const F_SAMPLES = Number(env('BENCH_F_SAMPLES', 200));
const F_WARMUP = 1000; // unmeasured requests per query before scenario f's runs
const F_MESSAGES = Number(env('BENCH_F_MESSAGES', 1000000));
const PG_BIN = env('PG_BIN', '/usr/lib/postgresql/15/bin');
const PG = { host: env('BENCH_PG_HOST', '127.0.0.1'), port: env('BENCH_PG_PORT', '5432'), db: env('BENCH_PG_DB', 'postgres') };
const OUT_DIR = env('BENCH_OUT_DIR', path.join(__dirname, '..', 'results'));
const DOCS = env('BENCH_DOCS', '');
const COMMAND = env('BENCH_COMMAND', 'bash bench/run.sh');
const SOCKETS_PER_USER = 20; // the contract's default Limits:SocketsPerUser
const log = (...a) => console.error(`[load ${new Date().toISOString().slice(11, 19)}]`, ...a);

const pids = (k) => env(k, '').split(',').filter(Boolean).map(Number);
const appPids = pids('BENCH_PIDS_APP');
const peerPids = pids('BENCH_PIDS_PEER');
const groups = {
  app_a: { pids: appPids.slice(0, 1) }, app_b: { pids: appPids.slice(1, 2) },
  peer_a: { pids: peerPids.slice(0, 1) }, peer_b: { pids: peerPids.slice(1, 2) },
  redis: { pids: pids('BENCH_PID_REDIS') }, postgres: { pids: pids('BENCH_PID_POSTMASTER'), tree: true },
};
const TARGET_GROUPS = { slicechat: ['app_a', 'app_b', 'redis', 'postgres'], peer: ['peer_a', 'peer_b', 'redis'], pgbench: ['postgres'] };
const APP_GROUPS = { slicechat: ['app_a', 'app_b'], peer: ['peer_a', 'peer_b'] };
const meter = new L.ProcMeter(groups);
const RUN_ID = Date.now().toString(36);
const APP_LOGS = env('BENCH_APP_LOGS', '').split(',').filter(Boolean);
// bench/run.sh starts every server instance from a launcher script, <dir>/<group>.sh (app_a, peer_a, ...), that execs it.
const LAUNCHERS = env('BENCH_LAUNCHERS', '');

// A process that exited but is not reaped yet (its parent is bash, waiting for this process) is no longer running.
function running(pid) {
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

/**
 * Stops the target's instances and starts them again from their launchers. SIGTERM, since a job that bash starts in the
 * background ignores SIGINT; the bench's SliceChat instances drain for 0 s (Limits:ShutdownDrainSeconds).
 */
async function restart(target) {
  const urls = target === 'slicechat' ? SC : PEER;
  const health = target === 'slicechat' ? '/health/ready' : '/health';
  for (const [i, name] of APP_GROUPS[target].entries()) {
    for (const pid of groups[name].pids) {
      const signal = (sig) => { try { process.kill(pid, sig); } catch { /* gone already */ } };
      signal('SIGTERM');
      for (let waited = 0; running(pid); waited += 100) {
        if (waited === 20000) signal('SIGKILL');
        await L.sleep(100);
      }
    }
    const child = spawn('bash', [path.join(LAUNCHERS, `${name}.sh`)], { detached: true, stdio: 'ignore' });
    child.unref();
    groups[name].pids = [child.pid]; // the launcher execs the server: same pid
    for (let tries = 0; ; tries++) {
      const ok = await request('GET', urls[i] + health, {}).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (tries === 300 || !running(child.pid)) throw new Error(`${name} did not come back after its restart (see ${LAUNCHERS}/${name}.log)`);
      await L.sleep(200);
    }
  }
}

// Gap fills: a conversation's feed read the database for a seq that did not come over the bus in time
// (logged by each instance at Information, as "... did not arrive within ...").
function gapFills() {
  let n = 0;
  for (const f of APP_LOGS) {
    try { n += (fs.readFileSync(f, 'utf8').match(/did not arrive within/g) || []).length; } catch { /* not there yet */ }
  }
  return n;
}

// ---- REST -----------------------------------------------------------------------------------
const request = L.httpClient();
async function api(method, p, token, body, base = SC[0]) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = 'Bearer ' + token;
  const { status, body: text } = await request(method, base + p, headers, body === undefined ? undefined : JSON.stringify(body));
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status, json };
}
async function must(method, p, token, body, base) {
  const r = await api(method, p, token, body, base);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r.json;
}

const users = [];
async function ensureUsers(n) {
  if (users.length >= n) return;
  const t0 = L.now();
  const idx = Array.from({ length: n - users.length }, (_, i) => users.length + i);
  const made = await L.pool(idx, 8, async (i) => {
    const username = `b${RUN_ID}_${i}`;
    const password = 'benchmark password';
    const base = SC[i % SC.length];
    const u = await must('POST', '/api/v1/auth/register', null, { username, email: `${username}@example.com`, password }, base);
    const l = await must('POST', '/api/v1/auth/login', null, { username, password }, base);
    return { id: u.id, username, token: l.access_token };
  });
  users.push(...made);
  log(`registered ${made.length} users in ${((L.now() - t0) / 1000).toFixed(1)} s`);
}

// The creator adds up to 100 members at creation (the app's limit); the rest join the public room.
async function createRoom(owner, members, name) {
  const others = members.filter((u) => u.id !== owner.id);
  const room = await must('POST', '/api/v1/chatrooms', owner.token, { name, is_private: false, member_ids: others.slice(0, 100).map((u) => u.id) });
  await L.pool(others.slice(100), 8, (u, i) => must('POST', `/api/v1/chatrooms/${room.id}/join`, u.token, undefined, SC[i % SC.length]));
  return room.id;
}
async function lastSeq(roomId, token) { return (await must('GET', `/api/v1/chatrooms/${roomId}`, token)).last_seq; }

// ---- one broadcast run --------------------------------------------------------------------------
// rooms: [{ id, members: [user], senders: [member index] }]; mode 'window' keeps `window` sends in
// flight per sender (the ack: SliceChat's own message.created, the peer's emit ack); mode 'rate'
// sends `rate` messages a second per sender. Member j of a room connects to instance j % 2 (shifted
// per room), one socket per member (or `socketsPerMember`).
async function broadcastRun(target, spec) {
  const { rooms, mode, window = 8, rate = 20, durationS = DURATION, socketsPerMember = 1, memory = false, maxMessages = Infinity } = spec;
  const tag = `${RUN_ID}-${Math.random().toString(36).slice(2, 8)}`;
  const lat = []; const ackLat = [];
  const tracks = []; let deliveries = 0; let lastRecv = 0; let errors = 0; let closedEarly = 0;
  const senders = [];
  const sockets = [];
  const urls = target === 'slicechat' ? SC : PEER;

  const onContent = (content, t) => {
    let c;
    try { c = JSON.parse(content); } catch { return null; }
    if (c.r !== tag) return null;
    lat.push(t - c.t); deliveries++; lastRecv = t;
    return c;
  };

  // connect
  const plan = [];
  rooms.forEach((room, ri) => room.members.forEach((u, mi) => {
    for (let k = 0; k < socketsPerMember; k++) plan.push({ ri, mi, k, u, inst: (ri + mi + k) % urls.length });
  }));
  const base = target === 'slicechat' ? await Promise.all(rooms.map((r) => lastSeq(r.id, r.members[0].token))) : null;
  const rssBefore = memory ? sumRss(APP_GROUPS[target]) : 0;
  await meter.start();
  const tOpen = L.now();
  const conns = await L.pool(plan, 64, async (p) => {
    const room = rooms[p.ri];
    const isSender = p.k === 0 && room.senders.includes(p.mi);
    const s = { pending: new Map(), inflight: 0, sent: 0, acked: 0, room, ri: p.ri };
    if (target === 'slicechat') {
      const tr = new L.Track(base[p.ri]); tracks.push(tr);
      s.ws = await L.slicechatSocket(urls[p.inst], `/ws/chatrooms/${room.id}`, p.u.token, (f, t) => {
        if (f.type === 'message.created') {
          tr.see(f.seq);
          onContent(f.content, t);
          if (isSender && f.client_message_id && s.pending.has(f.client_message_id)) {
            ackLat.push(t - s.pending.get(f.client_message_id)); s.pending.delete(f.client_message_id); s.inflight--; s.acked++; s.onAck?.();
          }
        } else if (f.type === 'error') {
          errors++;
          if (f.client_message_id && s.pending.delete(f.client_message_id)) { s.inflight--; s.onAck?.(); }
        }
      });
      s.ws.on('close', () => { closedEarly++; });
      sockets.push(s.ws);
      s.send = (content, cid) => s.ws.send(JSON.stringify({ type: 'message.send', chatroom_id: room.id, content, client_message_id: cid }));
    } else {
      const perSender = new Map();
      s.io = await L.peerSocket(urls[p.inst], (m, t) => {
        const c = onContent(m.content, t);
        if (!c) return;
        let tr = perSender.get(c.k);
        if (!tr) { tr = new L.Track(0); perSender.set(c.k, tr); tracks.push(tr); }
        tr.see(c.n);
      });
      await s.io.timeout(20000).emitWithAck('join', room.id);
      s.io.on('disconnect', () => { closedEarly++; });
      sockets.push(s.io);
      s.send = (content, cid) => s.io.emit('msg', { room: room.id, content }, () => {
        ackLat.push(L.now() - s.pending.get(cid)); s.pending.delete(cid); s.inflight--; s.acked++; s.onAck?.();
      });
    }
    if (isSender) { s.key = `${p.ri}.${p.mi}`; senders.push(s); }
    return s;
  });
  const openS = (L.now() - tOpen) / 1000;
  const opened = await meter.stop();
  const openCpuUs = (TARGET_GROUPS[target].reduce((a, g) => a + opened.cpu_s[g], 0) / conns.length) * 1e6;
  let rssPerSocketKb = null;
  if (memory) {
    await L.sleep(3000);
    rssPerSocketKb = (sumRss(APP_GROUPS[target]) - rssBefore) / conns.length;
  }
  await L.sleep(500);

  // send
  closedEarly = 0;
  const gapsBefore = target === 'slicechat' ? gapFills() : null;
  await meter.start();
  const t0 = L.now();
  let sending = true;
  const pad = 'x'.repeat(40);
  const sendOne = (s) => {
    if (s.sent >= maxMessages) return false;
    const n = ++s.sent;
    const cid = `${s.key}-${n}-${tag}`;
    const t = L.now();
    s.pending.set(cid, t); s.inflight++;
    s.send(JSON.stringify({ r: tag, k: s.key, n, t, p: pad }), cid);
    return true;
  };
  let ticker = null;
  if (mode === 'window') {
    for (const s of senders) {
      s.onAck = () => { while (sending && s.inflight < window && sendOne(s)); };
      s.onAck();
    }
  } else {
    ticker = setInterval(() => {
      const due = Math.floor(((L.now() - t0) / 1000) * rate);
      for (const s of senders) while (sending && s.sent < due && sendOne(s));
    }, 5);
  }
  const deadline = t0 + durationS * 1000;
  while (L.now() < deadline && !(senders.every((s) => s.sent >= maxMessages) )) await L.sleep(50);
  sending = false;
  if (ticker) clearInterval(ticker);
  const tStop = L.now();
  // drain: acks back, and every acked message delivered to every member socket (at most 10 s)
  const perRoomSockets = rooms.map((r) => r.members.length * socketsPerMember);
  const want = () => senders.reduce((a, s) => a + s.acked * perRoomSockets[s.ri], 0);
  for (let i = 0; i < 200; i++) {
    if (senders.every((s) => s.inflight === 0) && deliveries >= want()) break;
    await L.sleep(50);
  }
  const res = await meter.stop();
  const gaps = gapsBefore === null ? null : gapFills() - gapsBefore;
  const drainS = (L.now() - tStop) / 1000;

  // expected deliveries: SliceChat from the stored seqs, the peer from what was sent
  let expected;
  let stored = null;
  if (target === 'slicechat') {
    const after = await Promise.all(rooms.map((r) => lastSeq(r.id, r.members[0].token)));
    stored = after.reduce((a, v, i) => a + (v - base[i]), 0);
    expected = after.reduce((a, v, i) => a + (v - base[i]) * perRoomSockets[i], 0);
  } else {
    expected = senders.reduce((a, s) => a + s.sent * perRoomSockets[s.ri], 0);
  }
  const unique = tracks.reduce((a, t) => a + t.unique, 0);
  const dups = tracks.reduce((a, t) => a + t.dups, 0);
  const reorders = tracks.reduce((a, t) => a + t.reorders, 0);
  L.closeAll(sockets);
  const activeS = Math.max(0.001, ((lastRecv || L.now()) - t0) / 1000);
  const serverCpu = TARGET_GROUPS[target].reduce((a, g) => a + res.cpu_s[g], 0);
  const out = {
    target, sockets: conns.length, senders: senders.length, sent: senders.reduce((a, s) => a + s.sent, 0),
    acked: senders.reduce((a, s) => a + s.acked, 0), stored, errors, sockets_closed_during_run: closedEarly,
    deliveries: unique, expected, loss: Math.max(0, expected - unique), duplicates: dups, reordered: reorders, gap_fills: gaps,
    deliveries_per_s: unique / activeS, send_s: (tStop - t0) / 1000, drain_s: drainS,
    latency_ms: L.summary(lat), ack_ms: L.summary(ackLat),
    open_s: openS, opens_per_s: conns.length / openS, open_cpu_us_per_socket: openCpuUs, open_resources: opened, rss_per_idle_socket_kb: rssPerSocketKb,
    server_cpu_s: serverCpu, cpu_us_per_delivery: unique ? (serverCpu / unique) * 1e6 : null,
    server_peak_rss_mb: TARGET_GROUPS[target].reduce((a, g) => a + res.peak_rss_mb[g], 0),
    resources: res,
  };
  out.settle_s = await settle();
  return out;
}

// Before the next run, wait until the app and peer processes are quiet (under 5% of a core for a
// second, at most 20 s): a target still busy with the previous run's closes would bill the other.
async function settle() {
  const t0 = L.now();
  const names = [...APP_GROUPS.slicechat, ...APP_GROUPS.peer];
  const ticks = () => names.reduce((a, n) => a + meter.cpuTicks(n), 0);
  await L.sleep(500);
  let last = ticks();
  while (L.now() - t0 < 20000) {
    await L.sleep(1000);
    const t = ticks();
    if ((t - last) / L.CLK_TCK < 0.05) break;
    last = t;
  }
  return (L.now() - t0) / 1000;
}
function sumRss(names) { return names.reduce((a, n) => a + meter.rssKb(n), 0); }

// ---- scenarios ------------------------------------------------------------------------------------
let results = { started_at: new Date().toISOString(), machine: machine(), config: { RUNS, DURATION, WARMUP, C_SOCKETS, C_MESSAGES, E_RATE, F_SAMPLES, F_MESSAGES, SCENARIOS }, scenarios: {} };

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || os.cpus()[0]?.model;
  return { nproc: os.cpus().length, memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1), cpu_model: cpu, kernel: os.release(), node: process.version };
}

/** runOne(target, durationS?) does one run; with warmUp, each target first gets an unmeasured run of WARMUP seconds. */
async function interleaved(name, runOne, { warmUp = true } = {}) {
  const runs = { slicechat: [], peer: [] };
  if (warmUp && WARMUP > 0) {
    for (const t of ['peer', 'slicechat']) {
      log(`${name}: warm-up ${t} (${WARMUP} s)`);
      await runOne(t, WARMUP);
    }
  }
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? ['peer', 'slicechat'] : ['slicechat', 'peer'];
    for (const t of order) {
      log(`${name}: run ${r + 1}/${RUNS} ${t}`);
      const m = await runOne(t);
      log(`${name}: ${t} ${m.deliveries_per_s.toFixed(0)} deliveries/s, p50 ${fmt(m.latency_ms.p50)} ms, p99 ${fmt(m.latency_ms.p99)} ms, loss ${m.loss}, dup ${m.duplicates}, reorder ${m.reordered}, errors ${m.errors}`);
      runs[t].push(m);
    }
  }
  return runs;
}

let abRooms = null;
async function roomsAB() {
  await ensureUsers(200);
  if (!abRooms) {
    abRooms = [];
    for (let i = 0; i < 10; i++) {
      const members = users.slice(i * 20, i * 20 + 20);
      abRooms.push({ members, sc: await createRoom(members[0], members, `bench a ${i}`), peer: `a-${RUN_ID}-${i}` });
    }
  }
  return abRooms;
}
const specRooms = (target, list, senders) => list.map((r) => ({ id: target === 'slicechat' ? r.sc : r.peer, members: r.members, senders }));

const scenarios = {
  async a() {
    const rooms = await roomsAB();
    return { runs: await interleaved('a', (t, d) => broadcastRun(t, { rooms: specRooms(t, rooms, [0, 1]), mode: 'window', window: 8, durationS: d })) };
  },
  async b() {
    const rooms = await roomsAB();
    return { runs: await interleaved('b', (t, d) => broadcastRun(t, { rooms: specRooms(t, rooms, [0]), mode: 'rate', rate: 20, durationS: d })) };
  },
  async c() {
    const nUsers = Math.ceil(C_SOCKETS / SOCKETS_PER_USER);
    await ensureUsers(nUsers);
    const members = users.slice(0, nUsers);
    const owner = members[0];
    const room = await must('POST', '/api/v1/chatrooms', owner.token, { name: 'bench c', is_private: false });
    await L.pool(members.slice(1), 8, (u, i) => must('POST', `/api/v1/chatrooms/${room.id}/join`, u.token, undefined, SC[i % SC.length]));
    const perMember = Math.ceil(C_SOCKETS / nUsers);
    const rate = Math.max(1, C_MESSAGES / Math.max(1, DURATION / 2));
    return {
      sockets: nUsers * perMember,
      // Each run on fresh instances of its target: growth of a process that had held sockets before measured the reuse
      // of their freed heap (the peer's went 15.5, 6.4, 0.9 KB per socket in three runs of one suite). Before the measured
      // passes, a tenth of its sockets open, get the broadcasts and close, unmeasured. The first pass of all sockets gives
      // the memory per idle socket; once those closed, a second pass gives the opens and the broadcast, on a process
      // whose open path had all the calls it takes to be compiled to the final code (after the tenth alone, CPU per open
      // was 632 vs 428 µs; after three tenths 512 vs 354, and the freed heap of the extra tenths lowered both memories).
      runs: await interleaved('c', async (t) => {
        const spec = (k, memory) => ({
          rooms: [{ id: t === 'slicechat' ? room.id : `c-${RUN_ID}`, members: members.slice(0, k), senders: [0] }],
          socketsPerMember: perMember, mode: 'rate', rate, maxMessages: C_MESSAGES, durationS: DURATION, memory,
        });
        await restart(t);
        await broadcastRun(t, spec(Math.max(1, Math.round(nUsers / 10)), false));
        const fresh = await broadcastRun(t, spec(nUsers, true));
        const warm = await broadcastRun(t, spec(nUsers, false));
        const total = (k) => fresh[k] + warm[k];
        return {
          ...warm, rss_per_idle_socket_kb: fresh.rss_per_idle_socket_kb,
          loss: total('loss'), duplicates: total('duplicates'), reordered: total('reordered'), errors: total('errors'),
          gap_fills: t === 'slicechat' ? total('gap_fills') : null,
          fresh_pass: { ...fresh, resources: undefined },
        };
      }, { warmUp: false }),
    };
  },
  async d() {
    await ensureUsers(8);
    const clients = users.slice(0, 8);
    const rooms = [];
    for (let i = 0; i < 10; i++) rooms.push(await createRoom(clients[0], clients, `bench d ${i}`));
    psql(`CREATE TABLE IF NOT EXISTS bench_pgbench_insert (id uuid PRIMARY KEY, chatroom_id uuid NOT NULL, seq bigint NOT NULL, sender_id uuid NOT NULL, content varchar(4000) NOT NULL, created_at timestamptz NOT NULL)`);
    const script = path.join(os.tmpdir(), `bench-pgbench-${RUN_ID}.sql`);
    fs.writeFileSync(script, `\\set seq random(1, 1000000000)\nINSERT INTO bench_pgbench_insert VALUES (gen_random_uuid(), gen_random_uuid(), :seq, gen_random_uuid(), 'benchmark message of about the same size as the REST one, plus padding', now());\n`);
    const runs = { rest: [], pgbench: [] };
    if (WARMUP > 0) {
      log(`d: warm-up rest (${WARMUP} s)`);
      await restRun(clients, rooms, WARMUP);
    }
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 === 0 ? ['pgbench', 'rest'] : ['rest', 'pgbench'];
      for (const t of order) {
        log(`d: run ${r + 1}/${RUNS} ${t}`);
        const m = t === 'rest' ? await restRun(clients, rooms) : await pgbenchRun(script);
        log(`d: ${t} ${m.per_s.toFixed(0)}/s p50 ${fmt(m.latency_ms?.p50)} ms`);
        runs[t].push(m);
        m.settle_s = await settle();
      }
    }
    fs.rmSync(script, { force: true });
    return { runs };
  },
  async e() {
    await ensureUsers(1000);
    const out = {};
    for (const size of [10, 100, 1000]) {
      const members = users.slice(0, size);
      const sc = await createRoom(members[0], members, `bench e ${size}`);
      const rooms = [{ sc, peer: `e-${RUN_ID}-${size}`, members }];
      out[size] = { runs: await interleaved(`e${size}`, (t, d) => broadcastRun(t, { rooms: specRooms(t, rooms, [0]), mode: 'rate', rate: E_RATE, durationS: d })) };
    }
    return out;
  },
  async f() {
    await ensureUsers(2);
    const [me, other] = users;
    const rooms = 200;
    const perRoom = Math.floor(F_MESSAGES / rooms);
    const t0 = L.now();
    log(`f: seeding ${rooms} conversations x ${perRoom} messages`);
    psql(`
      CREATE TEMP TABLE f_rooms AS SELECT gen_random_uuid() AS id, g AS n FROM generate_series(1, ${rooms}) g;
      INSERT INTO chatrooms (id, kind, name, description, is_private, created_by, created_at, last_seq, last_activity_at, direct_key)
        SELECT id, 0, 'bench f ' || n, NULL, true, '${me.id}'::uuid, now() - interval '1 day', ${perRoom}, now() - n * interval '1 second', NULL FROM f_rooms;
      INSERT INTO members (chatroom_id, user_id, role, joined_at, last_read_seq)
        SELECT id, '${me.id}'::uuid, 1, now() - interval '1 day', ${perRoom} - (n % 7) FROM f_rooms
        UNION ALL SELECT id, '${other.id}'::uuid, 0, now() - interval '1 day', 0 FROM f_rooms;
      INSERT INTO messages (id, chatroom_id, seq, sender_id, recipient_id, content, client_message_id, created_at, edited_at, deleted_at)
        SELECT gen_random_uuid(), r.id, s, CASE WHEN s % 2 = 0 THEN '${me.id}'::uuid ELSE '${other.id}'::uuid END, NULL,
               'seeded benchmark message number ' || s || ' of conversation ' || r.n, NULL,
               now() - interval '1 day' + s * interval '10 milliseconds' - r.n * interval '1 second', NULL, NULL
        FROM f_rooms r CROSS JOIN generate_series(1, ${perRoom}) s;
      `);
    // Vacuumed and checkpointed now, so that neither autovacuum (a million rows just inserted) nor the checkpointer (the
    // seed's dirty pages) runs while the reads are measured. VACUUM cannot share psql's one transaction of -c.
    psql('VACUUM (ANALYZE) chatrooms, members, messages');
    psql('CHECKPOINT');
    const seedS = (L.now() - t0) / 1000;
    const roomIds = psql(`SELECT c.id FROM chatrooms c JOIN members m ON m.chatroom_id = c.id WHERE m.user_id = '${me.id}' AND c.name LIKE 'bench f %'`).split('\n').filter(Boolean);
    const total = Number(psql('SELECT count(*) FROM messages'));
    log(`f: seeded in ${seedS.toFixed(1)} s; ${total} messages in the database, ${roomIds.length} conversations of the user`);
    const queries = {
      history_newest: (i) => `/api/v1/chatrooms/${roomIds[i % roomIds.length]}/messages?limit=50`,
      history_older: (i) => `/api/v1/chatrooms/${roomIds[(i * 7) % roomIds.length]}/messages?limit=50&before_seq=${51 + ((i * 7919) % (perRoom - 51))}`,
      conversations: () => '/api/v1/messages/conversations',
    };
    const runs = {};
    for (const q of Object.keys(queries)) runs[q] = [];
    const auth = { authorization: 'Bearer ' + me.token };
    for (let r = 0; r < RUNS; r++) {
      for (const [q, mk] of Object.entries(queries)) {
        // Unmeasured: enough requests for each instance's JIT to have compiled the read path's final code (spread over
        // the instances as the measured ones are: all on the first left the second cold for the first run).
        for (let i = 0; i < F_WARMUP; i++) await must('GET', mk(i), me.token, undefined, SC[i % SC.length]);
        await meter.start();
        const lat = [];
        let bytes = 0; let items = 0;
        for (let i = 0; i < F_SAMPLES; i++) {
          const t = L.now();
          const { status, body } = await request('GET', SC[i % SC.length] + mk(i), auth);
          lat.push(L.now() - t);
          if (status !== 200) throw new Error(`${q}: ${status} ${body.slice(0, 200)}`);
          bytes += body.length;
          if (i === 0) { const j = JSON.parse(body); items = Array.isArray(j) ? j.length : j.items.length; }
        }
        const res = await meter.stop();
        runs[q].push({ latency_ms: L.summary(lat), items, avg_bytes: bytes / F_SAMPLES, server_cpu_s: TARGET_GROUPS.slicechat.reduce((a, g) => a + res.cpu_s[g], 0), resources: res });
        log(`f: ${q} p50 ${fmt(runs[q].at(-1).latency_ms.p50)} ms p99 ${fmt(runs[q].at(-1).latency_ms.p99)} ms (${items} items)`);
      }
    }
    return { seed_s: seedS, messages_in_database: total, conversations: roomIds.length, runs };
  },
};

async function restRun(clients, rooms, durationS = DURATION) {
  await meter.start();
  const t0 = L.now();
  const deadline = t0 + durationS * 1000;
  const lat = []; let ok = 0; let failed = 0;
  await Promise.all(clients.map(async (u, c) => {
    for (let k = 0; L.now() < deadline; k++) {
      const t = L.now();
      const r = await api('POST', `/api/v1/chatrooms/${rooms[(c + k) % rooms.length]}/messages`, u.token,
        { content: `rest benchmark message ${c}.${k} of about the same size as the pgbench one` }, SC[c % SC.length]);
      lat.push(L.now() - t);
      if (r.status === 201) ok++; else failed++;
    }
  }));
  const wall = (L.now() - t0) / 1000;
  const res = await meter.stop();
  const cpu = TARGET_GROUPS.slicechat.reduce((a, g) => a + res.cpu_s[g], 0);
  return { per_s: ok / wall, ok, failed, latency_ms: L.summary(lat), server_cpu_s: cpu, cpu_us_per_op: ok ? (cpu / ok) * 1e6 : null, resources: res };
}

async function pgbenchRun(script) {
  await meter.start();
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(PG_BIN, 'pgbench'), ['-h', PG.host, '-p', String(PG.port), '-U', 'postgres', '-n', '-c', '8', '-j', '2', '-T', String(DURATION), '-f', script, PG.db]);
    let out = ''; let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', async (code) => {
      const res = await meter.stop();
      if (code !== 0) { reject(new Error(`pgbench ${code}: ${err}`)); return; }
      const tps = Number((/tps = ([\d.]+)/.exec(out) || [])[1]);
      const avg = Number((/latency average = ([\d.]+) ms/.exec(out) || [])[1]);
      const tx = Number((/number of transactions actually processed: (\d+)/.exec(out) || [])[1]);
      const cpu = res.cpu_s.postgres;
      resolve({ per_s: tps, ok: tx, latency_ms: { p50: null, avg }, server_cpu_s: cpu, cpu_us_per_op: tx ? (cpu / tx) * 1e6 : null, resources: res });
    });
  });
}

function psql(sql) {
  const r = spawnSync(path.join(PG_BIN, 'psql'), ['-h', PG.host, '-p', String(PG.port), '-U', 'postgres', '-d', PG.db, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error('psql: ' + r.stderr);
  return r.stdout.trim();
}

// ---- report -------------------------------------------------------------------------------------
function fmt(v, d) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (d !== undefined) return v.toFixed(d);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}
const get = (o, p) => p.split('.').reduce((x, k) => (x == null ? undefined : x[k]), o);
const med = (runs, p) => L.median(runs.map((r) => get(r, p)));
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

function markdown() {
  const rows = [];
  const row = (sc, metric, a, b) => rows.push(`| ${sc} | ${metric} | ${fmt(a)} | ${fmt(b)} | ${b === undefined ? '' : fmt(ratio(a, b), 2)} |`);
  const s = results.scenarios;
  const bcast = (label, runs, extra = []) => {
    const sc = runs.slicechat; const pe = runs.peer;
    row(label, 'deliveries/s', med(sc, 'deliveries_per_s'), med(pe, 'deliveries_per_s'));
    for (const q of ['p50', 'p90', 'p99', 'max']) row(label, `latency ${q} (ms)`, med(sc, `latency_ms.${q}`), med(pe, `latency_ms.${q}`));
    row(label, 'loss / duplicates / reordered (sum of runs)', null, null);
    rows[rows.length - 1] = `| ${label} | loss / duplicates / reordered (all runs) | ${sum(sc, 'loss')} / ${sum(sc, 'duplicates')} / ${sum(sc, 'reordered')} | ${sum(pe, 'loss')} / ${sum(pe, 'duplicates')} / ${sum(pe, 'reordered')} | |`;
    rows.push(`| ${label} | gap fills from the database (all runs) | ${sum(sc, 'gap_fills')} | – | |`);
    row(label, 'server CPU µs per delivery', med(sc, 'cpu_us_per_delivery'), med(pe, 'cpu_us_per_delivery'));
    row(label, 'server CPU s', med(sc, 'server_cpu_s'), med(pe, 'server_cpu_s'));
    row(label, 'server peak RSS (MB)', med(sc, 'server_peak_rss_mb'), med(pe, 'server_peak_rss_mb'));
    for (const [m, p] of extra) row(label, m, med(sc, p), med(pe, p));
    row(label, 'machine share elsewhere', med(sc, 'resources.elsewhere_share'), med(pe, 'resources.elsewhere_share'));
  };
  if (s.a) bcast('a: 10×20, 2 senders×8 in flight', s.a.runs, [['send ack p99 (ms)', 'ack_ms.p99']]);
  if (s.b) bcast('b: 10×20, 1 sender×20 msg/s', s.b.runs);
  if (s.c) bcast(`c: ${s.c.sockets} sockets, 1 room`, s.c.runs, [['socket opens/s', 'opens_per_s'], ['server CPU µs per socket open', 'open_cpu_us_per_socket'], ['app RSS per idle socket (KB)', 'rss_per_idle_socket_kb']]);
  if (s.e) for (const size of Object.keys(s.e)) bcast(`e: room of ${size}, ${results.config.E_RATE} msg/s`, s.e[size].runs);
  const lines = [];
  lines.push('| scenario | metric | SliceChat | peer | SliceChat/peer |', '|---|---|---:|---:|---:|', ...rows);
  if (s.d) {
    const r = s.d.runs.rest; const p = s.d.runs.pgbench;
    lines.push('', '| d: 8 clients, 10 rooms | REST send (SliceChat) | pgbench single-row insert | REST/pgbench |', '|---|---:|---:|---:|');
    lines.push(`| writes/s | ${fmt(med(r, 'per_s'))} | ${fmt(med(p, 'per_s'))} | ${fmt(ratio(med(r, 'per_s'), med(p, 'per_s')), 2)} |`);
    lines.push(`| latency p50 / p99 (ms) | ${fmt(med(r, 'latency_ms.p50'))} / ${fmt(med(r, 'latency_ms.p99'))} | avg ${fmt(med(p, 'latency_ms.avg'))} | |`);
    lines.push(`| server CPU µs per write | ${fmt(med(r, 'cpu_us_per_op'))} | ${fmt(med(p, 'cpu_us_per_op'))} | ${fmt(ratio(med(r, 'cpu_us_per_op'), med(p, 'cpu_us_per_op')), 2)} |`);
    lines.push(`| failed requests (all runs) | ${sum(r, 'failed')} | | |`);
    lines.push(`| machine share elsewhere | ${fmt(med(r, 'resources.elsewhere_share'))} | ${fmt(med(p, 'resources.elsewhere_share'))} | |`);
  }
  if (s.f) {
    lines.push('', `| f: user in ${s.f.conversations} conversations, ${s.f.messages_in_database} messages | items | p50 (ms) | p99 (ms) | max (ms) |`, '|---|---:|---:|---:|---:|');
    for (const [q, runs] of Object.entries(s.f.runs)) lines.push(`| ${q} | ${runs[0]?.items} | ${fmt(med(runs, 'latency_ms.p50'))} | ${fmt(med(runs, 'latency_ms.p99'))} | ${fmt(med(runs, 'latency_ms.max'))} |`);
  }
  // resources per process group
  const res = [];
  const resRow = (label, runs) => {
    const names = Object.keys(runs[0]?.resources?.cpu_s || {});
    res.push(`| ${label} | ${names.map((g) => `${fmt(med(runs, `resources.cpu_s.${g}`))} / ${fmt(med(runs, `resources.peak_rss_mb.${g}`), 0)}`).join(' | ')} | ${fmt(med(runs, 'resources.loadgen_cpu_s'))} | ${fmt(med(runs, 'resources.elsewhere_cpu_s'))} | ${fmt(med(runs, 'resources.wall_s'))} |`);
    return names;
  };
  let names = [];
  const both = (label, runs) => { for (const t of Object.keys(runs)) names = resRow(`${label} ${t}`, runs[t]); };
  if (s.a) both('a', s.a.runs);
  if (s.b) both('b', s.b.runs);
  if (s.c) both('c', s.c.runs);
  if (s.d) both('d', s.d.runs);
  if (s.e) for (const size of Object.keys(s.e)) both(`e${size}`, s.e[size].runs);
  if (res.length) {
    lines.push('', 'CPU seconds / peak RSS (MB) per server process over the measured window (medians; postgres = postmaster and all its backends):', '');
    lines.push(`| run | ${names.join(' | ')} | load generator CPU s | elsewhere CPU s | wall s |`, `|---|${names.map(() => '---:').join('|')}|---:|---:|---:|`, ...res);
  }
  return lines.join('\n');
}
function sum(runs, p) { return runs.reduce((a, r) => a + (get(r, p) || 0), 0); }

async function main() {
  if (SC.length < 1) throw new Error('BENCH_SLICECHAT_URLS is required (run bench/run.sh)');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const stamp = results.started_at.replace(/[:.]/g, '-');
  const jsonPath = path.join(OUT_DIR, `${stamp}.json`);
  const save = () => {
    results.finished_at = new Date().toISOString();
    fs.writeFileSync(jsonPath, JSON.stringify(results, null, 1));
    fs.writeFileSync(jsonPath.replace(/\.json$/, '.md'), markdown() + '\n');
  };
  for (const name of SCENARIOS) {
    if (!scenarios[name]) throw new Error(`unknown scenario ${name}`);
    if (name !== 'd' && name !== 'f' && PEER.length === 0) throw new Error('BENCH_PEER_URLS is required');
    const t0 = L.now();
    log(`scenario ${name}`);
    try {
      // The dirty pages of the scenarios before are flushed now, not by a timed checkpoint inside this one's window
      // (each scenario takes less than checkpoint_timeout, 5 min), so that where the timer falls changes no scenario.
      psql('CHECKPOINT');
      results.scenarios[name] = await scenarios[name]();
    } catch (e) {
      log(`scenario ${name} failed: ${e.stack || e}`);
      results.scenarios[name + '_error'] = String(e.stack || e);
    }
    log(`scenario ${name} took ${((L.now() - t0) / 1000).toFixed(0)} s`);
    save();
  }
  const md = markdown();
  console.log(md);
  if (DOCS) writeDocs(md, jsonPath);
  log(`results: ${jsonPath}`);
}

function writeDocs(md, jsonPath) {
  const m = results.machine;
  const { RUNS, DURATION, WARMUP, C_SOCKETS, C_MESSAGES, E_RATE, F_SAMPLES, F_MESSAGES } = results.config;
  const text = `# Benchmarks

SliceChat against a peer: a Socket.IO 4 server with the Redis adapter
(\`bench/peers/socketio/\`: two instances on the same Redis, a pure broadcast to a room, nothing
stored, nothing checked). Both targets run two instances on loopback; one Node.js load generator
(\`bench/load/\`) drives both with the same scenarios, interleaving peer and SliceChat runs, and
reports medians of ${RUNS} runs each. SliceChat stores every message in PostgreSQL 15 with default
durability (\`fsync\` on, \`synchronous_commit\` on) before anyone sees it; the peer stores nothing,
so the ratios show the price of durability, ordering and access checks, not two equal products.

Command:

\`\`\`bash
${COMMAND}
\`\`\`

Machine: ${m.nproc} cores (${m.cpu_model}), ${m.memory_gib} GiB, Linux ${m.kernel}, Node.js ${m.node}.
**The numbers come from a shared box**: other builds ran on the same ${m.nproc} cores, so read
"machine share elsewhere" (CPU time of the whole machine, minus the measured server processes and
the load generator, over the cores × wall time) before trusting a difference. The load generator
itself shares those cores with the servers.

Run ${results.started_at} → ${results.finished_at}; raw results in \`bench/results/\` (${path.basename(jsonPath)}, not committed).
Configuration: ${RUNS} runs, ${DURATION} s per run after ${WARMUP ?? 0} s of unmeasured warm-up load per target (a, b, d, e), ${C_SOCKETS} sockets in scenario c (${C_MESSAGES} broadcasts),
${E_RATE} msg/s in scenario e, ${F_SAMPLES} requests per query and run in scenario f after ${F_WARMUP} unmeasured ones (and a VACUUM (ANALYZE) and a CHECKPOINT after its seed).
Each scenario starts with a CHECKPOINT, so that none pays for flushing the writes of the scenarios before it.

Scenarios:
- **a**: 10 rooms × 20 members, the members of each room spread over both instances (one socket each),
  2 senders per room each keeping 8 messages in flight (SliceChat: \`message.send\` on the room socket,
  acknowledged by the sender's own \`message.created\`; peer: emit with ack).
- **b**: the same rooms, 1 sender per room at 20 msg/s.
- **c**: sockets in one room (${SOCKETS_PER_USER} per user, as the contract's per-user socket cap allows):
  socket opens per second, app RSS growth per idle socket, then broadcasts to all of them. Each run on freshly
  started instances of its target: a tenth of the sockets open, get the broadcasts and close (unmeasured); then all
  of them, for the RSS growth per idle socket (a fresh heap); then all of them again, for the opens and the broadcast
  (an open path compiled to its final code). Loss, duplicates and reordering count both passes.
- **d**: REST sends (\`POST /api/v1/chatrooms/{id}/messages\`) by 8 concurrent clients over 10 rooms,
  against pgbench's single-row insert with 8 clients on the same PostgreSQL, in the same run.
- **e**: one sender at ${E_RATE} msg/s to rooms of 10, 100 and 1,000 members: server CPU per delivery.
- **f**: the newest history page, an older page and the conversations list of a user in 200
  conversations on a database of ${F_MESSAGES.toLocaleString('en')} messages (seeded with SQL).

REST requests (d, f) go over node:http on kept-alive connections, one request at a time per client.

Definitions: latency is end to end, from a send timestamp written into the message content to its
arrival at a receiving socket in the same process (every receiver, the sender included). Loss is
expected deliveries (SliceChat: messages stored, from the rooms' \`last_seq\`; peer: messages sent,
times the room's sockets) minus distinct deliveries; duplicates and reordering come from each
room's \`seq\` (SliceChat) or each sender's counter (peer). Gap fills are the times a SliceChat
feed read the database for a seq that had not come over Redis within \`Limits:GapWaitMilliseconds\`
(counted in the instances' logs). Server CPU is the CPU time of the
target's processes (SliceChat: both app instances, Redis and PostgreSQL with all backends; peer: both
peer instances and Redis) from /proc/<pid>/stat, over the sends and their delivery; the CPU per socket open is the same
sum over the opening of the sockets (64 at once; SliceChat: the room socket's handshake up to its \`ready\`, peer: connect
and join the room), divided by the sockets. Peak RSS from /proc/<pid>/status (for PostgreSQL the sum of the PSS of the
postmaster and its backends, from smaps_rollup, so shared buffers count once), sampled every 250 ms (PostgreSQL every
2 s) on a thread of the load generator's own, so that the sampling never holds up its receivers; each measurement
starts once that thread runs.

${md}
`;
  fs.mkdirSync(path.dirname(DOCS), { recursive: true });
  fs.writeFileSync(DOCS, text);
}

// `node run.js --report results/<stamp>.json` writes the Markdown (and BENCH_DOCS) of a saved run again.
if (process.argv[2] === '--report') {
  results = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  const md = markdown();
  console.log(md);
  if (DOCS) writeDocs(md, process.argv[3]);
  process.exit(0);
}

main().then(() => process.exit(0), (e) => { log(e.stack || String(e)); process.exit(1); });
