// Slow callers (issue: "a caller that reads a stream slowly applies backpressure up to the
// upstream; memory per stream stays bounded"), through the real binary and the simulator.
//
// `[[simulate:bulk:<bytes>]]` makes the simulator stream <bytes> bytes of text in ~16 KiB
// deltas, writing and flushing each before producing the next, so it can only finish when
// everything downstream of it keeps reading. 48 MiB is far more than the loopback socket
// buffers (simulator -> service, service -> caller; a few MiB at most) plus the service's
// bounded relay channel can hold. So a caller that stops reading must leave the simulator
// blocked in a write, with the service's memory flat; if the service buffered the upstream
// without bound instead, the simulator would complete and the service's RSS would grow by
// about 48 MiB. Both are checked, then the caller reads on and must get every byte.
//
// Why 48 and not 64 MiB: the upstream client accepts at most 64 MiB of response body per
// stream (AnthropicClientOptions::max_response_bytes, SSE framing included), so a stream
// carrying 64 MiB of text is cut near its end with "Upstream AI error" by design.
//
// The caller is a raw node:net socket (fetch reads ahead on its own): it stops reading with
// socket.pause() as soon as the first bytes arrive. Time only appears as generous waits
// ("the simulator has had seconds to run ahead, and did not"); the assertions are on the
// simulator's counters, the service's RSS and the delivered bytes.
//
// The pause stays well below both servers' 30 s write timeout, after which a write that
// cannot progress counts as the client being gone.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {after, describe, test} from 'node:test';

import {nonce, SERVICE_KEY, sleep, startService, startSimulator, stopAll} from './harness.mjs';

const MiB = 1024 * 1024;
const BULK_BYTES = 48 * MiB;
// How long the caller stays paused before anything is checked. A service that buffered
// the upstream without bound (checked by hand: a relay channel of 4M events) absorbs the
// whole 48 MiB in under 4 s in a Debug build, its RSS +95 MiB; both servers' write timeouts
// (30 s) bound it from above.
const PAUSE_MS = 8000;
// Growth of the service's RSS over its idle value allowed while the caller is paused: the
// relay holds a few 16 KiB events; buffering the whole answer would add about 48 MiB.
const RSS_GROWTH_LIMIT = 16 * MiB;

// The simulator's /_simulator/stats over a fresh connection each time. fetch would reuse a
// pooled keep-alive connection, and undici closes those after 4 s idle: a look taken just
// as that timer fires fails with "fetch failed" (seen here with 4 s pauses on busy cores).
function simStats(sim) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${sim.url}/_simulator/stats`, {agent: false}, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (piece) => (text += piece));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`simulator stats: HTTP ${response.statusCode}`));
        } else {
          resolve(JSON.parse(text));
        }
      });
    });
    request.on('error', reject);
  });
}

// Polls simStats until predicate(stats) holds or timeoutMs passed; returns the last stats.
async function waitForSimStats(sim, predicate, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let stats = await simStats(sim);
  while (!predicate(stats) && performance.now() < deadline) {
    await sleep(50);
    stats = await simStats(sim);
  }
  return stats;
}

// The resident set of process `pid`, in bytes (VmRSS of /proc/<pid>/status).
function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  assert.ok(match, `no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

// Opens a stream request on a raw socket. `first` resolves once the first response bytes
// arrived, at which point the socket is already paused (nothing more is read from the
// kernel until resume()). Everything received is kept in `chunks`.
function openPausedStream(service, text) {
  const payload = JSON.stringify({messages: [{role: 'user', content: text}]});
  const socket = net.connect({host: '127.0.0.1', port: service.port});
  const state = {socket, chunks: [], bytes: 0, ended: false, error: null};
  state.first = new Promise((resolve, reject) => {
    socket.once('data', () => {
      socket.pause();
      resolve();
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before any response byte')));
  });
  state.done = new Promise((resolve) => {
    socket.on('data', (data) => {
      state.chunks.push(data);
      state.bytes += data.length;
    });
    socket.on('end', () => {
      state.ended = true;
    });
    socket.on('error', (error) => {
      state.error = error;
    });
    socket.on('close', resolve);
  });
  socket.on('connect', () => {
    socket.write(
        'POST /v1/completions/stream HTTP/1.1\r\n' +
        'Host: 127.0.0.1\r\n' +
        `X-API-Key: ${SERVICE_KEY}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(payload)}\r\n` +
        // The service closes after the response, which tells the reader where it ends.
        'Connection: close\r\n\r\n' + payload);
  });
  return state;
}

// Decodes a complete chunked HTTP/1.1 response: { status, headers (lower-case), body
// (Buffer), terminated (the zero-size last chunk was seen) }.
function decodeResponse(raw) {
  const headEnd = raw.indexOf('\r\n\r\n');
  assert.ok(headEnd > 0, `no response head in ${raw.subarray(0, 200).toString('latin1')}`);
  const [statusLine, ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  assert.match(headers['transfer-encoding'] ?? '', /chunked/i, JSON.stringify(headers));
  const parts = [];
  let offset = headEnd + 4;
  let terminated = false;
  while (offset < raw.length) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16);
    assert.ok(!Number.isNaN(size), `bad chunk size line at byte ${offset}`);
    if (size === 0) {
      terminated = true;
      break;
    }
    const start = lineEnd + 2;
    if (start + size > raw.length) break;
    parts.push(raw.subarray(start, start + size));
    offset = start + size + 2;
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]),
    headers,
    body: Buffer.concat(parts),
    terminated,
  };
}

