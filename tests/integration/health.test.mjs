// Routes (CONTRACT.md section 1): /health, /health/ready, 404 and 405.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {callJson, errorBodyProblem, rawHttp, rawRequest, startSimulatorAndService, stopAll} from './harness.mjs';

describe('routes', () => {
  let service;
  before(async () => ({service} = await startSimulatorAndService()));
  after(stopAll);

  test('GET /health answers the liveness document', async () => {
    const result = await callJson(service, '/health', {key: null});
    assert.equal(result.status, 200);
    assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(result.headers.get('x-request-id'), 'X-Request-Id on /health');
    assert.deepEqual(Object.keys(result.json).sort(), ['service', 'status', 'version']);
    assert.equal(result.json.status, 'ok');
    assert.equal(result.json.service, 'claude-microservice');
    assert.match(result.json.version, /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/);
  });

  test('GET /health/ready answers 200 when every dependency answers', async () => {
    const result = await callJson(service, '/health/ready', {key: null});
    assert.equal(result.status, 200, result.text);
    assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(result.headers.get('x-request-id'));
  });

  test('an unknown path is 404 {"detail":"Not Found"}', async () => {
    for (const path of ['/nope', '/v1/completion', '/health/x', '/v1/completions/stream/x']) {
      const result = await callJson(service, path, {key: null});
      assert.equal(result.status, 404, path);
      assert.equal(errorBodyProblem(result, 'Not Found'), null, path);
      assert.ok(result.headers.get('x-request-id'), path);
    }
  });

  test('an unknown path is 404 with a key too (no auth leak of route existence)', async () => {
    const result = await callJson(service, '/v2/completions', {method: 'POST', json: {}});
    assert.equal(result.status, 404);
    assert.equal(errorBodyProblem(result, 'Not Found'), null);
  });

  const wrongMethods = [
    {method: 'GET', path: '/v1/completions', allow: 'POST'},
    {method: 'PUT', path: '/v1/completions', allow: 'POST'},
    {method: 'DELETE', path: '/v1/completions/stream', allow: 'POST'},
    {method: 'GET', path: '/v1/completions/stream', allow: 'POST'},
    {method: 'POST', path: '/health', allow: 'GET'},
    {method: 'PATCH', path: '/health/ready', allow: 'GET'},
  ];
  for (const {method, path, allow} of wrongMethods) {
    test(`${method} ${path} is 405 with Allow: ${allow}`, async () => {
      const result = await callJson(service, path, {method, key: null});
      assert.equal(result.status, 405);
      assert.equal(errorBodyProblem(result, 'Method Not Allowed'), null);
      const allowHeader = result.headers.get('allow') ?? '';
      const methods = allowHeader.split(',').map((m) => m.trim().toUpperCase());
      assert.ok(methods.includes(allow), `Allow: ${allowHeader}`);
      assert.ok(!methods.includes(method), `Allow: ${allowHeader} must not list ${method}`);
      assert.ok(result.headers.get('x-request-id'));
    });
  }

  test('the query string does not change the route', async () => {
    const result = await callJson(service, '/health?probe=1', {key: null});
    assert.equal(result.status, 200);
    assert.equal(result.json.status, 'ok');
  });

  test('several requests share one keep-alive connection', async () => {
    const request = rawRequest('GET', '/health');
    const result = await rawHttp(service.port, [request], {idleMs: 200});
    assert.equal(result.response?.status, 200);
    assert.equal(result.closed, false, 'the server closed a keep-alive connection');
    const twice = await rawHttp(service.port, [request + request], {idleMs: 400});
    const text = twice.raw.toString('utf8');
    assert.equal(text.match(/HTTP\/1\.1 200 /g)?.length, 2, text);
  });

  test(
      'a malformed request line is answered 400 (or closed) and the server keeps serving',
      async () => {
        const result = await rawHttp(service.port, ['GARBAGE\r\n\r\n']);
        if (result.response)
          assert.equal(result.response.status, 400, result.raw.toString());
        else
          assert.ok(result.closed || result.error, 'neither an answer nor a close');
        const health = await callJson(service, '/health', {key: null});
        assert.equal(health.status, 200);
      });
});
