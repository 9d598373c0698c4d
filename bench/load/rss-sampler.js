// The load generator's memory sampler (a worker thread of lib.js' ProcMeter): the peak RSS of every
// process group, sampled every intervalMs until the parent asks for the peaks.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { ProcMeter } = require('./lib');

const meter = new ProcMeter(workerData.groups);
const peak = meter.rssAll();
const timer = setInterval(() => {
  for (const [name, kb] of Object.entries(meter.rssAll())) peak[name] = Math.max(peak[name], kb);
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  parentPort.postMessage(peak);
});
