// Graceful shutdown (CONTRACT.md section 9): on SIGTERM/SIGINT stop accepting, let in-flight
// requests and streams finish within SHUTDOWN_GRACE_SECONDS, then exit 0.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, complete, connectionRefused, nonce, readSse, sleep, startService, startSimulator, stopAll, stream, summarizeSse} from './harness.mjs';

describe('graceful shutdown', () => {
  let sim;
  before(async () => {
    sim = await startSimulator();
  });
  after(stopAll);

  test(
      'SIGTERM during a stream: the stream completes, new connections are refused, exit 0',
      async () => {
        const service = await startService({sim, env: {SHUTDOWN_GRACE_SECONDS: '20'}});
        // 20 deltas 200 ms apart: about 4 s of stream, most of it after the signal.
        const response = await stream(
            service, body(`Drain [[simulate:chunk-delay:200]] ${nonce()}`, {max_tokens: 20}));
        assert.equal(response.status, 200);
        let signalledAt = null;
        let firstChunk;
        const first = new Promise((resolve) => {
          firstChunk = resolve;
        });
        let doneSeen = false;
        const reading = readSse(response, {
          timeoutMs: 30000,
          onItem: (item) => {
            if (item.kind !== 'event') return;
            firstChunk();
            if (item.data === '[DONE]') doneSeen = true;
          },
        });
        await first;
        service.proc.signal('SIGTERM');
        signalledAt = performance.now();
        // The listener must close while the stream is still flowing.
        let refused = false;
        while (!refused && !doneSeen && performance.now() - signalledAt < 3000) {
          refused = await connectionRefused(service.port);
          if (!refused) await sleep(50);
        }
        assert.ok(refused, 'new connections were still accepted after SIGTERM');
        assert.equal(doneSeen, false, 'the listener closed only after the stream had ended');

        const result = await reading;
        const summary = summarizeSse(result);
        assert.equal(result.error, null, String(result.error));
        assert.ok(summary.done, `the stream was cut: ${result.raw.slice(-300)}`);
        assert.equal(summary.errors.length, 0);
        assert.ok(
            summary.textEvents.some((event) => event.at > signalledAt),
            'no chunk was relayed after SIGTERM');

        const exit = await service.proc.waitExit(15000);
        assert.deepEqual(exit, {code: 0, signal: null});
        const shutdown = service.proc.events('service_shutdown');
        assert.equal(shutdown.length, 1, 'service_shutdown logged once');
      });

  test('SIGTERM during a slow non-streaming request: it is answered, then exit 0', async () => {
    const service = await startService({sim, env: {SHUTDOWN_GRACE_SECONDS: '20'}});
    const pending =
        complete(service, body(`Wait [[simulate:slow:1500]] ${nonce()}`, {max_tokens: 8}));
    // Let the request reach the upstream before the signal.
    await service.proc.waitForEvent('anthropic_request', () => true, {timeoutMs: 5000});
    service.proc.signal('SIGTERM');
    const result = await pending;
    assert.equal(result.status, 200, result.text);
    const exit = await service.proc.waitExit(15000);
    assert.deepEqual(exit, {code: 0, signal: null});
  });

  test('SIGINT on an idle service exits 0 promptly with service_shutdown', async () => {
    const service = await startService({sim});
    service.proc.signal('SIGINT');
    const exit = await service.proc.waitExit(10000);
    assert.deepEqual(exit, {code: 0, signal: null});
    await service.proc.waitForEvent('service_shutdown', () => true, {timeoutMs: 1000})
        .catch(() => assert.fail('no service_shutdown line'));
  });

  test('the grace period bounds the drain: a stream that outlives it is cut, exit 0', async () => {
    const service = await startService({sim, env: {SHUTDOWN_GRACE_SECONDS: '1'}});
    // About 60 words at 1 s each: far beyond the grace period.
    const response =
        await stream(service, body(`Endless [[simulate:chunk-delay:1000]] ${nonce()}`));
    assert.equal(response.status, 200);
    const reading = readSse(response, {timeoutMs: 20000});
    await sleep(300);
    service.proc.signal('SIGTERM');
    const exit = await service.proc.waitExit(10000);
    assert.deepEqual(exit, {code: 0, signal: null});
    const result = await reading;
    assert.equal(summarizeSse(result).done, false, 'a cut stream must not end with [DONE]');
  });
});
