// A caller that pipelines a second request behind a slow one (HTTP/1.1 allows it) is still
// there: its readable socket must not be taken for a departure (CONTRACT.md section 6: the
// upstream call is cancelled only when the caller disconnects), and the second request is
// answered after the first.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, nonce, rawHttp, rawRequest, startSimulatorAndService, stopAll} from './harness.mjs';

// Responses in `raw`, in order: the status line of each. Not anchored to a line start: a
// response with a Content-Length body is followed directly by the next status line.
function statusLines(raw) {
  return raw.toString('latin1').match(/HTTP\/1\.1 \d{3}/g) ?? [];
}

describe('pipelined requests behind a slow one', () => {
  let service;
  before(async () => ({service} = await startSimulatorAndService()));
  after(stopAll);

  const health = rawRequest('GET', '/health');

  for (const [path, directive] of [
    ['/v1/completions', '[[simulate:slow:400]]'],
    ['/v1/completions/stream', '[[simulate:chunk-delay:150]]'],
  ]) {
    test(`${path}: answered in full, then the pipelined request`, async () => {
      const tag = nonce();
      const request = rawRequest('POST', path, {
        headers: [['X-API-Key', service.key], ['Content-Type', 'application/json']],
        body: JSON.stringify(body(`Pipelined ${directive} ${tag}`, {max_tokens: 6})),
      });
      // The second is written while the first waits for the upstream, so it stays unread in
      // the service's socket (written together, both would arrive in one read).
      const result =
          await rawHttp(service.port, [request, 150, health], {timeoutMs: 10000, idleMs: 800});
      assert.equal(result.response?.status, 200, result.raw.toString());
      assert.ok(result.response.complete, 'the first response was cut');
      if (path.endsWith('/stream')) {
        assert.match(result.response.body, /data: \[DONE\]\n\n$/);
      } else {
        assert.ok(JSON.parse(result.response.body).content.length > 0);
      }
      assert.deepEqual(statusLines(result.raw), ['HTTP/1.1 200', 'HTTP/1.1 200']);
      assert.match(result.raw.toString(), /"status":"ok"/);
      const departed = service.proc.logs.filter(
          (entry) => entry.event === 'client_disconnected' ||
              (entry.event === 'stream_end' && entry.outcome === 'client_disconnected'));
      assert.deepEqual(departed, []);
    });
  }
});
