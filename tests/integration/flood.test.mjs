// A flood of connections and requests (issue 3, "Resilience of the upstream path"): thousands
// of idle or half-sent connections plus a burst of completions far beyond
// MAX_CONCURRENT_UPSTREAM + UPSTREAM_QUEUE_MAX. The service must stay up, keep answering
// /health, shed the excess with 503 quickly, answer the rest, never exceed its upstream
// concurrency, and give every descriptor back once the callers are gone.
//
// Needs about IDLE_SOCKETS + REQUESTS descriptors in this process (and as many in the
// service, which raises its own soft limit to the hard one): it is skipped, saying so, when
// `ulimit -n` is lower. CTest runs the folder with `ulimit -n 65536`.
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, readlinkSync} from 'node:fs';
import net from 'node:net';
import {after, describe, test} from 'node:test';

import {body, complete, nonce, rawHttp, rawRequest, SERVICE_KEY, sleep, startService, startSimulator, stopAll} from './harness.mjs';

const IDLE_SOCKETS = 3000;
const REQUESTS = 1000;
const MAX_CONCURRENT_UPSTREAM = 50;
const UPSTREAM_QUEUE_MAX = 50;
const WORKERS = 2;
// AnthropicClientOptions::max_idle_connections_per_worker: the keep-alive connections each
// worker's upstream pool may keep between calls.
const UPSTREAM_IDLE_PER_WORKER = 64;
// Sockets of this process beyond the two floods: node itself, the simulator stats polls,
// the harness's pipes, and slack.
const NEEDED_DESCRIPTORS = IDLE_SOCKETS + REQUESTS + 1000;
const OVERLOADED = 'Service is at capacity. Retry after a moment.';

// The soft RLIMIT_NOFILE of this process, or null when /proc cannot tell.
function softDescriptorLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
                     .split('\n')
                     .find((entry) => entry.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return Infinity;
    const value = Number(soft);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

function openDescriptors(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

// The TCP sockets process `pid` holds, by role: `callers` (accepted on `servicePort`),
// `upstream` (connected to `upstreamPort`) and `other` (the listener and anything else).
function socketsByRole(pid, servicePort, upstreamPort) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;  // Closed meanwhile.
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  const roles = {callers: 0, upstream: 0, other: 0};
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let lines;
    try {
      lines = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (!inodes.has(fields[9])) continue;
      const localPort = parseInt(fields[1].split(':')[1], 16);
      const remotePort = parseInt(fields[2].split(':')[1], 16);
      const listening = fields[3] === '0A';
      if (!listening && localPort === servicePort) {
        roles.callers += 1;
      } else if (remotePort === upstreamPort) {
        roles.upstream += 1;
      } else {
        roles.other += 1;
      }
    }
  }
  return roles;
}

// Opens `count` connections to `port`, `batch` at a time (so the listen backlog is not
// overrun), writing `greeting(i)` (if it returns something) to each once connected. Every
// socket is pushed into `sink` before it connects, so the caller can destroy them all even if
// this throws. Resolves with the number that connected.
async function openIdleSockets(port, count, sink, {batch = 250, greeting} = {}) {
  let connected = 0;
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    await Promise.all(Array.from({length: size}, (_, offset) => new Promise((resolve) => {
                                                   const socket =
                                                       net.connect({host: '127.0.0.1', port});
                                                   sink.push(socket);
                                                   socket.on('error', () => resolve());
                                                   socket.on('connect', () => {
                                                     connected += 1;
                                                     const text = greeting?.(start + offset);
                                                     if (text) socket.write(text);
                                                     resolve();
                                                   });
                                                 })));
  }
  return connected;
}

// Polls `probe` until it returns true or `timeoutMs` passes; returns its last answer.
async function eventually(probe, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe()) && performance.now() < deadline) await sleep(200);
  return probe();
}

function shedProblem(result) {
  const {response} = result;
  if (response?.status !== 503) return `status ${response?.status}`;
  if (response.headers['retry-after'] !== '1')
    return `Retry-After ${response.headers['retry-after']}`;
  let json;
  try {
    json = JSON.parse(response.body);
  } catch {
    return `body is not JSON: ${response.body}`;
  }
  if (json.detail !== OVERLOADED) return `detail ${json.detail}`;
  if (json.request_id !== response.headers['x-request-id']) return 'request_id differs';
  return null;
}

