// Integration-test harness: drives the real `claude-microservice` binary over loopback.
//
// What it gives the tests:
//   - startSimulator() / startService(): spawn `simulate` / `serve` from a fresh temp dir with
//     a minimal environment (only what the test passes, plus PATH), wait for their startup log
//     line and return handles with the bound port.
//   - Proc: a spawned process; stdout is parsed one JSON object per line (unparseable lines
//     are kept and flagged), stderr is collected; waitFor()/waitForEvent() with timeouts.
//   - Every spawned process is registered and killed when the test file ends: stopAll() is
//     meant for after() hooks, and an 'exit' hook SIGKILLs whatever is still alive, so a
//     failing test never leaves an orphan behind.
//   - call(): fetch with the service key; readSse(): reads an SSE body incrementally and
//     records each event's arrival time; rawHttp(): a hand-written HTTP/1.1 exchange over
//     node:net for what fetch cannot send (declared lengths, chunked bodies, bad requests).
//
// Environment: CMS_BINARY must name the binary.
import {spawn} from 'node:child_process';
import {randomBytes, randomUUID} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';

export const BINARY = process.env.CMS_BINARY;
if (!BINARY) {
  throw new Error('CMS_BINARY must name the claude-microservice binary');
}

export const SERVICE_KEY = 'test-service-key';
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A short random tag: put it in message text so that tests never share cache entries.
export function nonce() {
  return randomBytes(6).toString('hex');
}

// ------------------------------------------------------------------------------------------
// Processes

const live = new Set();
const tempDirs = new Set();

function killAllNow() {
  for (const proc of live) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of tempDirs) {
    try {
      rmSync(dir, {recursive: true, force: true});
    } catch {
      // Best effort.
    }
  }
}
process.on('exit', killAllNow);
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(signal, () => {
    killAllNow();
    process.exit(128 + number);
  });
}

export function makeTempDir(prefix = 'cms-it-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export class Proc {
  constructor(name, args, {env, cwd}) {
    this.name = name;
    this.lines = [];  // { json (object|undefined), raw, at }
    this.stderr = '';
    this.stdoutRaw = '';
    this.listeners = new Set();
    this.exitInfo = null;
    this.child = spawn(BINARY, args, {env, cwd, stdio: ['ignore', 'pipe', 'pipe']});
    live.add(this);

    let pending = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text) => {
      this.stdoutRaw += text;
      pending += text;
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const raw = pending.slice(0, newline).replace(/\r$/, '');
        pending = pending.slice(newline + 1);
        if (raw.length > 0) this.addLine(raw);
      }
    });
    this.child.stdout.on('end', () => {
      if (pending.length > 0) this.addLine(pending);
      pending = '';
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = {code, signal};
        live.delete(this);
        resolve(this.exitInfo);
        for (const listener of [...this.listeners]) listener(null);
      });
    });
    this.child.on('error', (error) => {
      this.stderr += `\n[spawn error] ${error.message}`;
    });
  }

  addLine(raw) {
    let json;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const line = {json, raw, at: performance.now()};
    this.lines.push(line);
    for (const listener of [...this.listeners]) listener(line);
  }

  // The parsed log lines (objects), in order; unparseable lines are left out.
  get logs() {
    return this.lines.filter((line) => line.json !== undefined).map((line) => line.json);
  }

  events(name) {
    return this.logs.filter((entry) => entry.event === name);
  }

  // Resolves with the first parsed line satisfying `predicate` (looking at lines from index
  // `from` on, including those already received); rejects after `timeoutMs` or when the
  // process exits first.
  waitFor(predicate, {timeoutMs = 10000, from = 0, what = 'log line'} = {}) {
    for (const line of this.lines.slice(from)) {
      if (line.json !== undefined && predicate(line.json)) return Promise.resolve(line.json);
    }
    return new Promise((resolve, reject) => {
      const finish = (error, value) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (error)
          reject(error);
        else
          resolve(value);
      };
      const listener = (line) => {
        if (line === null) {
          finish(new Error(
              `${this.name} exited (${JSON.stringify(this.exitInfo)}) before ${what}` +
              `; stderr: ${this.stderr.slice(-2000)}`));
        } else if (line.json !== undefined && predicate(line.json)) {
          finish(null, line.json);
        }
      };
      const timer = setTimeout(
          () => finish(new Error(
              `timed out after ${timeoutMs} ms waiting for ${what} from ` +
              `${this.name}; stderr: ${this.stderr.slice(-2000)}`)),
          timeoutMs);
      this.listeners.add(listener);
      if (this.exitInfo) listener(null);
    });
  }

  waitForEvent(event, predicate = () => true, options = {}) {
    return this.waitFor(
        (entry) => entry.event === event && predicate(entry), {what: `event ${event}`, ...options});
  }

  // Resolves with { code, signal } or rejects after timeoutMs.
  async waitExit(timeoutMs = 10000) {
    if (this.exitInfo) return this.exitInfo;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
          () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  signal(name) {
    if (!this.exitInfo) this.child.kill(name);
  }

  // SIGTERM, then SIGKILL if it has not exited within graceMs.
  async stop(graceMs = 3000) {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGTERM');
    try {
      return await this.waitExit(graceMs);
    } catch {
      this.child.kill('SIGKILL');
      return this.exited;
    }
  }
}

