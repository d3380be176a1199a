// The completion response (CONTRACT.md section 4).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, complete, nonce, startService, startSimulator, stopAll, UUID_V4} from './harness.mjs';

const USAGE_FIELDS =
    ['cache_creation_input_tokens', 'cache_read_input_tokens', 'input_tokens', 'output_tokens'];

describe('completions', () => {
  let sim;
  let service;
  let uncached;  // The same simulator behind a service without a response cache.
  before(async () => {
    sim = await startSimulator();
    service = await startService({sim});
    uncached = await startService({sim, env: {CACHE_TTL_SECONDS: '0'}});
  });
  after(stopAll);

  test('a completion has the shape of section 4', async () => {
    const result = await complete(service, body(`Tell me about otters ${nonce()}`));
    assert.equal(result.status, 200, result.text);
    assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
    const answer = result.json;
    assert.deepEqual(
        Object.keys(answer).sort(),
        ['cached', 'content', 'latency_ms', 'model', 'request_id', 'stop_reason', 'usage']);
    assert.equal(answer.request_id, result.headers.get('x-request-id'));
    assert.match(answer.request_id, UUID_V4);
    assert.equal(answer.model, service.startup.default_model);
    assert.equal(typeof answer.content, 'string');
    const words = answer.content.trim().split(/\s+/).length;
    assert.ok(words >= 20, `a short answer: ${answer.content}`);
    assert.deepEqual(Object.keys(answer.usage).sort(), USAGE_FIELDS);
    for (const field of USAGE_FIELDS) {
      assert.ok(
          Number.isInteger(answer.usage[field]) && answer.usage[field] >= 0,
          `usage.${field} = ${answer.usage[field]}`);
    }
    assert.ok(answer.usage.input_tokens > 0);
    assert.ok(answer.usage.output_tokens > 0);
    assert.equal(answer.cached, false);
    assert.equal(typeof answer.latency_ms, 'number');
    assert.ok(answer.latency_ms >= 0);
    // One decimal at most, as written on the wire.
    assert.match(result.text, /"latency_ms":\s*\d+(?:\.\d)?\s*[,}]/, result.text);
    assert.equal(answer.stop_reason, 'end_turn');
  });

  test('the request id given by the caller is the body request_id', async () => {
    const id = `caller-${nonce()}`;
    const result = await complete(
        service, body(`id ${nonce()}`, {max_tokens: 16}), {headers: {'X-Request-Id': id}});
    assert.equal(result.status, 200, result.text);
    assert.equal(result.headers.get('x-request-id'), id);
    assert.equal(result.json.request_id, id);
  });

  test('an explicit model is passed upstream and reported back', async () => {
    const result = await complete(
        service, body(`model ${nonce()}`, {model: 'claude-haiku-4-5', max_tokens: 16}));
    assert.equal(result.status, 200, result.text);
    assert.equal(result.json.model, 'claude-haiku-4-5');
  });

  test('max_tokens is honoured: a tiny budget stops with stop_reason max_tokens', async () => {
    const result = await complete(service, body(`short ${nonce()}`, {max_tokens: 3}));
    assert.equal(result.status, 200, result.text);
    assert.equal(result.json.stop_reason, 'max_tokens');
    assert.ok(result.json.usage.output_tokens <= 3, JSON.stringify(result.json.usage));
  });

  test('a conversation of several turns with a system prompt is answered', async () => {
    const result = await complete(service, {
      system: `You are terse. ${nonce()}`,
      messages: [
        {role: 'user', content: 'Hello'},
        {role: 'assistant', content: 'Hi. What do you need?'},
        {role: 'user', content: `A haiku about rivers ${nonce()}`},
      ],
      temperature: 0.2,
      max_tokens: 64,
    });
    assert.equal(result.status, 200, result.text);
    assert.ok(result.json.content.length > 0);
  });

  test(
      'answers are deterministic: the same request twice upstream gives the same text',
      async () => {
        const payload = body(`determinism ${nonce()}`, {max_tokens: 64});
        const first = await complete(uncached, payload);
        const second = await complete(uncached, payload);
        assert.equal(first.status, 200, first.text);
        assert.equal(second.status, 200, second.text);
        assert.equal(second.json.cached, false);
        assert.notEqual(first.json.request_id, second.json.request_id);
        assert.equal(second.json.content, first.json.content);
      });

  test(
      'temperature and system are forwarded when given, and no temperature is invented',
      async () => {
        // The simulator's answer depends on temperature and system, so the texts tell
        // what reached it.
        const text = `forwarding ${nonce()}`;
        const variants = [
          body(text, {max_tokens: 40}),
          body(text, {max_tokens: 40, temperature: 0.7}),
          body(text, {max_tokens: 40, temperature: 1}),
          body(text, {max_tokens: 40, temperature: 0.2}),
          body(text, {max_tokens: 40, system: 'Be brief.'}),
        ];
        const contents = [];
        for (const payload of variants) {
          const result = await complete(uncached, payload);
          assert.equal(result.status, 200, result.text);
          contents.push(result.json.content);
        }
        assert.equal(
            new Set(contents).size, variants.length,
            `some variants got the same answer: ${JSON.stringify(contents)}`);
      });

  test('cache_system asks the upstream to cache the system prompt', async () => {
    const system = `A long and stable system prompt. ${nonce()} `.repeat(200);
    const payload = {
      ...body(`cache system ${nonce()}`, {max_tokens: 16}),
      system,
      cache_system: true
    };
    const first = await complete(uncached, payload);
    assert.equal(first.status, 200, first.text);
    const second = await complete(uncached, payload);
    assert.equal(second.status, 200, second.text);
    const usage = [first.json.usage, second.json.usage];
    assert.ok(
        usage[0].cache_creation_input_tokens > 0 || usage[1].cache_read_input_tokens > 0,
        `no prompt-cache activity with cache_system: ${JSON.stringify(usage)}`);
  });

  test('the request is logged: anthropic_request and anthropic_response with its id', async () => {
    const result = await complete(service, body(`logged ${nonce()}`, {max_tokens: 16}));
    assert.equal(result.status, 200, result.text);
    const id = result.json.request_id;
    const request =
        await service.proc.waitForEvent('anthropic_request', (e) => e.request_id === id);
    assert.equal(request.stream, false);
    assert.equal(request.message_count, 1);
    assert.equal(request.model, service.startup.default_model);
    assert.equal(request.cache_system, false);
    const response =
        await service.proc.waitForEvent('anthropic_response', (e) => e.request_id === id);
    assert.equal(response.model, service.startup.default_model);
    assert.equal(response.stop_reason, result.json.stop_reason);
    const access = await service.proc.waitForEvent('http_request', (e) => e.request_id === id);
    assert.equal(access.status, 200);
    assert.equal(access.method, 'POST');
    assert.equal(access.path, '/v1/completions');
    assert.equal(typeof access.latency_ms, 'number');
  });
});