// The SSE body's data events: { textBytes (UTF-8 bytes of all text events), textEvents,
// others (non-text data, e.g. [DONE]), errors (`event: error` blocks), last (last data) }.
function summarizeEvents(body) {
  const summary = {textBytes: 0, textEvents: 0, others: [], errors: [], last: null};
  for (const block of body.toString('utf8').replace(/\r\n/g, '\n').split('\n\n')) {
    if (block === '' || block.startsWith(':')) continue;
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      if (line.startsWith('data:')) data = line.slice(5).replace(/^ /, '');
    }
    summary.last = data;
    if (event === 'error') {
      summary.errors.push(data);
    } else if (data === '[DONE]') {
      summary.others.push(data);
    } else {
      summary.textBytes += Buffer.byteLength(JSON.parse(data).text, 'utf8');
      summary.textEvents += 1;
    }
  }
  return summary;
}

describe('backpressure from a slow caller', () => {
  after(stopAll);

  test(
      'a paused caller stalls the upstream with the service memory flat, then reading on ' +
          'delivers every byte',
      async () => {
        const sim = await startSimulator();
        // No caching: this is about relaying, and a 48 MiB entry would only cost memory.
        const service = await startService({sim, env: {CACHE_TTL_SECONDS: '0'}});
        const pid = service.proc.child.pid;
        await sleep(500);  // Let the service settle at its idle footprint.
        const idleRss = rssBytes(pid);
        const before = await simStats(sim);

        const caller = openPausedStream(service, `Bulk ${nonce()} [[simulate:bulk:${BULK_BYTES}]]`);
        await caller.first;
        const running = await waitForSimStats(sim, (s) => s.active === 1, 10000);
        assert.equal(
            running.active, 1, `the upstream stream never started: ${JSON.stringify(running)}`);

        // Two looks, seconds apart: the simulator must still be stuck, not merely slow.
        let peakRss = 0;
        for (const wait of [PAUSE_MS / 2, PAUSE_MS / 2]) {
          await sleep(wait);
          const stats = await simStats(sim);
          peakRss = Math.max(peakRss, rssBytes(pid));
          assert.equal(
              stats.completed, before.completed,
              `the simulator finished a ${BULK_BYTES / MiB} MiB stream nobody read: ${
                  JSON.stringify(stats)}`);
          assert.equal(stats.active, 1, JSON.stringify(stats));
          assert.equal(
              stats.cancelled_by_client, before.cancelled_by_client, JSON.stringify(stats));
        }
        const growth = peakRss - idleRss;
        assert.ok(
            growth < RSS_GROWTH_LIMIT,
            `service RSS grew by ${(growth / MiB).toFixed(1)} MiB (idle ${
                (idleRss / MiB).toFixed(1)} MiB) while its caller was paused`);
        assert.ok(
            caller.bytes < BULK_BYTES / 4,
            `the caller received ${caller.bytes} bytes before pausing took effect`);

        caller.socket.resume();
        await caller.done;
        assert.equal(caller.error, null, String(caller.error));
        assert.ok(caller.ended, 'the service did not end the response');
        const response = decodeResponse(Buffer.concat(caller.chunks));
        assert.equal(response.status, 200);
        assert.match(response.headers['content-type'] ?? '', /^text\/event-stream/);
        assert.ok(response.terminated, 'no last chunk: the stream was cut');
        const events = summarizeEvents(response.body);
        assert.deepEqual(events.errors, []);
        assert.equal(events.last, '[DONE]');
        assert.deepEqual(events.others, ['[DONE]']);
        // The simulator emits exactly BULK_BYTES bytes of text.
        assert.equal(events.textBytes, BULK_BYTES);

        const finished = await waitForSimStats(
            sim, (s) => s.completed === before.completed + 1 && s.active === 0, 10000);
        assert.equal(finished.completed, before.completed + 1, JSON.stringify(finished));
        assert.equal(finished.active, 0);
        assert.equal(finished.cancelled_by_client, before.cancelled_by_client);
        const end = await service.proc.waitForEvent('stream_end', () => true, {timeoutMs: 10000});
        assert.equal(end.outcome, 'completed', JSON.stringify(end));
      });

  test('a paused caller that leaves cancels the blocked upstream stream', async () => {
    const sim = await startSimulator();
    const service = await startService({sim, env: {CACHE_TTL_SECONDS: '0'}});
    const before = await simStats(sim);

    const caller = openPausedStream(service, `Leave ${nonce()} [[simulate:bulk:${BULK_BYTES}]]`);
    await caller.first;
    const running = await waitForSimStats(sim, (s) => s.active === 1, 10000);
    assert.equal(running.active, 1, JSON.stringify(running));
    // Long enough for every buffer between the simulator and the caller to fill.
    await sleep(PAUSE_MS / 2);
    const stuck = await simStats(sim);
    assert.equal(stuck.completed, before.completed, JSON.stringify(stuck));
    assert.equal(stuck.active, 1, JSON.stringify(stuck));

    caller.socket.destroy();
    // Well under the 30 s write timeout, so only noticing the departure can explain it.
    const after = await waitForSimStats(
        sim, (s) => s.cancelled_by_client === before.cancelled_by_client + 1 && s.active === 0,
        10000);
    assert.equal(after.cancelled_by_client, before.cancelled_by_client + 1, JSON.stringify(after));
    assert.equal(after.active, 0);
    assert.equal(after.completed, before.completed);
    const end = await service.proc.waitForEvent('stream_end', () => true, {timeoutMs: 10000});
    assert.equal(end.outcome, 'client_disconnected', JSON.stringify(end));
  });
});
