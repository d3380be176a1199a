// Request ids (CONTRACT.md section 8): kept when valid, replaced by a UUIDv4 otherwise, on
// every response and every log line the request causes.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, callJson, complete, nonce, rawHttp, rawRequest, startSimulatorAndService, stopAll, UUID_V4} from './harness.mjs';

describe('request ids', () => {
  let service;
  before(async () => ({service} = await startSimulatorAndService()));
  after(stopAll);

  const VALID = [
    'abc', 'A.b_c:d-9', 'x'.repeat(128), '0', 'req_011CSHoEeqs5C35K2UUqR7Fy',
    '3f8a2b1c-0000-4000-8000-000000000000'
  ];
  const INVALID =
      ['bad id!', 'x'.repeat(129), 'a/b', 'semi;colon', 'quote"d', 'tab\there', '<script>'];

  test('a valid incoming id is kept', async () => {
    for (const id of VALID) {
      const result = await callJson(service, '/health', {key: null, headers: {'X-Request-Id': id}});
      assert.equal(result.headers.get('x-request-id'), id);
    }
  });

  test('an invalid incoming id is replaced by a UUIDv4', async () => {
    for (const id of INVALID) {
      const result = await callJson(service, '/health', {key: null, headers: {'X-Request-Id': id}});
      const got = result.headers.get('x-request-id');
      assert.match(got ?? '', UUID_V4, `${JSON.stringify(id)} → ${got}`);
    }
  });

  test('an empty or non-ASCII id is replaced (raw request)', async () => {
    for (const id of ['', 'caf\u00e9']) {
      const request = Buffer.concat([
        Buffer.from('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: '),
        Buffer.from(id, 'utf8'),
        Buffer.from('\r\nConnection: close\r\n\r\n'),
      ]);
      const result = await rawHttp(service.port, [request]);
      assert.equal(result.response?.status, 200, result.raw.toString());
      assert.match(result.response.headers['x-request-id'], UUID_V4);
    }
  });

  test('without an incoming id each response gets a fresh UUIDv4', async () => {
    const ids = new Set();
    for (let i = 0; i < 5; i += 1) {
      const result = await callJson(service, '/health', {key: null});
      assert.match(result.headers.get('x-request-id') ?? '', UUID_V4);
      ids.add(result.headers.get('x-request-id'));
    }
    assert.equal(ids.size, 5);
  });

  const ERRORS = [
    {name: '401', path: '/v1/completions', options: {json: body('x'), key: null}, status: 401},
    {name: '403', path: '/v1/completions', options: {json: body('x'), key: 'nope'}, status: 403},
    {name: '404', path: '/missing', options: {key: null}, status: 404},
    {name: '405', path: '/v1/completions', options: {method: 'GET'}, status: 405},
    {name: '422', path: '/v1/completions', options: {json: {messages: []}}, status: 422},
    {name: '422 stream', path: '/v1/completions/stream', options: {json: {}}, status: 422},
    {
      name: '400 upstream',
      path: '/v1/completions',
      options: {json: body('[[simulate:400]]', {max_tokens: 8})},
      status: 400
    },
  ];
  for (const {name, path, options, status} of ERRORS) {
    test(`the id is kept on a ${name} and in its body and access log`, async () => {
      const id = `err-${name.replace(/\W/g, '')}-${nonce()}`;
      const result = await callJson(service, path, {
        ...options,
        headers: {'X-Request-Id': id},
      });
      assert.equal(result.status, status, result.text);
      assert.equal(result.headers.get('x-request-id'), id);
      if (result.json && 'request_id' in result.json) assert.equal(result.json.request_id, id);
      const access = await service.proc.waitForEvent('http_request', (e) => e.request_id === id);
      assert.equal(access.status, status);
    });

    test(`an invalid id is replaced on a ${name} too`, async () => {
      const result = await callJson(service, path, {
        ...options,
        headers: {'X-Request-Id': 'bad id!'},
      });
      assert.equal(result.status, status, result.text);
      assert.match(result.headers.get('x-request-id') ?? '', UUID_V4);
    });
  }

  test('every log line a completion causes carries its id', async () => {
    const id = `trace-${nonce()}`;
    const payload = body(`trace ${nonce()}`, {max_tokens: 16});
    const result = await complete(service, payload, {headers: {'X-Request-Id': id}});
    assert.equal(result.status, 200, result.text);
    assert.equal(result.json.request_id, id);
    await service.proc.waitForEvent('http_request', (e) => e.request_id === id);
    const events = service.proc.logs.filter((e) => e.request_id === id).map((e) => e.event);
    for (const event of ['cache_miss', 'anthropic_request', 'anthropic_response', 'http_request']) {
      assert.ok(events.includes(event), `${event} missing from ${events.join(', ')}`);
    }
    // The same id reused by a later caller is that caller's; a hit logs under it.
    const id2 = `trace2-${nonce()}`;
    const hit = await complete(service, payload, {headers: {'X-Request-Id': id2}});
    assert.equal(hit.json.cached, true);
    assert.equal(hit.json.request_id, id2);
    await service.proc.waitForEvent('cache_hit', (e) => e.request_id === id2);
  });

  test('a stream carries the id on its headers and its stream_end log', async () => {
    const id = `stream-${nonce()}`;
    const response = await fetch(`${service.url}/v1/completions/stream`, {
      method: 'POST',
      headers: {'X-API-Key': service.key, 'Content-Type': 'application/json', 'X-Request-Id': id},
      body: JSON.stringify(body(`stream id ${nonce()}`, {max_tokens: 8})),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), id);
    await response.text();
    await service.proc.waitForEvent('stream_end', (e) => e.request_id === id);
  });
});
