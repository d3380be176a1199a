// CORS (CONTRACT.md section 9): preflight 204, allowed methods/headers, exposed X-Request-Id;
// development allows every origin, other environments only CORS_ALLOW_ORIGINS.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, callJson, nonce, startService, startSimulator, startSimulatorAndService, stopAll} from './harness.mjs';

const listOf = (value) =>
    (value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean);

function preflight(service, origin, path = '/v1/completions') {
  return callJson(service, path, {
    method: 'OPTIONS',
    key: null,
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'x-api-key, content-type, x-request-id',
    },
  });
}

function assertAllowedPreflight(result, origin) {
  assert.equal(result.status, 204, result.text);
  const allowOrigin = result.headers.get('access-control-allow-origin');
  assert.ok(allowOrigin === origin || allowOrigin === '*', `Allow-Origin: ${allowOrigin}`);
  if (allowOrigin !== '*') assert.ok(listOf(result.headers.get('vary')).includes('origin'));
  const methods = listOf(result.headers.get('access-control-allow-methods'));
  assert.ok(methods.includes('get') && methods.includes('post'), `methods: ${methods}`);
  const allowHeaders = listOf(result.headers.get('access-control-allow-headers'));
  for (const name of ['x-api-key', 'content-type', 'x-request-id']) {
    assert.ok(allowHeaders.includes(name), `Allow-Headers lacks ${name}: ${allowHeaders}`);
  }
  assert.ok(result.headers.get('x-request-id'), 'X-Request-Id on a preflight');
}

describe('CORS in development: every origin', () => {
  let sim;
  let service;
  before(async () => ({sim, service} = await startSimulatorAndService()));
  after(stopAll);

  test('a preflight from any origin is 204 with the allow headers, and needs no key', async () => {
    for (const origin of ['https://anything.example', 'http://localhost:3000']) {
      for (const path of ['/v1/completions', '/v1/completions/stream']) {
        assertAllowedPreflight(await preflight(service, origin, path), origin);
      }
    }
  });

  test('an actual request from an origin may read the response and X-Request-Id', async () => {
    const origin = 'https://anything.example';
    const result = await callJson(service, '/v1/completions', {
      json: body(`cors ${nonce()}`, {max_tokens: 8}),
      headers: {Origin: origin},
    });
    assert.equal(result.status, 200, result.text);
    const allowOrigin = result.headers.get('access-control-allow-origin');
    assert.ok(allowOrigin === origin || allowOrigin === '*', `Allow-Origin: ${allowOrigin}`);
    assert.ok(listOf(result.headers.get('access-control-expose-headers')).includes('x-request-id'));
  });

  test('error responses carry the CORS headers too (so the browser can read the 401)', async () => {
    const origin = 'https://anything.example';
    const result = await callJson(service, '/v1/completions', {
      json: body('x'),
      key: null,
      headers: {Origin: origin},
    });
    assert.equal(result.status, 401);
    const allowOrigin = result.headers.get('access-control-allow-origin');
    assert.ok(allowOrigin === origin || allowOrigin === '*', `Allow-Origin: ${allowOrigin}`);
  });
});

describe('CORS in staging: only CORS_ALLOW_ORIGINS', () => {
  let sim;
  let service;
  const allowed = 'https://app.example.com';
  before(async () => {
    sim = await startSimulator();
    service = await startService({
      sim,
      env: {ENVIRONMENT: 'staging', CORS_ALLOW_ORIGINS: `${allowed},https://admin.example.com`},
    });
    assert.equal(service.startup.environment, 'staging');
  });
  after(stopAll);

  test('the listed origin is allowed', async () => {
    const result = await preflight(service, allowed);
    assertAllowedPreflight(result, allowed);
    assert.equal(result.headers.get('access-control-allow-origin'), allowed);
    const second = await preflight(service, 'https://admin.example.com');
    assert.equal(second.headers.get('access-control-allow-origin'), 'https://admin.example.com');
  });

  test('another origin is not allowed', async () => {
    for (const origin
             of ['https://evil.example.com', 'https://app.example.com.evil.net',
                 'http://app.example.com']) {
      const result = await preflight(service, origin);
      assert.equal(result.headers.get('access-control-allow-origin'), null, origin);
      const actual = await callJson(service, '/health', {key: null, headers: {Origin: origin}});
      assert.equal(actual.status, 200);
      assert.equal(actual.headers.get('access-control-allow-origin'), null, origin);
    }
  });

  test(
      'an actual request from the listed origin gets Allow-Origin and Expose-Headers', async () => {
        const result = await callJson(service, '/health', {key: null, headers: {Origin: allowed}});
        assert.equal(result.status, 200);
        assert.equal(result.headers.get('access-control-allow-origin'), allowed);
        assert.ok(listOf(result.headers.get('vary')).includes('origin'));
        assert.ok(
            listOf(result.headers.get('access-control-expose-headers')).includes('x-request-id'));
      });
});