// Stops every process this file started. Use in after() hooks.
export async function stopAll() {
  await Promise.all([...live].map((proc) => proc.stop()));
}

// The environment of a spawned process: PATH plus `vars`; a var set to undefined is omitted.
function buildEnv(vars) {
  const env = {PATH: process.env.PATH};
  for (const [name, value] of Object.entries(vars)) {
    if (value !== undefined && value !== null) env[name] = String(value);
  }
  return env;
}

// Spawns `claude-microservice <args>` without waiting for anything.
export function spawnBinary(name, args, {env = {}, cwd} = {}) {
  return new Proc(name, args, {env: buildEnv(env), cwd: cwd ?? makeTempDir()});
}

// ------------------------------------------------------------------------------------------
// Simulator

export async function startSimulator(
    {apiKey = `sim-key-${nonce()}`, firstByteDelayMs, chunkDelayMs} = {}) {
  const args = ['simulate', '--host', '127.0.0.1', '--port', '0', '--api-key', apiKey];
  if (firstByteDelayMs !== undefined) args.push('--first-byte-delay-ms', String(firstByteDelayMs));
  if (chunkDelayMs !== undefined) args.push('--chunk-delay-ms', String(chunkDelayMs));
  const proc = spawnBinary('simulator', args);
  const startup = await proc.waitForEvent('simulator_startup', () => true, {timeoutMs: 15000});
  const port = Number(startup.port);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`simulator_startup without a usable port: ${JSON.stringify(startup)}`);
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    proc,
    port,
    url,
    apiKey,
    async stats() {
      const response = await fetch(`${url}/_simulator/stats`);
      if (response.status !== 200) throw new Error(`simulator stats: HTTP ${response.status}`);
      return response.json();
    },
    async reset() {
      const response = await fetch(`${url}/_simulator/reset`, {method: 'POST'});
      await response.arrayBuffer();
      if (response.status >= 300) throw new Error(`simulator reset: HTTP ${response.status}`);
    },
  };
}

// Polls the simulator's stats until predicate(stats) holds; returns the last stats seen.
export async function waitForStats(sim, predicate, timeoutMs = 5000) {
  const deadline = performance.now() + timeoutMs;
  let stats = await sim.stats();
  while (!predicate(stats) && performance.now() < deadline) {
    await sleep(50);
    stats = await sim.stats();
  }
  return stats;
}

// ------------------------------------------------------------------------------------------
// Service

// Starts `serve` against `sim` (unless env overrides say otherwise) and waits for
// service_startup. `env` entries override the defaults; set one to undefined to drop it.
// With `poll: true` the service gets a known free port and readiness is a successful TCP
// connect instead (for configurations that may filter the startup line out).
export async function startService({sim, env = {}, cwd, dotenv, poll = false} = {}) {
  const dir = cwd ?? makeTempDir();
  if (dotenv !== undefined) writeFileSync(path.join(dir, '.env'), dotenv);
  const defaults = {
    HOST: '127.0.0.1',
    PORT: '0',
    ENVIRONMENT: 'development',
    WORKERS: '2',
    SHUTDOWN_GRACE_SECONDS: '5',
    SERVICE_API_KEY: SERVICE_KEY,
    ANTHROPIC_BASE_URL: sim?.url,
    ANTHROPIC_API_KEY: sim?.apiKey,
  };
  const key = Object.hasOwn(env, 'SERVICE_API_KEY') ? env.SERVICE_API_KEY : SERVICE_KEY;
  if (poll) {
    const port = await freePort();
    const proc = spawnBinary(
        'service', ['serve'], {env: {...defaults, ...env, PORT: String(port)}, cwd: dir});
    const deadline = performance.now() + 15000;
    while (await connectionRefused(port, 1000)) {
      if (proc.exitInfo || performance.now() > deadline) {
        throw new Error(`service did not listen on ${port}; stderr: ${proc.stderr.slice(-2000)}`);
      }
      await sleep(50);
    }
    return {proc, port, url: `http://127.0.0.1:${port}`, key, startup: null, cwd: dir};
  }
  const proc = spawnBinary('service', ['serve'], {env: {...defaults, ...env}, cwd: dir});
  const startup = await proc.waitForEvent('service_startup', () => true, {timeoutMs: 15000});
  const port = Number(startup.port);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`service_startup without a usable port: ${JSON.stringify(startup)}`);
  }
  return {proc, port, url: `http://127.0.0.1:${port}`, key, startup, cwd: dir};
}

