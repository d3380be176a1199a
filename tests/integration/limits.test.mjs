// Request size limits (CONTRACT.md section 3): 413 as soon as the declared length or the
// chunked body read so far exceeds MAX_REQUEST_BYTES, without reading the rest, then a
// lingering close so that the client can read the answer.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {callJson, nonce, rawHttp, rawRequest, SERVICE_KEY, startService, startSimulator, stopAll} from './harness.mjs';

const LIMIT = 1024;
const TOO_LARGE = 'Request body too large';

// A valid completion body of exactly `size` bytes (padded with an ignored field).
function bodyOfSize(size) {
  const base = {messages: [{role: 'user', content: `size ${nonce()}`}], max_tokens: 8, pad: ''};
  const padding = size - Buffer.byteLength(JSON.stringify(base));
  assert.ok(padding >= 0);
  base.pad = 'p'.repeat(padding);
  const text = JSON.stringify(base);
  assert.equal(Buffer.byteLength(text), size);
  return text;
}

const headers =
    (extra = []) => [['X-API-Key', SERVICE_KEY], ['Content-Type', 'application/json'], ...extra];

function chunk(text) {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

function assert413(result) {
  assert.ok(
      result.response,
      `no HTTP answer (error ${result.error}, write ${result.writeError}): ` +
          `${result.raw.toString().slice(0, 300)}`);
  assert.equal(result.response.status, 413, result.raw.toString().slice(0, 500));
  assert.deepEqual(JSON.parse(result.response.body).detail, TOO_LARGE);
  assert.ok(result.response.headers['x-request-id']);
}

describe('request size limits', () => {
  let sim;
  let service;
  before(async () => {
    sim = await startSimulator();
    service = await startService({sim, env: {MAX_REQUEST_BYTES: String(LIMIT)}});
  });
  after(stopAll);

  for (const path of ['/v1/completions', '/v1/completions/stream']) {
    test(
        `${path}: a declared length over the limit is answered 413 without sending the body`,
        async () => {
          const head = rawRequest('POST', path, {headers: headers([['Content-Length', '100000']])});
          // Only the head goes out: the answer must come without the body.
          const result = await rawHttp(service.port, [head], {timeoutMs: 5000});
          assert413(result);
          assert.ok(result.closed, 'the connection should be closed after a 413');
        });
  }

  test('the boundary: exactly MAX_REQUEST_BYTES is accepted, one byte more is 413', async () => {
    const exact = await callJson(service, '/v1/completions', {raw: bodyOfSize(LIMIT)});
    assert.equal(exact.status, 200, exact.text);
    const over = await callJson(service, '/v1/completions', {raw: bodyOfSize(LIMIT + 1)});
    assert.equal(over.status, 413, over.text);
    assert.equal(over.json?.detail, TOO_LARGE);
  });

  test('a chunked body is cut off as soon as it exceeds the limit', async () => {
    const head = rawRequest(
        'POST', '/v1/completions', {headers: headers([['Transfer-Encoding', 'chunked']])});
    const piece = chunk('x'.repeat(600));
    // Never terminated: the server must answer from what it has read so far.
    const result = await rawHttp(
        service.port, [head, piece, 100, piece, 100, piece, 100, piece], {timeoutMs: 5000});
    assert413(result);
  });

  test('a chunked body within the limit is accepted', async () => {
    const text = bodyOfSize(900);
    const head = rawRequest(
        'POST', '/v1/completions',
        {headers: headers([['Transfer-Encoding', 'chunked'], ['Connection', 'close']])});
    const result = await rawHttp(
        service.port, [head, chunk(text.slice(0, 400)), 50, chunk(text.slice(400)), '0\r\n\r\n'],
        {timeoutMs: 10000});
    assert.equal(result.response?.status, 200, result.raw.toString().slice(0, 500));
    assert.equal(JSON.parse(result.response.body).cached, false);
  });

  test('lingering close: a client still writing its large body reads the 413', async () => {
    const head = rawRequest(
        'POST', '/v1/completions',
        {headers: headers([['Content-Length', String(4 * 1024 * 1024)]])});
    const filler = Buffer.alloc(64 * 1024, 'y');
    const result =
        await rawHttp(service.port, [head, filler], {timeoutMs: 8000, keepWriting: filler});
    assert413(result);
  });

  test('Expect: 100-continue within the limit gets 100 Continue, then the answer', async () => {
    const text = bodyOfSize(600);
    const head = rawRequest('POST', '/v1/completions', {
      headers: headers([
        ['Content-Length', String(Buffer.byteLength(text))], ['Expect', '100-continue'],
        ['Connection', 'close']
      ]),
    });
    const result = await rawHttp(service.port, [head, 500, text], {timeoutMs: 8000});
    const raw = result.raw.toString();
    assert.match(raw, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, raw.slice(0, 300));
  });

  test('Expect: 100-continue over the limit gets the 413 instead of 100 Continue', async () => {
    const head = rawRequest('POST', '/v1/completions', {
      headers: headers([['Content-Length', '5000'], ['Expect', '100-continue']]),
    });
    const result = await rawHttp(service.port, [head], {timeoutMs: 5000});
    assert413(result);
  });

  test('the service keeps serving after oversized requests', async () => {
    const result = await callJson(service, '/health', {key: null});
    assert.equal(result.status, 200);
  });
});
