// Retries of upstream calls (upstream/retrying_provider.hpp), driven by the simulator's
// `[[simulate:fail-times:<n>:<failure>]]` directive: the first n identical requests fail,
// later ones are answered. The simulator's `messages_requests` counter says how many
// attempts the service made. Each test resets the simulator first and runs alone, so the
// counter belongs to it; message texts carry a nonce so the response cache never answers.
import assert from 'node:assert/strict';
import {after, before, beforeEach, describe, test} from 'node:test';

import {body, complete, errorBodyProblem, nonce, readSse, startService, startSimulator, stopAll, stream, summarizeSse} from './harness.mjs';

const UPSTREAM_ERROR = 'Upstream AI error.';
const RATE_LIMIT = 'Anthropic rate limit reached. Retry after a moment.';
const rejected = (type) => `Upstream rejected the request (${type}).`;

const RETRY_ENV = {UPSTREAM_MAX_RETRIES: '2', UPSTREAM_RETRY_BASE_DELAY_MS: '10'};

const prompt = (directive) => body(`Hello ${directive} ${nonce()}`, {max_tokens: 32});

// The upstream_retry lines the service logged for one request id (they may trail the
// response by a moment: the logger writes from a background thread).
async function retryLines(service, requestId, expected) {
  if (expected > 0) {
    await service.proc.waitForEvent(
        'upstream_retry',
        (entry) => entry.request_id === requestId && entry.attempt === expected,
        {timeoutMs: 5000});
  }
  return service.proc.events('upstream_retry').filter((entry) => entry.request_id === requestId);
}

