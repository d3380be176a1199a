// bench/streams.mjs: the client half of bench/streams (Node 20 built-ins only).
//
// Opens N concurrent streaming requests to the service's /v1/completions/stream on loopback,
// ramping up in batches (default 500 every 100 ms) so the listener's backlog never sees a
// thundering herd. Each body is unique (no cache hit, no single-flight coalescing) and asks
// the simulator for one chunk every --chunk-delay-ms, cut at --max-tokens words, so every
// stream stays open about max_tokens * chunk_delay.
//
// Each body is read incrementally and parsed as SSE lines without being kept. Counted per
// stream: opened (first SSE event received), completed (`data: [DONE]`), and errors: HTTP
// status other than 200, `event: error`, socket errors, or an end without [DONE].
//
// Once every stream is open (or has already failed), and before the first ones end, it
// samples /proc of the service (and the simulator) a few times: VmRSS, VmHWM, RssAnon,
// RssFile, open descriptors, threads. Then it waits for every stream to end (bounded by
// --timeout-s; the rest are destroyed and counted as errors) and writes a JSON summary to
// --out (bench/streams turns it into the markdown report). Progress goes to stderr.
//
// Usage: node streams.mjs --port P --key K --svc-pid PID --sim-pid PID --out FILE
//          [--streams 10000] [--chunk-delay-ms 1000] [--max-tokens 20]
//          [--batch 500] [--batch-interval-ms 100] [--samples 5] [--sample-interval-ms 500]
//          [--timeout-s auto]
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

function parseArgs(argv) {
  const options = {
    host: '127.0.0.1', port: 0, key: '', svcPid: 0, simPid: 0, out: '',
    streams: 10000, chunkDelayMs: 1000, maxTokens: 20, batch: 500, batchIntervalMs: 100,
    samples: 5, sampleIntervalMs: 500, timeoutS: 0,
  };
  const names = {
    '--host': ['host', String], '--port': ['port', Number], '--key': ['key', String],
    '--svc-pid': ['svcPid', Number], '--sim-pid': ['simPid', Number], '--out': ['out', String],
    '--streams': ['streams', Number], '--chunk-delay-ms': ['chunkDelayMs', Number],
    '--max-tokens': ['maxTokens', Number], '--batch': ['batch', Number],
    '--batch-interval-ms': ['batchIntervalMs', Number], '--samples': ['samples', Number],
    '--sample-interval-ms': ['sampleIntervalMs', Number], '--timeout-s': ['timeoutS', Number],
  };
  for (let i = 2; i < argv.length; i += 2) {
    const entry = names[argv[i]];
    if (!entry || i + 1 >= argv.length) throw new Error(`unknown or incomplete option ${argv[i]}`);
    options[entry[0]] = entry[1](argv[i + 1]);
  }
  for (const name of ['port', 'svcPid', 'streams', 'batch', 'samples']) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new Error(`--${name} must be a positive integer`);
  }
  if (!options.key || !options.out) throw new Error('--key and --out are required');
  if (options.timeoutS <= 0) {
    // Ramp, plus each stream's own length, twice over, plus a minute for stragglers.
    const rampS = (options.streams / options.batch) * options.batchIntervalMs / 1000;
    const streamS = (options.maxTokens + 1) * options.chunkDelayMs / 1000;
    options.timeoutS = Math.ceil(rampS + 2 * streamS + 60);
  }
  return options;
}

// --- /proc sampling ------------------------------------------------------------------

function readStatus(pid) {
  const fields = {};
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const match = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem|Threads):\s+(\d+)/.exec(line);
      if (match) fields[match[1]] = Number(match[2]);
    }
  } catch {
    return null;  // The process is gone.
  }
  return fields;
}

function countFds(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function sampleProcess(pid) {
  if (!pid) return null;
  const status = readStatus(pid);
  if (!status) return null;
  return {
    rssKb: status.VmRSS, hwmKb: status.VmHWM, anonKb: status.RssAnon, fileKb: status.RssFile,
    threads: status.Threads, fds: countFds(pid),
  };
}

// --- Statistics ------------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null;
}

// --- The streams -----------------------------------------------------------------------

const options = parseArgs(process.argv);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity, maxTotalSockets: Infinity });
const nonce = `${Date.now().toString(36)}-${process.pid}`;
const t0 = performance.now();

