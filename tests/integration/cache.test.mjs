// The response cache (CONTRACT.md section 5).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, complete, nonce, sleep, startService, startSimulatorAndService, stopAll} from './harness.mjs';

describe('response cache', () => {
  let sim;
  let service;
  before(async () => ({sim, service} = await startSimulatorAndService()));
  after(stopAll);

  // Runs `action` and returns how many Messages requests reached the simulator meanwhile.
  async function upstreamCalls(action) {
    const before = (await sim.stats()).messages_requests;
    await action();
    return (await sim.stats()).messages_requests - before;
  }

  test(
      'a second identical request is a hit: cached, fresh request_id, no upstream call',
      async () => {
        await sim.reset();
        const payload = body(`cache me ${nonce()}`, {max_tokens: 32});
        const first = await complete(service, payload);
        assert.equal(first.status, 200, first.text);
        assert.equal(first.json.cached, false);
        const second = await complete(service, payload);
        assert.equal(second.status, 200, second.text);
        assert.equal(second.json.cached, true);
        assert.notEqual(second.json.request_id, first.json.request_id);
        assert.equal(second.json.request_id, second.headers.get('x-request-id'));
        assert.equal(second.json.content, first.json.content);
        assert.equal(second.json.model, first.json.model);
        assert.deepEqual(second.json.usage, first.json.usage);
        assert.equal(second.json.stop_reason, first.json.stop_reason);
        assert.equal(typeof second.json.latency_ms, 'number');
        assert.match(second.text, /"latency_ms":\s*\d+(?:\.\d)?\s*[,}]/);
        const stats = await sim.stats();
        assert.equal(stats.messages_requests, 1, JSON.stringify(stats));

        await service.proc.waitForEvent(
            'cache_miss', (e) => e.request_id === first.json.request_id);
        await service.proc.waitForEvent(
            'cache_hit', (e) => e.request_id === second.json.request_id);
        assert.equal(
            service.proc.events('anthropic_request')
                .filter((e) => e.request_id === second.json.request_id)
                .length,
            0);
      });

  test(
      'defaults are applied before keying: null, omitted and explicit defaults share an entry',
      async () => {
        const model = service.startup.default_model;
        assert.equal(typeof model, 'string');
        const text = `defaults ${nonce()}`;
        const variants = [
          {messages: [{role: 'user', content: text}]},
          {messages: [{role: 'user', content: text}], model: null},
          {messages: [{role: 'user', content: text}], model},
          {messages: [{role: 'user', content: text}], model, max_tokens: 1024},
          {
            messages: [{role: 'user', content: text}],
            system: null,
            temperature: null,
            cache_system: false,
            unknown_field: 1
          },
        ];
        const calls = await upstreamCalls(async () => {
          for (const [index, payload] of variants.entries()) {
            const result = await complete(service, payload);
            assert.equal(result.status, 200, result.text);
            assert.equal(
                result.json.cached, index > 0, `variant ${index}: ${JSON.stringify(payload)}`);
          }
        });
        assert.equal(calls, 1);
      });

  test('every field that changes the answer is in the key', async () => {
    const text = `key fields ${nonce()}`;
    const base = {messages: [{role: 'user', content: text}], max_tokens: 32};
    const variants = [
      base,
      {...base, temperature: 0.2},
      {...base, temperature: 0.3},
      {...base, temperature: 0},
      {...base, max_tokens: 33},
      {...base, model: 'claude-haiku-4-5'},
      {...base, system: 'Be brief.'},
      {...base, system: 'Be verbose.'},
      {...base, messages: [{role: 'user', content: `${text}!`}]},
      {
        ...base,
        messages: [
          {role: 'user', content: 'first'}, {role: 'assistant', content: 'ok'},
          {role: 'user', content: text}
        ]
      },
      {
        ...base,
        messages: [
          {role: 'assistant', content: 'first'}, {role: 'assistant', content: 'ok'},
          {role: 'user', content: text}
        ]
      },
    ];
    const calls = await upstreamCalls(async () => {
      for (const payload of variants) {
        const result = await complete(service, payload);
        assert.equal(result.status, 200, result.text);
        assert.equal(result.json.cached, false, `a wrong hit for ${JSON.stringify(payload)}`);
      }
    });
    assert.equal(calls, variants.length);
  });

  test('errors are not stored', async () => {
    const payload = body(`fail [[simulate:400]] ${nonce()}`, {max_tokens: 16});
    const calls = await upstreamCalls(async () => {
      const first = await complete(service, payload);
      assert.equal(first.status, 400, first.text);
      const second = await complete(service, payload);
      assert.equal(second.status, 400, second.text);
    });
    assert.equal(calls, 2);
  });

  test('a validation error is not a cache lookup and costs no upstream call', async () => {
    const calls = await upstreamCalls(async () => {
      const result = await complete(service, {messages: []});
      assert.equal(result.status, 422);
    });
    assert.equal(calls, 0);
  });

  test('CACHE_TTL_SECONDS=0 turns the cache off', async () => {
    const off = await startService({sim, env: {CACHE_TTL_SECONDS: '0'}});
    assert.equal(Number(off.startup.cache_ttl_seconds), 0);
    const payload = body(`no cache ${nonce()}`, {max_tokens: 16});
    const calls = await upstreamCalls(async () => {
      for (let i = 0; i < 2; i += 1) {
        const result = await complete(off, payload);
        assert.equal(result.status, 200, result.text);
        assert.equal(result.json.cached, false);
      }
    });
    assert.equal(calls, 2);
    await off.proc.stop();
  });

  test('an entry expires after CACHE_TTL_SECONDS', async () => {
    const short = await startService({sim, env: {CACHE_TTL_SECONDS: '1'}});
    assert.equal(Number(short.startup.cache_ttl_seconds), 1);
    const payload = body(`ttl ${nonce()}`, {max_tokens: 16});
    const first = await complete(short, payload);
    const second = await complete(short, payload);
    assert.equal(first.json.cached, false);
    assert.equal(second.json.cached, true);
    await sleep(1600);
    const third = await complete(short, payload);
    assert.equal(third.status, 200, third.text);
    assert.equal(third.json.cached, false, 'an expired entry was served');
    await short.proc.stop();
  });
});