describe('upstream retries', () => {
  let sim;
  let service;
  before(async () => {
    sim = await startSimulator();
    service = await startService({sim, env: RETRY_ENV});
  });
  after(stopAll);
  beforeEach(async () => {
    await sim.reset();
  });

  describe('POST /v1/completions', () => {
    test('fail-times:2:529 → 200 after two retries', async () => {
      const result = await complete(service, prompt('[[simulate:fail-times:2:529]]'));
      assert.equal(result.status, 200, result.text);
      assert.equal(typeof result.json.content, 'string');
      assert.ok(result.json.content.length > 0);
      assert.equal((await sim.stats()).messages_requests, 3);

      const lines = await retryLines(service, result.headers.get('x-request-id'), 2);
      assert.equal(lines.length, 2);
      lines.forEach((line, index) => {
        assert.equal(line.level, 'WARNING');
        assert.equal(line.attempt, index + 1);
        assert.equal(line.cause, 'unavailable');
        assert.equal(line.status, 529);
        assert.equal(line.error_type, 'overloaded_error');
        assert.ok(Number.isInteger(line.delay_ms), JSON.stringify(line));
        // Full jitter below min(8000, 10 * 2^n) ms.
        assert.ok(line.delay_ms >= 0 && line.delay_ms <= 10 * 2 ** index, JSON.stringify(line));
        assert.ok(!JSON.stringify(line).includes('Hello'), 'request text in a log line');
      });
    });

    test('fail-times:3:529 → 502 after three attempts', async () => {
      const result = await complete(service, prompt('[[simulate:fail-times:3:529]]'));
      assert.equal(result.status, 502, result.text);
      assert.equal(errorBodyProblem(result, UPSTREAM_ERROR), null, result.text);
      assert.equal((await sim.stats()).messages_requests, 3);
      assert.equal((await retryLines(service, result.headers.get('x-request-id'), 2)).length, 2);
    });

    for (const status of [500, 502, 503, 504]) {
      test(`fail-times:1:${status} → 200 after one retry`, async () => {
        const result = await complete(service, prompt(`[[simulate:fail-times:1:${status}]]`));
        assert.equal(result.status, 200, result.text);
        assert.equal((await sim.stats()).messages_requests, 2);
        const [line] = await retryLines(service, result.headers.get('x-request-id'), 1);
        assert.equal(line.status, status);
      });
    }

    test('fail-times:1:429 → 200, waiting the Retry-After of 0', async () => {
      const result = await complete(service, prompt('[[simulate:fail-times:1:429]]'));
      assert.equal(result.status, 200, result.text);
      assert.equal((await sim.stats()).messages_requests, 2);
      const lines = await retryLines(service, result.headers.get('x-request-id'), 1);
      assert.equal(lines.length, 1);
      assert.equal(lines[0].cause, 'rate_limited');
      assert.equal(lines[0].status, 429);
      assert.equal(lines[0].error_type, 'rate_limit_error');
      assert.equal(lines[0].delay_ms, 0);
    });

    test('fail-times:3:429 → 429 with the upstream Retry-After passed on', async () => {
      const result = await complete(service, prompt('[[simulate:fail-times:3:429]]'));
      assert.equal(result.status, 429, result.text);
      assert.equal(errorBodyProblem(result, RATE_LIMIT), null, result.text);
      assert.equal(result.headers.get('retry-after'), '0');
      assert.equal((await sim.stats()).messages_requests, 3);
    });

    test('fail-times:1:reset (connection closed without an answer) → 200', async () => {
      // Whether the client's own stale-connection retry or the retry policy makes the second
      // attempt, the closed connection costs exactly one more request.
      const result = await complete(service, prompt('[[simulate:fail-times:1:reset]]'));
      assert.equal(result.status, 200, result.text);
      assert.equal((await sim.stats()).messages_requests, 2);
    });

    test('[[simulate:400]] → 400 at once, never retried', async () => {
      const result = await complete(service, prompt('[[simulate:400]]'));
      assert.equal(result.status, 400, result.text);
      assert.equal(errorBodyProblem(result, rejected('invalid_request_error')), null, result.text);
      assert.equal((await sim.stats()).messages_requests, 1);
      assert.equal((await retryLines(service, result.headers.get('x-request-id'), 0)).length, 0);
    });

    test('[[simulate:malformed]] → 502 at once: a bad answer is not bought twice', async () => {
      const result = await complete(service, prompt('[[simulate:malformed]]'));
      assert.equal(result.status, 502, result.text);
      assert.equal(errorBodyProblem(result, UPSTREAM_ERROR), null, result.text);
      assert.equal((await sim.stats()).messages_requests, 1);
      assert.equal((await retryLines(service, result.headers.get('x-request-id'), 0)).length, 0);
    });

    test('[[simulate:401]] → 500 at once, never retried', async () => {
      const result = await complete(service, prompt('[[simulate:401]]'));
      assert.equal(result.status, 500, result.text);
      assert.equal((await sim.stats()).messages_requests, 1);
    });
  });

  describe('POST /v1/completions/stream', () => {
    test('fail-times:2:503 → a complete 200 stream after two retries', async () => {
      const response = await stream(service, prompt('[[simulate:fail-times:2:503]]'));
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const sse = summarizeSse(await readSse(response, {timeoutMs: 15000}));
      assert.ok(sse.done, 'no [DONE]');
      assert.ok(sse.doneIsLast, '[DONE] is not last');
      assert.equal(sse.errors.length, 0, JSON.stringify(sse.errors));
      assert.ok(sse.text.length > 0);
      const stats = await sim.stats();
      assert.equal(stats.messages_requests, 3);
      assert.equal(stats.stream_requests, 3);
      const lines = await retryLines(service, response.headers.get('x-request-id'), 2);
      assert.deepEqual(lines.map((line) => line.status), [503, 503]);
    });

    test('fail-times:3:503 → 502 before any byte of a stream', async () => {
      const response = await stream(service, prompt('[[simulate:fail-times:3:503]]'));
      assert.equal(response.status, 502);
      assert.notEqual(response.headers.get('content-type'), 'text/event-stream');
      await response.arrayBuffer();
      assert.equal((await sim.stats()).messages_requests, 3);
    });
  });
});

describe('UPSTREAM_MAX_RETRIES=0', () => {
  let sim;
  let service;
  before(async () => {
    sim = await startSimulator();
    service = await startService(
        {sim, env: {UPSTREAM_MAX_RETRIES: '0', UPSTREAM_RETRY_BASE_DELAY_MS: '10'}});
  });
  after(stopAll);

  test('disables retries: fail-times:1:529 → 502 after one attempt', async () => {
    const result = await complete(service, prompt('[[simulate:fail-times:1:529]]'));
    assert.equal(result.status, 502, result.text);
    assert.equal((await sim.stats()).messages_requests, 1);
    assert.equal(service.proc.events('upstream_retry').length, 0);
  });
});
