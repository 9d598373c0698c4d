// The load generator's memory sampler (a worker thread of lib.js' ProcMeter): the peak RSS of every
// process group, sampled every intervalMs until the parent asks for the peaks. Tree groups (PostgreSQL
// and its backends, read from smaps_rollup at tens of milliseconds a sample) are sampled every
// treeEvery-th time only, so that the sampling itself takes little of the box.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { ProcMeter } = require('./lib');

const { groups, intervalMs, treeEvery } = workerData;
const meter = new ProcMeter(groups);
const peak = meter.rssAll();
// Started: the parent begins its measurement only now, so that this thread's start-up (an isolate, and a first read of
// every group) does not fall into it.
parentPort.postMessage('ready');
let tick = 0;
const timer = setInterval(() => {
  const trees = ++tick % treeEvery === 0;
  for (const name of Object.keys(groups)) {
    if (groups[name].tree && !trees) continue;
    peak[name] = Math.max(peak[name], meter.rssKb(name));
  }
}, intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  parentPort.postMessage(peak);
});