// A simulator and a service in front of it, both on their defaults: the fixture of most
// suites. Both are stopped by stopAll(), like every process started here.
export async function startSimulatorAndService() {
  const sim = await startSimulator();
  return {sim, service: await startService({sim})};
}

// ------------------------------------------------------------------------------------------
// HTTP helpers

// A completion request body with one user message (unique unless `text` is given whole).
export function body(text, extra = {}) {
  return {messages: [{role: 'user', content: text}], ...extra};
}

// fetch against the service. `json` is serialized; `raw` is sent as is; `key` defaults to the
// service's key (null: no X-API-Key header at all).
export async function call(service, urlPath, {method, json, raw, key, headers = {}, signal} = {}) {
  const finalHeaders = {...headers};
  const sendKey = key === undefined ? service.key : key;
  if (sendKey !== null) finalHeaders['X-API-Key'] = sendKey;
  let requestBody;
  if (json !== undefined) {
    requestBody = JSON.stringify(json);
    finalHeaders['Content-Type'] ??= 'application/json';
  } else if (raw !== undefined) {
    requestBody = raw;
    finalHeaders['Content-Type'] ??= 'application/json';
  }
  return fetch(`${service.url}${urlPath}`, {
    method: method ?? (requestBody === undefined ? 'GET' : 'POST'),
    headers: finalHeaders,
    body: requestBody,
    signal,
  });
}

// Like call(), but reads the body: { status, headers, text, json (or undefined) }.
export async function callJson(service, urlPath, options = {}) {
  const response = await call(service, urlPath, options);
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return {status: response.status, headers: response.headers, text, json: parsed};
}

export const complete = (service, payload, options = {}) =>
    callJson(service, '/v1/completions', {json: payload, ...options});

// ------------------------------------------------------------------------------------------
// Server-Sent Events

// Reads an SSE response body incrementally. Returns
//   { items: [{ kind: 'event', event, data, at } | { kind: 'comment', text, at }],
//     raw, ended, error }
// where `at` is performance.now() when the item's terminating blank line arrived, `event` is
// the event field ('message' when absent) and `data` the joined data lines. Stops early (and
// cancels the body) when stopWhen(item, items) returns true, or after timeoutMs. onItem(item)
// is called as each item arrives.
export async function readSse(response, {stopWhen, onItem, timeoutMs = 30000} = {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const items = [];
  let raw = '';
  let buffer = '';
  let ended = false;
  let stopped = false;
  let error = null;
  const timer = setTimeout(() => {
    error = new Error(`SSE read timed out after ${timeoutMs} ms`);
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    while (!stopped) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (readError) {
        error ??= readError;
        break;
      }
      if (chunk.done) {
        ended = error === null;
        break;
      }
      const text = decoder.decode(chunk.value, {stream: true});
      raw += text;
      buffer += text.replace(/\r\n/g, '\n');
      let boundary;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const at = performance.now();
        for (const item of parseSseBlock(block, at)) {
          items.push(item);
          if (onItem) onItem(item);
          if (stopWhen && stopWhen(item, items)) stopped = true;
        }
        if (stopped) break;
      }
    }
  } finally {
    clearTimeout(timer);
    if (!ended) await reader.cancel().catch(() => {});
  }
  return {items, raw, ended, error, rest: buffer};
}

function parseSseBlock(block, at) {
  const items = [];
  let event = null;
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      items.push({kind: 'comment', text: line.slice(1).trim(), at});
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event')
      event = value;
    else if (field === 'data')
      data.push(value);
  }
  if (event !== null || data.length > 0) {
    items.push({kind: 'event', event: event ?? 'message', data: data.join('\n'), at});
  }
  return items;
}

// The data events of an SSE read, split into text chunks, [DONE] and errors.
export function summarizeSse(result) {
  const events = result.items.filter((item) => item.kind === 'event');
  const textEvents = events.filter((item) => item.event === 'message' && item.data !== '[DONE]');
  const texts = textEvents.map((item) => JSON.parse(item.data).text);
  return {
    events,
    textEvents,
    texts,
    text: texts.join(''),
    done: events.some((item) => item.event === 'message' && item.data === '[DONE]'),
    doneIsLast: events.length > 0 && events.at(-1).data === '[DONE]',
    errors: events.filter((item) => item.event === 'error'),
    comments: result.items.filter((item) => item.kind === 'comment'),
  };
}

