// Authentication (CONTRACT.md section 2).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, callJson, complete, errorBodyProblem, nonce, rawHttp, rawRequest, startSimulatorAndService, stopAll} from './harness.mjs';

const MISSING = 'X-API-Key header missing';
const INVALID = 'Invalid API key';

describe('authentication', () => {
  let service;
  before(async () => ({service} = await startSimulatorAndService()));
  after(stopAll);

  for (const path of ['/v1/completions', '/v1/completions/stream']) {
    test(`${path}: no X-API-Key is 401`, async () => {
      const result = await callJson(service, path, {json: body(`hi ${nonce()}`), key: null});
      assert.equal(result.status, 401);
      assert.equal(errorBodyProblem(result, MISSING), null);
      assert.ok(result.headers.get('x-request-id'));
    });

    test(`${path}: an empty X-API-Key is 401`, async () => {
      const payload = JSON.stringify(body(`hi ${nonce()}`));
      const request = rawRequest('POST', path, {
        headers: [['X-API-Key', ''], ['Content-Type', 'application/json']],
        body: payload,
      });
      const result = await rawHttp(service.port, [request]);
      assert.equal(result.response?.status, 401, result.raw.toString());
      assert.equal(JSON.parse(result.response.body).detail, MISSING);
      assert.ok(result.response.headers['x-request-id']);
    });

    test(`${path}: an unknown key is 403`, async () => {
      for (const key of ['wrong-key', 'test-service-ke', 'test-service-key2', 'TEST-SERVICE-KEY']) {
        const result = await callJson(service, path, {json: body(`hi ${nonce()}`), key});
        assert.equal(result.status, 403, key);
        assert.equal(errorBodyProblem(result, INVALID), null, key);
        assert.ok(!result.text.includes(key), 'the key is echoed in the body');
      }
    });
  }

  test('the header name is case-insensitive', async () => {
    const payload = JSON.stringify(body(`case ${nonce()}`, {max_tokens: 16}));
    for (const name of ['x-api-key', 'X-API-KEY', 'x-Api-kEY', 'X-Api-Key']) {
      const request = rawRequest('POST', '/v1/completions', {
        headers:
            [[name, service.key], ['Content-Type', 'application/json'], ['Connection', 'close']],
        body: payload,
      });
      const result = await rawHttp(service.port, [request]);
      assert.equal(result.response?.status, 200, `${name}: ${result.raw.toString()}`);
    }
  });

  test('authentication happens before the body is parsed', async () => {
    const cases = [
      {key: 'wrong-key', raw: '{not json', status: 403, detail: INVALID},
      {key: null, raw: '{not json', status: 401, detail: MISSING},
      {key: 'wrong-key', raw: '[]', status: 403, detail: INVALID},
      {key: 'wrong-key', raw: '{"messages":[]}', status: 403, detail: INVALID},
      {key: null, raw: '', status: 401, detail: MISSING},
    ];
    for (const {key, raw, status, detail} of cases) {
      const result = await callJson(service, '/v1/completions', {raw, key});
      assert.equal(result.status, status, `${key} ${raw}: ${result.text}`);
      assert.equal(errorBodyProblem(result, detail), null);
    }
  });

  test('the right key with a valid body succeeds', async () => {
    const result = await complete(service, body(`ok ${nonce()}`, {max_tokens: 16}));
    assert.equal(result.status, 200, result.text);
  });

  test('health endpoints need no key, and a wrong key does not break them', async () => {
    for (const key of [null, 'wrong-key']) {
      const result = await callJson(service, '/health', {key});
      assert.equal(result.status, 200);
    }
  });
});