const counters = {
  requested: options.streams, started: 0, headers: 0, opened: 0, completed: 0, ended: 0,
  errors: 0, httpStatus: {}, errorEvents: 0, socketErrors: {}, missingDone: 0, timedOut: 0,
  pings: 0, events: 0,
};
const firstEventMs = [];
const headersMs = [];
const durationMs = [];
const eventsPerCompleted = { min: Infinity, max: 0 };
const errorSamples = [];
const live = new Set();
let openNow = 0;  // Streams that showed their first event and have not ended.

function recordError(kind, detail) {
  counters.errors += 1;
  if (errorSamples.length < 10) errorSamples.push(`${kind}: ${detail}`.slice(0, 300));
}

function bump(map, key) {
  map[key] = (map[key] || 0) + 1;
}

function openStream(index) {
  const body = JSON.stringify({
    messages: [{
      role: 'user',
      content: `Stream bench ${nonce}-${index}: describe a quiet harbour. ` +
        `[[simulate:chunk-delay:${options.chunkDelayMs}]]`,
    }],
    max_tokens: options.maxTokens,
  });
  const started = performance.now();
  const state = { done: false, errorEvent: false, opened: false, finished: false, events: 0, tail: '' };
  counters.started += 1;

  const finish = (outcome) => {
    if (state.finished) return;
    state.finished = true;
    live.delete(request);
    counters.ended += 1;
    if (state.opened) openNow -= 1;
    if (outcome) return;  // Already counted as an error.
    if (state.errorEvent) {
      counters.errorEvents += 1;
      recordError('event: error', `stream ${index}`);
    } else if (!state.done) {
      counters.missingDone += 1;
      recordError('missing [DONE]', `stream ${index} after ${state.events} events`);
    } else {
      counters.completed += 1;
      durationMs.push(performance.now() - started);
      eventsPerCompleted.min = Math.min(eventsPerCompleted.min, state.events);
      eventsPerCompleted.max = Math.max(eventsPerCompleted.max, state.events);
    }
  };

  const onLine = (line) => {
    if (line.startsWith('data:')) {
      const data = line.slice(5).trimStart();
      if (!state.opened) {
        state.opened = true;
        counters.opened += 1;
        openNow += 1;
        firstEventMs.push(performance.now() - started);
      }
      if (data === '[DONE]') state.done = true;
      else { state.events += 1; counters.events += 1; }
    } else if (line.startsWith('event:')) {
      if (line.slice(6).trim() === 'error') state.errorEvent = true;
    } else if (line.startsWith(':')) {
      counters.pings += 1;
    }
  };

  const request = http.request({
    host: options.host, port: options.port, path: '/v1/completions/stream', method: 'POST', agent,
    headers: {
      'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
      'X-API-Key': options.key, Accept: 'text/event-stream',
    },
  }, (response) => {
    counters.headers += 1;
    if (response.statusCode === 200) headersMs.push(performance.now() - started);
    response.setEncoding('utf8');
    if (response.statusCode !== 200) {
      bump(counters.httpStatus, response.statusCode);
      let text = '';
      response.on('data', (chunk) => { if (text.length < 300) text += chunk; });
      response.on('end', () => {
        recordError(`HTTP ${response.statusCode}`, `${response.headers['retry-after'] ? 'retry-after ' + response.headers['retry-after'] + ' ' : ''}${text}`);
        finish('http');
      });
      response.on('error', () => { recordError(`HTTP ${response.statusCode}`, text); finish('http'); });
      return;
    }
    response.on('data', (chunk) => {
      const lines = (state.tail + chunk).split('\n');
      state.tail = lines.pop();
      for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    });
    response.on('end', () => { if (state.tail) onLine(state.tail); finish(null); });
    response.on('error', (error) => {
      bump(counters.socketErrors, error.code || error.message);
      recordError('socket error mid-body', `${error.code || ''} ${error.message}`);
      finish('socket');
    });
  });
  request.on('error', (error) => {
    if (state.finished) return;
    bump(counters.socketErrors, error.code || error.message);
    recordError('socket error', `${error.code || ''} ${error.message}`);
    finish('socket');
  });
  live.add(request);
  request.end(body);
}

// --- The run ---------------------------------------------------------------------------

const samples = [];
let allOpenAtMs = null;
let sampling = false;
let sampledWhileOpen = null;

function elapsedS() {
  return ((performance.now() - t0) / 1000).toFixed(1);
}

