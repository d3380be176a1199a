// Logs (CONTRACT.md section 8): one JSON object per line with timestamp, level, event and
// request_id; the events and their fields; never a key or message text.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, callJson, complete, ISO_UTC_MS, nonce, readSse, sleep, startService, startSimulator, stopAll, stream} from './harness.mjs';

const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'];
const REQUEST_EVENTS = [
  'http_request', 'cache_hit', 'cache_miss', 'anthropic_request', 'anthropic_response',
  'anthropic_error', 'stream_end'
];

describe('logs', () => {
  const secretText = `zebra-velvet-${nonce()}`;
  const secretSystem = `lantern-orchid-${nonce()}`;
  const callerKey = `caller-secret-${nonce()}`;
  const wrongKey = `wrong-secret-${nonce()}`;
  let sim;
  let service;
  before(async () => {
    sim = await startSimulator({apiKey: `sim-secret-${nonce()}`});
    service = await startService({sim, env: {SERVICE_API_KEY: callerKey, LOG_LEVEL: 'DEBUG'}});

    // A bit of everything, each request carrying the secrets.
    const payload = {
      ...body(`Please answer ${secretText}`, {max_tokens: 16}),
      system: `System: ${secretSystem}`,
      cache_system: true
    };
    assert.equal((await complete(service, payload)).status, 200);
    assert.equal((await complete(service, payload)).json.cached, true);
    const streamed = await stream(service, body(`Stream ${secretText}`, {max_tokens: 16}));
    await readSse(streamed);
    assert.equal((await complete(service, body(`${secretText}`), {key: wrongKey})).status, 403);
    assert.equal((await complete(service, body(secretText), {key: null})).status, 401);
    assert.equal(
        (await complete(service, {
          messages: [{role: 'user', content: secretText}, {role: 'assistant', content: secretText}],
        })).status,
        422);
    assert.equal(
        (await callJson(service, '/v1/completions', {raw: `{"x": "${secretText}`})).status, 422);
    assert.equal((await complete(service, body(`[[simulate:429]] ${secretText}`))).status, 429);
    const cut = await stream(service, body(`[[simulate:error-mid-stream]] ${secretText}`));
    await readSse(cut);
    assert.equal((await callJson(service, '/nope', {key: null})).status, 404);
    await service.proc.waitForEvent('stream_end', (e) => e.outcome === 'upstream_error');
    await service.proc.stop(10000);
  });
  after(stopAll);

  test('the service exited cleanly and said so', () => {
    assert.deepEqual(service.proc.exitInfo, {code: 0, signal: null});
    assert.equal(service.proc.events('service_shutdown').length, 1);
  });

  test('every stdout line is a JSON object with timestamp, level, event', () => {
    assert.ok(service.proc.lines.length > 10);
    for (const line of [...service.proc.lines, ...sim.proc.lines]) {
      assert.ok(
          line.json !== undefined && typeof line.json === 'object' && !Array.isArray(line.json),
          `not a JSON object: ${line.raw}`);
      const entry = line.json;
      assert.match(String(entry.timestamp), ISO_UTC_MS, line.raw);
      assert.ok(LEVELS.includes(entry.level), line.raw);
      assert.equal(typeof entry.event, 'string', line.raw);
    }
  });

  test('every event a request causes has its request_id', () => {
    for (const entry of service.proc.logs.filter((e) => REQUEST_EVENTS.includes(e.event))) {
      assert.equal(typeof entry.request_id, 'string', JSON.stringify(entry));
      assert.ok(entry.request_id.length > 0, JSON.stringify(entry));
    }
  });

  test('no key and no message or system text in stdout or stderr', () => {
    const secrets = {callerKey, wrongKey, simKey: sim.apiKey, secretText, secretSystem};
    for (const proc of [service.proc, sim.proc]) {
      for (const [name, secret] of Object.entries(secrets)) {
        assert.ok(!proc.stdoutRaw.includes(secret), `${name} in ${proc.name} stdout`);
        assert.ok(!proc.stderr.includes(secret), `${name} in ${proc.name} stderr`);
      }
    }
  });

  test('the contract events are logged with their fields', () => {
    const one = (event) => {
      const found = service.proc.events(event);
      assert.ok(found.length > 0, `no ${event} line`);
      return found;
    };
    const [startup] = one('service_startup');
    for (const field of ['environment', 'default_model', 'cache_ttl_seconds', 'upstream']) {
      assert.ok(field in startup, `service_startup lacks ${field}`);
    }
    for (const entry of one('http_request')) {
      assert.equal(typeof entry.method, 'string');
      assert.equal(typeof entry.path, 'string');
      assert.ok(Number.isInteger(entry.status), JSON.stringify(entry));
      assert.equal(typeof entry.latency_ms, 'number');
    }
    const statuses = service.proc.events('http_request').map((e) => e.status);
    for (const status of [200, 401, 403, 404, 422, 429]) {
      assert.ok(statuses.includes(status), `no http_request with status ${status}`);
    }
    one('cache_miss');
    one('cache_hit');
    const requests = one('anthropic_request');
    for (const entry of requests) {
      for (const field of ['model', 'message_count', 'cache_system', 'stream']) {
        assert.ok(field in entry, `anthropic_request lacks ${field}: ${JSON.stringify(entry)}`);
      }
    }
    assert.ok(requests.some((e) => e.cache_system === true && e.stream === false));
    assert.ok(requests.some((e) => e.stream === true));
    for (const entry of one('anthropic_response')) {
      const keys = Object.keys(entry);
      for (const field of ['model', 'input_tokens', 'output_tokens', 'stop_reason', 'latency_ms']) {
        assert.ok(field in entry, `anthropic_response lacks ${field}: ${JSON.stringify(entry)}`);
      }
      assert.ok(
          keys.some((k) => /cache_read/.test(k)), `no cache read tokens: ${JSON.stringify(entry)}`);
      assert.ok(
          keys.some((k) => /cache_(creation|write)/.test(k)),
          `no cache write tokens: ${JSON.stringify(entry)}`);
    }
    const errors = one('anthropic_error');
    assert.ok(errors.some((e) => Number(e.status) === 429), JSON.stringify(errors));
    for (const entry of errors) {
      assert.ok('error_type' in entry || 'type' in entry, JSON.stringify(entry));
    }
    const ends = one('stream_end');
    for (const entry of ends) {
      assert.ok(Number.isInteger(entry.chunks), JSON.stringify(entry));
      assert.ok(Number.isInteger(entry.output_tokens), JSON.stringify(entry));
      assert.ok(['completed', 'client_disconnected', 'upstream_error'].includes(entry.outcome));
    }
    assert.ok(ends.some((e) => e.outcome === 'completed'));
    assert.ok(ends.some((e) => e.outcome === 'upstream_error'));
  });

  test('LOG_LEVEL=WARNING leaves out INFO lines', async () => {
    // The startup line is INFO and may be filtered out: wait for the port instead.
    const quiet = await startService({sim, env: {LOG_LEVEL: 'WARNING'}, poll: true});
    const result = await complete(quiet, body(`quiet ${nonce()}`, {max_tokens: 8}));
    assert.equal(result.status, 200, result.text);
    const rejected = await complete(quiet, body('x'), {key: 'nope'});
    assert.equal(rejected.status, 403);
    await sleep(300);
    const lines = quiet.proc.logs.filter((e) => !/^(service|simulator)_/.test(e.event));
    assert.ok(
        lines.every((e) => e.level === 'WARNING' || e.level === 'ERROR'), JSON.stringify(lines));
    await quiet.proc.stop();
  });
});
