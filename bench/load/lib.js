// Shared pieces of the load generator: clock, statistics, /proc accounting, the two clients.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Worker } = require('node:worker_threads');
const WebSocket = require('ws');
const { io } = require('socket.io-client');

const CLK_TCK = 100; // USER_HZ on Linux
const now = () => performance.timeOrigin + performance.now(); // ms, one clock for sender and receiver
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
function summary(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : null };
}
function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Runs `fn` over `items` with at most `limit` at once.
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---- /proc accounting ---------------------------------------------------------------------
function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // after the comm field: f[0]=state(3) f[1]=ppid(4) ... utime(14)=f[11] stime(15)=f[12] cutime(16)=f[13] cstime(17)=f[14]
    return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
  } catch { return null; }
}
function readRssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}
// Proportional set size: shared pages split among the processes that map them (PostgreSQL's
// backends all map the shared buffers; summing their RSS would count those once per backend).
function readPssKb(pid) {
  try {
    const m = /Pss:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}
function childrenOf(ppid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (st && st.ppid === ppid) out.push(Number(d));
  }
  return out;
}
function machineBusyTicks() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return line[0] + line[1] + line[2] + line[5] + line[6] + (line[7] || 0);
}

// Groups of server processes: { name: { pids: [..], tree: bool } }; a tree group (PostgreSQL)
// counts the postmaster with its reaped children (cutime/cstime) and its live children.
class ProcMeter {
  constructor(groups) { this.groups = groups; this.timer = null; }
  cpuTicks(name) {
    const g = this.groups[name];
    let t = 0;
    for (const pid of g.pids) {
      const st = readStat(pid);
      if (!st) continue;
      t += st.utime + st.stime;
      if (g.tree) {
        t += st.cutime + st.cstime;
        for (const c of childrenOf(pid)) { const cs = readStat(c); if (cs) t += cs.utime + cs.stime; }
      }
    }
    return t;
  }
  rssKb(name) {
    const g = this.groups[name];
    let kb = 0;
    for (const pid of g.pids) {
      if (!g.tree) { kb += readRssKb(pid); continue; }
      kb += readPssKb(pid);
      for (const c of childrenOf(pid)) kb += readPssKb(c);
    }
    return kb;
  }
  rssAll() { const o = {}; for (const n of Object.keys(this.groups)) o[n] = this.rssKb(n); return o; }
  // Memory is sampled on a thread of its own: reading smaps_rollup of PostgreSQL's backends takes tens of
  // milliseconds, which on this thread stalled the receivers' event loop and showed up in every target's
  // latency percentiles. Resolves once that thread runs: its start-up, inside the measurement, showed in
  // the first requests' latency.
  async start() {
    this.sampler = new Worker(path.join(__dirname, 'rss-sampler.js'), { workerData: { groups: this.groups, intervalMs: 250, treeEvery: 8 } });
    await new Promise((resolve, reject) => {
      this.sampler.once('message', resolve);
      this.sampler.once('error', reject);
    });
    this.t0 = now();
    this.busy0 = machineBusyTicks();
    this.self0 = process.cpuUsage();
    this.cpu0 = {}; this.peak = {};
    // the peaks at the start are the sampler's first sample
    for (const n of Object.keys(this.groups)) { this.cpu0[n] = this.cpuTicks(n); this.peak[n] = 0; }
  }
  async stop() {
    const wall = (now() - this.t0) / 1000;
    const sampled = await new Promise((resolve, reject) => {
      this.sampler.once('message', resolve);
      this.sampler.once('error', reject);
      this.sampler.postMessage('stop');
    });
    await this.sampler.terminate();
    const busy = (machineBusyTicks() - this.busy0) / CLK_TCK;
    const self = process.cpuUsage(this.self0);
    const loadgen = (self.user + self.system) / 1e6;
    const cpu = {}; const peakRssMb = {};
    let measured = 0;
    for (const n of Object.keys(this.groups)) {
      this.peak[n] = Math.max(this.peak[n], sampled[n] ?? 0, this.rssKb(n));
      cpu[n] = (this.cpuTicks(n) - this.cpu0[n]) / CLK_TCK;
      peakRssMb[n] = this.peak[n] / 1024;
      measured += cpu[n];
    }
    const elsewhere = Math.max(0, busy - measured - loadgen);
    return { wall_s: wall, cpu_s: cpu, peak_rss_mb: peakRssMb, loadgen_cpu_s: loadgen, machine_busy_cpu_s: busy,
      elsewhere_cpu_s: elsewhere, elsewhere_share: elsewhere / (os.cpus().length * wall) };
  }
}

// ---- order / loss / duplicate bookkeeping ---------------------------------------------------
// One Track per (receiver, stream): a stream is a room's seq (SliceChat) or a sender's counter (peer).
class Track {
  constructor(base) { this.max = base; this.missing = new Set(); this.unique = 0; this.dups = 0; this.reorders = 0; }
  see(n) {
    if (n === this.max + 1) { this.max = n; this.unique++; return; }
    if (n > this.max + 1) {
      for (let k = this.max + 1; k < n && this.missing.size < 1e6; k++) this.missing.add(k);
      this.max = n; this.unique++; return;
    }
    if (this.missing.delete(n)) { this.unique++; this.reorders++; return; }
    this.dups++;
  }
}

// ---- clients ---------------------------------------------------------------------------------
// A SliceChat socket. onCreated(msg, recvTime) is called for every message.created frame.
function slicechatSocket(baseUrl, path, token, onFrame, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const url = baseUrl.replace(/^http/, 'ws') + path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let ready = false;
    const timer = setTimeout(() => { if (!ready) { ws.terminate(); reject(new Error('no ready within timeout: ' + path)); } }, timeoutMs);
    ws.on('message', (data) => {
      const t = now();
      let f;
      try { f = JSON.parse(data.toString()); } catch { return; }
      if (!ready) {
        if (f.type === 'ready') { ready = true; clearTimeout(timer); resolve(ws); }
        return;
      }
      onFrame(f, t);
    });
    ws.on('error', (e) => { if (!ready) { clearTimeout(timer); reject(e); } });
    ws.on('unexpected-response', (req, res) => { clearTimeout(timer); reject(new Error(`handshake ${res.statusCode} ${path}`)); });
  });
}

function peerSocket(baseUrl, onMsg, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const s = io(baseUrl, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: timeoutMs });
    const timer = setTimeout(() => { s.close(); reject(new Error('peer connect timeout')); }, timeoutMs);
    s.on('connect', () => { clearTimeout(timer); resolve(s); });
    s.on('connect_error', (e) => { clearTimeout(timer); reject(e); });
    s.on('msg', (m) => onMsg(m, now()));
  });
}

// HTTP requests over node:http with kept-alive connections, rather than fetch: fetch (undici, with its WHATWG streams)
// costs the load generator more CPU on a box it shares with the servers, and put its own pauses into scenario f's tail
// (history p99 6.76 ms with fetch, 2.48 ms with node:http, on the same server in the same run).
function httpClient() {
  const agent = new http.Agent({ keepAlive: true });
  return (method, url, headers, body) => new Promise((resolve, reject) => {
    if (body !== undefined) headers = { ...headers, 'content-length': Buffer.byteLength(body) };
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function closeAll(sockets) {
  for (const s of sockets) {
    try { if (s.terminate) s.terminate(); else s.close(); } catch { /* closing anyway */ }
  }
}

module.exports = { now, sleep, summary, median, pool, ProcMeter, Track, slicechatSocket, peerSocket, httpClient, closeAll, CLK_TCK };