function progress(prefix = '') {
  const svc = sampleProcess(options.svcPid);
  process.stderr.write(
    `  ${prefix}t=${elapsedS()}s started=${counters.started} open=${openNow}` +
    ` completed=${counters.completed} errors=${counters.errors}` +
    (svc ? ` svc_rss=${(svc.rssKb / 1024).toFixed(1)}MiB svc_fds=${svc.fds}` : ' service gone') + '\n');
}

async function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function takeSamples() {
  sampling = true;
  // Let the last batch's first events settle in the service before measuring.
  await sleep(options.sampleIntervalMs);
  for (let i = 0; i < options.samples; i += 1) {
    samples.push({
      atS: Number(elapsedS()), openStreams: openNow, completedSoFar: counters.completed,
      service: sampleProcess(options.svcPid), simulator: sampleProcess(options.simPid),
      clientRssKb: Math.round(process.memoryUsage().rss / 1024),
    });
    await sleep(options.sampleIntervalMs);
  }
  sampledWhileOpen = samples.every((s) => s.completedSoFar === 0);
}

async function main() {
  const deadline = t0 + options.timeoutS * 1000;
  process.stderr.write(`streams: ${options.streams} streams, ${options.batch} every ${options.batchIntervalMs} ms,` +
    ` chunk delay ${options.chunkDelayMs} ms, max_tokens ${options.maxTokens}, timeout ${options.timeoutS}s\n`);
  let next = 0;
  const ramp = setInterval(() => {
    const end = Math.min(options.streams, next + options.batch);
    for (; next < end; next += 1) openStream(next);
    if (next >= options.streams) clearInterval(ramp);
  }, options.batchIntervalMs);
  const ticker = setInterval(() => progress(), 2000);

  let samplingDone = null;
  while (counters.ended < options.streams && performance.now() < deadline) {
    await sleep(50);
    // Every stream has shown its first event or already failed: all are open now.
    // (An opened stream that ended is counted once: opened covers it.)
    const failedBeforeOpening = counters.ended - (counters.opened - openNow);
    if (!sampling && next >= options.streams && counters.opened + failedBeforeOpening >= options.streams) {
      allOpenAtMs = performance.now() - t0;
      progress('all open: ');
      samplingDone = takeSamples();
    }
  }
  clearInterval(ramp);
  clearInterval(ticker);
  for (const request of [...live]) {
    counters.timedOut += 1;
    recordError('timeout', 'stream still open at the overall deadline');
    request.destroy();
  }
  if (!sampling) {
    // Never all open at once (failures or a slow ramp): sample what there is, for the record.
    samplingDone = takeSamples();
  }
  await samplingDone;
  progress('end: ');

  firstEventMs.sort((a, b) => a - b);
  headersMs.sort((a, b) => a - b);
  durationMs.sort((a, b) => a - b);
  const serviceRss = samples.map((s) => s.service?.rssKb).filter((v) => v != null);
  const result = {
    options: { ...options, key: undefined },
    counters,
    errorSamples,
    allOpenAtS: allOpenAtMs == null ? null : allOpenAtMs / 1000,
    sampledWhileAllOpen: sampledWhileOpen,
    samples,
    serviceRssDuringKb: median(serviceRss),
    serviceRssMaxDuringKb: serviceRss.length ? Math.max(...serviceRss) : null,
    openStreamsAtSample: median(samples.map((s) => s.openStreams)),
    serviceFinal: sampleProcess(options.svcPid),
    simulatorFinal: sampleProcess(options.simPid),
    clientPeakRssKb: Math.max(...samples.map((s) => s.clientRssKb), Math.round(process.memoryUsage().rss / 1024)),
    firstEventMs: { p50: percentile(firstEventMs, 50), p99: percentile(firstEventMs, 99), max: firstEventMs.at(-1) ?? null },
    headersMs: { p50: percentile(headersMs, 50), p99: percentile(headersMs, 99), max: headersMs.at(-1) ?? null },
    streamMs: { p50: percentile(durationMs, 50), p99: percentile(durationMs, 99), max: durationMs.at(-1) ?? null },
    eventsPerCompletedStream: counters.completed ? eventsPerCompleted : null,
    wallS: Number(elapsedS()),
  };
  fs.writeFileSync(options.out, JSON.stringify(result, null, 1));
  agent.destroy();
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`streams: ${error.stack || error}\n`);
  process.exit(1);
});