describe('flood', () => {
  const limit = softDescriptorLimit();
  let skip = false;
  if (limit === null) {
    skip = 'cannot read this process\'s descriptor limit from /proc/self/limits';
  } else if (limit < NEEDED_DESCRIPTORS) {
    skip = `ulimit -n is ${limit}; the flood needs ${NEEDED_DESCRIPTORS} ` +
        '(run it from a shell with `ulimit -n 65536`)';
  }

  const idleSockets = [];
  after(async () => {
    for (const socket of idleSockets) socket.destroy();
    await stopAll();
  });

  test(
      `${IDLE_SOCKETS} idle connections and ${REQUESTS} concurrent requests: the service ` +
          'stays up, sheds the excess with 503, answers the rest and leaks no descriptor',
      {skip, timeout: 120000}, async (t) => {
        const sim = await startSimulator();
        const service = await startService({
          sim,
          env: {
            WORKERS: String(WORKERS),
            MAX_CONCURRENT_UPSTREAM: String(MAX_CONCURRENT_UPSTREAM),
            UPSTREAM_QUEUE_MAX: String(UPSTREAM_QUEUE_MAX),
            UPSTREAM_QUEUE_TIMEOUT_MS: '5000',
          },
        });
        const pid = service.proc.child.pid;
        const tag = nonce();

        // The idle baseline: after one request, so the upstream connection pool and the
        // logger are in their steady state.
        const warm = await complete(service, body(`Warm up ${tag}`, {max_tokens: 8}));
        assert.equal(warm.status, 200, warm.text);
        await sleep(300);
        const idleDescriptors = openDescriptors(pid);

        // Half the idle connections say nothing; the other half send half a request head.
        const partialHead = `POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
            `X-API-Key: ${SERVICE_KEY}\r\n`;
        const connected = await openIdleSockets(
            service.port, IDLE_SOCKETS, idleSockets,
            {greeting: (i) => (i % 2 === 0 ? partialHead : null)});
        assert.equal(connected, IDLE_SOCKETS, 'the service did not take every connection');
        const health = await rawHttp(
            service.port, [rawRequest('GET', '/health', {headers: [['Connection', 'close']]})]);
        assert.equal(health.response?.status, 200, health.raw.toString());
        const heldDescriptors = openDescriptors(pid);
        assert.ok(
            heldDescriptors >= idleDescriptors + IDLE_SOCKETS * 0.9,
            `the service holds ${heldDescriptors} descriptors with ${IDLE_SOCKETS} connections ` +
                `open (idle: ${idleDescriptors}): the connections are not its own`);

        // The simulator's `active` is the upstream concurrency the service really uses.
        let maxActive = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const stats = await sim.stats();
            maxActive = Math.max(maxActive, stats.active);
            await sleep(25);
          }
        })();

        // Every request is different (no coalescing, no cache) and holds its upstream slot
        // for a second; each uses its own connection, closed after the answer.
        const requests = Array.from(
            {length: REQUESTS},
            (_, i) => rawHttp(
                service.port, [rawRequest('POST', '/v1/completions', {
                  headers: [
                    ['X-API-Key', SERVICE_KEY], ['Content-Type', 'application/json'],
                    ['Connection', 'close']
                  ],
                  body: JSON.stringify(
                      body(`Flood ${i} [[simulate:slow:1000]] ${tag}`, {max_tokens: 8})),
                })],
                {timeoutMs: 60000}));
        await sleep(300);
        const healthDuring = await rawHttp(
            service.port, [rawRequest('GET', '/health', {headers: [['Connection', 'close']]})],
            {timeoutMs: 10000});
        const results = await Promise.all(requests);
        sampling = false;
        await sampler;
        assert.equal(
            healthDuring.response?.status, 200,
            `/health during the flood: ${healthDuring.raw.toString() || healthDuring.error}`);

        const answered = results.filter((r) => r.response?.status === 200);
        const shed = results.filter((r) => r.response?.status === 503);
        const other = results.filter((r) => ![200, 503].includes(r.response?.status));
        assert.equal(
            other.length, 0,
            `${other.length} requests got neither 200 nor 503, e.g. ${
                JSON.stringify(other.slice(0, 3).map((r) => ({
                                                       status: r.response?.status,
                                                       error: r.error,
                                                       raw: r.raw.toString().slice(0, 200),
                                                     })))}`);
        t.diagnostic(`${answered.length} answered, ${shed.length} shed, at most ${
            maxActive} upstream calls at once`);
        assert.ok(shed.length > 0, 'nothing was shed');
        assert.ok(
            answered.length >= MAX_CONCURRENT_UPSTREAM,
            `only ${answered.length} answered, ${shed.length} shed`);
        for (const result of shed) assert.equal(shedProblem(result), null);
        for (const result of answered) {
          const json = JSON.parse(result.response.body);
          assert.equal(json.cached, false);
          assert.ok(json.content.length > 0);
        }
        assert.ok(
            maxActive <= MAX_CONCURRENT_UPSTREAM,
            `${maxActive} upstream calls at once, above MAX_CONCURRENT_UPSTREAM`);
        const stats = await sim.stats();
        // One upstream call per answered request (and the warm-up); a shed one made none.
        assert.equal(
            stats.messages_requests, answered.length + 1,
            `${answered.length} answered, ${shed.length} shed: ${JSON.stringify(stats)}`);

        assert.equal(service.proc.exitInfo, null, 'the service exited during the flood');
        assert.equal(service.proc.events('unhandled_exception').length, 0);

        // Everyone leaves: the service serves normally, closes every caller connection and
        // is back to its idle descriptors, except for the upstream connections its pool
        // keeps for reuse (at most kMaxIdlePerWorker per worker).
        for (const socket of idleSockets) socket.destroy();
        const normal = await complete(service, body(`After the flood ${tag}`, {max_tokens: 8}));
        assert.equal(normal.status, 200, normal.text);
        const roles = () => socketsByRole(pid, service.port, sim.port);
        await eventually(() => roles().callers === 0, 20000);
        const settled = roles();
        const finalDescriptors = openDescriptors(pid);
        t.diagnostic(`descriptors: idle ${idleDescriptors}, with the idle connections ${
            heldDescriptors}, after ${finalDescriptors} (${JSON.stringify(settled)})`);
        assert.equal(
            settled.callers, 0, `caller connections left open: ${JSON.stringify(settled)}`);
        assert.ok(
            settled.upstream <= WORKERS * UPSTREAM_IDLE_PER_WORKER,
            `${settled.upstream} upstream connections kept: ${JSON.stringify(settled)}`);
        assert.ok(
            finalDescriptors - settled.upstream <= idleDescriptors + 4,
            `${finalDescriptors} descriptors open after the flood, ${settled.upstream} of them ` +
                `pooled upstream connections; idle was ${idleDescriptors}`);
        await service.proc.stop();
        await sim.proc.stop();
      });
});