export const stream = (service, payload, options = {}) =>
    call(service, '/v1/completions/stream', {json: payload, ...options});

// ------------------------------------------------------------------------------------------
// Raw HTTP over node:net

// Sends `parts` (strings/Buffers written in order; a number is a pause in ms) to port and
// collects everything the server sends until it closes, `idleMs` of silence after a complete
// response, or `timeoutMs`. Returns { raw (Buffer), response (parsed or null), closed,
// error (code or null), writeError }.
export function rawHttp(port, parts, {timeoutMs = 5000, idleMs = 300, keepWriting} = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port});
    const received = [];
    let closed = false;
    let error = null;
    let writeError = null;
    let settled = false;
    let idleTimer = null;

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(idleTimer);
      socket.destroy();
      const raw = Buffer.concat(received);
      resolve({raw, response: parseHttpResponse(raw), closed, error, writeError});
    };
    const overall = setTimeout(finish, timeoutMs);

    socket.on('data', (data) => {
      received.push(data);
      clearTimeout(idleTimer);
      const parsed = parseHttpResponse(Buffer.concat(received));
      if (parsed && parsed.complete) idleTimer = setTimeout(finish, idleMs);
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', (socketError) => {
      error = socketError.code ?? String(socketError);
      finish();
    });
    socket.on('connect', async () => {
      try {
        for (const part of parts) {
          if (settled) return;
          if (typeof part === 'number')
            await sleep(part);
          else
            await writeAsync(socket, part);
        }
        if (keepWriting) {
          // Keep sending body bytes until the server closes or the test times out.
          while (!settled && !socket.destroyed) await writeAsync(socket, keepWriting);
        }
      } catch (socketError) {
        writeError = socketError.code ?? String(socketError);
      }
    });
  });
}

function writeAsync(socket, data) {
  return new Promise((resolve, reject) => {
    socket.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

// Parses one HTTP/1.1 response from `raw` (a Buffer). Returns null when the head is not
// complete yet; else { status, reason, headers (lower-case names → value, repeated joined
// with ", "), body (string), complete }.
export function parseHttpResponse(raw) {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = raw.subarray(0, headEnd).toString('latin1');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) return null;
  const headers = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const rest = raw.subarray(headEnd + 4);
  let bodyBuffer = rest;
  let complete = false;
  if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    const decoded = decodeChunked(rest);
    bodyBuffer = decoded.body;
    complete = decoded.complete;
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    bodyBuffer = rest.subarray(0, length);
    complete = rest.length >= length;
  } else {
    complete = Number(match[1]) === 204 || Number(match[1]) === 304;
  }
  return {
    status: Number(match[1]),
    reason: match[2],
    headers,
    body: bodyBuffer.toString('utf8'),
    complete,
  };
}

function decodeChunked(buffer) {
  const parts = [];
  let offset = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd < 0) return {body: Buffer.concat(parts), complete: false};
    const size = parseInt(buffer.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return {body: Buffer.concat(parts), complete: false};
    if (size === 0) return {body: Buffer.concat(parts), complete: true};
    const start = lineEnd + 2;
    if (buffer.length < start + size) {
      parts.push(buffer.subarray(start));
      return {body: Buffer.concat(parts), complete: false};
    }
    parts.push(buffer.subarray(start, start + size));
    offset = start + size + 2;
  }
}

// A complete HTTP/1.1 request as a string (or Buffer when body is a Buffer).
export function rawRequest(method, target, {headers = [], body: requestBody} = {}) {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (requestBody !== undefined &&
      !headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name))) {
    lines.push(`Content-Length: ${Buffer.byteLength(requestBody)}`);
  }
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  if (requestBody === undefined) return head;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(requestBody)]);
}

// True when nothing accepts connections on port (ECONNREFUSED).
export function connectionRefused(port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED');
    });
  });
}

// A port that was free a moment ago (for tests that must know the port before a start).
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Checks a JSON error body: exactly { detail } plus, optionally, request_id equal to the
// response's X-Request-Id. Returns a string describing the problem, or null.
export function errorBodyProblem(result, detail) {
  if (!result.json || typeof result.json !== 'object') return `body is not JSON: ${result.text}`;
  const keys = Object.keys(result.json).sort();
  const allowed = keys.every((key) => key === 'detail' || key === 'request_id');
  if (!allowed) return `unexpected fields in ${result.text}`;
  if (result.json.detail !== detail)
    return `detail ${JSON.stringify(result.json.detail)} != ${detail}`;
  if ('request_id' in result.json &&
      result.json.request_id !== result.headers.get('x-request-id')) {
    return `request_id ${result.json.request_id} != header ${result.headers.get('x-request-id')}`;
  }
  return null;
}

export {randomUUID};
