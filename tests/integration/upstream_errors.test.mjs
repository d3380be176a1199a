// Upstream errors as the caller sees them (CONTRACT.md section 7), driven by the simulator's
// fault directives, on both endpoints.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, callJson, complete, errorBodyProblem, freePort, nonce, startService, startSimulator, stopAll} from './harness.mjs';

const RATE_LIMIT = 'Anthropic rate limit reached. Retry after a moment.';
const MISCONFIGURED = 'Service misconfiguration: invalid Anthropic credentials.';
const UPSTREAM_ERROR = 'Upstream AI error.';
const TIMEOUT = 'Upstream AI timeout.';
const rejected = (type) => `Upstream rejected the request (${type}).`;

// directive → what the caller gets. `stream: false` rows are checked on /v1/completions only
// (their fault happens after the upstream's 200, which a stream relays as an error event).
const ROWS = [
  {directive: '429', status: 429, detail: RATE_LIMIT, retryAfter: '1'},
  {directive: '401', status: 500, detail: MISCONFIGURED},
  {directive: '403', status: 500, detail: MISCONFIGURED},
  {directive: '400', status: 400, detail: rejected('invalid_request_error')},
  {directive: '404', status: 400, detail: rejected('not_found_error')},
  {directive: '413', status: 400, detail: rejected('request_too_large')},
  {directive: '529', status: 502, detail: UPSTREAM_ERROR},
  {directive: '500', status: 502, detail: UPSTREAM_ERROR},
  {directive: '503', status: 502, detail: UPSTREAM_ERROR},
  {directive: 'malformed', status: 502, detail: UPSTREAM_ERROR, stream: false},
  {directive: 'disconnect', status: 502, detail: UPSTREAM_ERROR},
  {directive: 'slow:8000', status: 504, detail: TIMEOUT},
  {directive: 'hang', status: 504, detail: TIMEOUT, stream: false},
];

describe('upstream errors', () => {
  let sim;
  let service;
  before(async () => {
    sim = await startSimulator();
    service = await startService({sim, env: {UPSTREAM_TIMEOUT_SECONDS: '1'}});
  });
  after(stopAll);

  function checkError(result, row, where) {
    assert.equal(result.status, row.status, `${where}: ${result.text}`);
    assert.match(result.headers.get('content-type') ?? '', /^application\/json/, where);
    assert.equal(errorBodyProblem(result, row.detail), null, `${where}: ${result.text}`);
    assert.ok(result.headers.get('x-request-id'), where);
    assert.ok(!result.text.includes(sim.apiKey), `${where}: our credential leaked`);
    if (row.retryAfter !== undefined) {
      assert.equal(result.headers.get('retry-after'), row.retryAfter, where);
    }
  }

  describe('POST /v1/completions', {concurrency: true}, () => {
    for (const row of ROWS) {
      test(`[[simulate:${row.directive}]] → ${row.status}`, async () => {
        const started = performance.now();
        const result = await complete(
            service, body(`Hello [[simulate:${row.directive}]] ${nonce()}`, {max_tokens: 32}));
        checkError(result, row, row.directive);
        if (row.status === 504) {
          // The simulator would answer after 8 s (or never): the timeout fired well before.
          assert.ok(performance.now() - started < 6000, 'the 504 came no sooner than the answer');
        }
      });
    }
  });

  describe(
      'POST /v1/completions/stream: a refusal before the first byte is an HTTP error',
      {concurrency: true}, () => {
        for (const row of ROWS.filter((r) => r.stream !== false)) {
          test(`[[simulate:${row.directive}]] → ${row.status}, not a 200 stream`, async () => {
            const result = await callJson(service, '/v1/completions/stream', {
              json: body(`Hello [[simulate:${row.directive}]] ${nonce()}`, {max_tokens: 32}),
            });
            assert.notEqual(result.headers.get('content-type'), 'text/event-stream');
            checkError(result, row, `stream ${row.directive}`);
          });
        }
      });

  test('each mapping logs anthropic_error with the upstream status and type', async () => {
    const result = await complete(service, body(`[[simulate:429]] ${nonce()}`, {max_tokens: 8}));
    assert.equal(result.status, 429);
    const id = result.headers.get('x-request-id');
    const logged = await service.proc.waitForEvent('anthropic_error', (e) => e.request_id === id);
    assert.equal(Number(logged.status), 429);
    const type = logged.error_type ?? logged.type;
    assert.equal(type, 'rate_limit_error', JSON.stringify(logged));
    const access = await service.proc.waitForEvent('http_request', (e) => e.request_id === id);
    assert.equal(access.status, 429);
  });

  test('an upstream that refuses connections is a 502', async () => {
    const port = await freePort();
    const unreachable = await startService({
      env: {
        ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
        ANTHROPIC_API_KEY: 'sk-nothing-there',
        UPSTREAM_TIMEOUT_SECONDS: '2'
      },
    });
    const result = await complete(unreachable, body(`anyone? ${nonce()}`, {max_tokens: 8}));
    checkError(result, {status: 502, detail: UPSTREAM_ERROR}, 'connection refused');
    await unreachable.proc.stop();
  });

  test('the service keeps serving after every kind of failure', async () => {
    const result = await complete(service, body(`still alive ${nonce()}`, {max_tokens: 16}));
    assert.equal(result.status, 200, result.text);
  });
});
