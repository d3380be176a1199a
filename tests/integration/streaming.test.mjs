// Streaming (CONTRACT.md section 6) and its interplay with the cache (section 5).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, complete, errorBodyProblem, nonce, rawHttp, rawRequest, readSse, SERVICE_KEY, sleep, startService, startSimulator, stopAll, stream, summarizeSse, waitForStats} from './harness.mjs';

function assertStreamHeaders(response) {
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream\b/);
  assert.equal(response.headers.get('cache-control'), 'no-cache');
  assert.equal(response.headers.get('x-accel-buffering'), 'no');
  assert.ok(response.headers.get('x-request-id'));
}

// Every data event of a complete stream is {"text": "<non-empty string>"}, then [DONE] last.
function assertWellFormed(result) {
  const summary = summarizeSse(result);
  assert.equal(result.error, null, String(result.error));
  assert.ok(summary.textEvents.length > 0, `no text events in ${result.raw.slice(0, 500)}`);
  for (const event of summary.textEvents) {
    const parsed = JSON.parse(event.data);
    assert.deepEqual(Object.keys(parsed), ['text'], event.data);
    assert.equal(typeof parsed.text, 'string');
  }
  assert.equal(summary.errors.length, 0, result.raw.slice(-500));
  assert.ok(summary.done, `no [DONE] in ${result.raw.slice(-300)}`);
  assert.ok(summary.doneIsLast, 'events after [DONE]');
  assert.ok(
      result.raw.endsWith('data: [DONE]\n\n') || result.raw.endsWith('data: [DONE]\r\n\r\n'),
      JSON.stringify(result.raw.slice(-100)));
  return summary;
}

describe('streaming', () => {
  let sim;
  let service;   // With the response cache.
  let uncached;  // Same simulator, cache off: every request reaches the upstream.
  before(async () => {
    sim = await startSimulator();
    service = await startService({sim});
    uncached = await startService({sim, env: {CACHE_TTL_SECONDS: '0'}});
  });
  after(stopAll);

  test(
      'a stream has the headers of section 6, text events, then [DONE]; its text equals ' +
          'the non-streamed answer',
      async () => {
        const payload = body(`Stream about volcanoes ${nonce()}`);
        const response = await stream(uncached, payload);
        assertStreamHeaders(response);
        const id = response.headers.get('x-request-id');
        const result = await readSse(response);
        assert.ok(result.ended, 'the stream did not end cleanly');
        const summary = assertWellFormed(result);
        assert.ok(summary.textEvents.length >= 10, `only ${summary.textEvents.length} chunks`);

        const whole = await complete(uncached, payload);
        assert.equal(whole.status, 200, whole.text);
        assert.equal(whole.json.cached, false);
        assert.equal(summary.text, whole.json.content);

        const end = await uncached.proc.waitForEvent('stream_end', (e) => e.request_id === id);
        assert.equal(end.outcome, 'completed');
        assert.equal(Number(end.chunks), summary.textEvents.length);
        assert.ok(Number(end.output_tokens) > 0);
        const request =
            await uncached.proc.waitForEvent('anthropic_request', (e) => e.request_id === id);
        assert.equal(request.stream, true);
      });

  test('chunks are written as they arrive, not buffered', async () => {
    const response = await stream(
        uncached, body(`Slowly [[simulate:chunk-delay:250]] ${nonce()}`, {max_tokens: 8}));
    assertStreamHeaders(response);
    const result = await readSse(response, {timeoutMs: 30000});
    const summary = assertWellFormed(result);
    const chunks = summary.textEvents;
    assert.ok(chunks.length >= 4, `only ${chunks.length} chunks`);
    const spread = chunks.at(-1).at - chunks[0].at;
    // With 250 ms between deltas the spread is about 250 × (n - 1); buffering would make it ~0.
    assert.ok(
        spread >= 125 * (chunks.length - 1),
        `first and last chunk ${spread.toFixed(0)} ms apart for ${chunks.length} chunks`);
    assert.ok(chunks[1].at - chunks[0].at >= 100, 'the first two chunks arrived together');
  });

  test('an upstream refusal before the first byte is an ordinary HTTP error', async () => {
    const response = await stream(service, body(`[[simulate:429]] ${nonce()}`));
    const text = await response.text();
    assert.equal(response.status, 429, text);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.headers.get('retry-after'), '1');
    const result = {status: 429, headers: response.headers, text, json: JSON.parse(text)};
    assert.equal(
        errorBodyProblem(result, 'Anthropic rate limit reached. Retry after a moment.'), null);
  });

  test('a 422 on the stream endpoint is JSON, not a stream', async () => {
    const response = await stream(service, {messages: []});
    assert.equal(response.status, 422);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const json = await response.json();
    assert.equal(json.detail[0].type, 'too_short');
  });

  for (const directive of ['error-mid-stream', 'disconnect-mid-stream']) {
    test(`[[simulate:${directive}]]: event: error, no [DONE], the connection closes`, async () => {
      const payload = body(`Cut [[simulate:${directive}]] ${nonce()}`);
      const before = await sim.stats();
      const response = await stream(service, payload);
      assertStreamHeaders(response);
      const id = response.headers.get('x-request-id');
      const result = await readSse(response, {timeoutMs: 15000});
      // The connection must close: either a clean end of the body, or the server closing
      // the socket mid-body (fetch then reports "terminated"), which also marks the cut.
      const cause = `${result.error} ${result.error?.cause ?? ''}`;
      assert.ok(
          result.ended || /terminated|other side closed/i.test(cause),
          `the connection was not closed after the error: ${cause}`);
      const summary = summarizeSse(result);
      assert.equal(summary.done, false, 'a cut stream must not end with [DONE]');
      assert.equal(summary.errors.length, 1, result.raw.slice(-500));
      assert.equal(summary.events.at(-1).event, 'error', 'the error event is the last event');
      const error = JSON.parse(summary.errors[0].data);
      assert.equal(error.type, 'error');
      assert.equal(error.error.type, 'upstream_error');
      assert.equal(typeof error.error.message, 'string');
      assert.ok(!result.raw.includes(sim.apiKey));

      const end = await service.proc.waitForEvent('stream_end', (e) => e.request_id === id);
      assert.equal(end.outcome, 'upstream_error');

      // A cut answer is not stored: the same request goes upstream again.
      const again = await stream(service, payload);
      await readSse(again, {timeoutMs: 15000});
      const after = await sim.stats();
      assert.equal(after.stream_requests - before.stream_requests, 2, JSON.stringify(after));
    });
  }

  // Sends `request` on a fresh connection twice: answered from the upstream, then replayed
  // from the cache (asserted on the simulator's counter). [source, rawHttp result] pairs.
  async function fromUpstreamThenCache(request) {
    const results = [];
    for (const source of ['upstream', 'cache']) {
      const before = await sim.stats();
      const result = await rawHttp(service.port, [request], {timeoutMs: 15000});
      const after = await sim.stats();
      assert.equal(
          after.stream_requests - before.stream_requests, source === 'upstream' ? 1 : 0, source);
      assert.equal(result.error, null, `${source}: ${result.error}`);
      results.push([source, result]);
    }
    return results;
  }

  // The last events and the end of the stream leave in one write; on the wire that must
  // still be a well-formed body: the final chunk, then the zero-size last chunk, and nothing
  // after it. Fresh from the upstream and replayed from the cache.
  test('on the wire, a stream ends with [DONE], then the last chunk, then nothing', async () => {
    const payload = JSON.stringify(body(`Framing ${nonce()}`));
    const request = rawRequest('POST', '/v1/completions/stream', {
      headers: [['Content-Type', 'application/json'], ['X-API-Key', SERVICE_KEY]],
      body: payload,
    });
    for (const [source, result] of await fromUpstreamThenCache(request)) {
      const {response} = result;
      assert.equal(response.status, 200, source);
      assert.equal(response.headers['transfer-encoding'], 'chunked', source);
      assert.ok(
          response.complete,
          `${source}: no last chunk in ${JSON.stringify(result.raw.toString().slice(-80))}`);
      assert.ok(
          result.raw.toString('latin1').endsWith('data: [DONE]\n\n\r\n0\r\n\r\n'),
          `${source}: ${JSON.stringify(result.raw.toString('latin1').slice(-60))}`);
      assert.ok(response.body.endsWith('data: [DONE]\n\n'), source);
      assert.match(response.body, /^data: \{"text":/m, source);
      assert.equal(result.closed, false, `${source}: an HTTP/1.1 stream keeps its connection`);
    }
  });

  test('an HTTP/1.0 stream has no chunked framing and ends by closing the connection', async () => {
    const payload = JSON.stringify(body(`Old client ${nonce()}`));
    const request = Buffer.concat([
      Buffer.from(
          'POST /v1/completions/stream HTTP/1.0\r\nHost: 127.0.0.1\r\n' +
              `Content-Type: application/json\r\nX-API-Key: ${SERVICE_KEY}\r\n` +
              `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n`,
          'latin1'),
      Buffer.from(payload),
    ]);
    for (const [source, result] of await fromUpstreamThenCache(request)) {
      assert.equal(result.response.status, 200, source);
      assert.equal(result.response.headers['transfer-encoding'], undefined, source);
      assert.equal(result.closed, true, `${source}: the connection stayed open`);
      const text = result.raw.toString('utf8');
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      assert.ok(
          bodyText.endsWith('data: [DONE]\n\n'),
          `${source}: ${JSON.stringify(bodyText.slice(-60))}`);
      assert.match(bodyText, /^data: \{"text":/m, source);
    }
  });

  test('a cached answer is replayed as a stream, in chunks, then [DONE]', async () => {
    const payload = body(`Replay me ${nonce()}`);
    const whole = await complete(service, payload);
    assert.equal(whole.status, 200, whole.text);
    const before = await sim.stats();
    const response = await stream(service, payload);
    assertStreamHeaders(response);
    const summary = assertWellFormed(await readSse(response));
    assert.equal(summary.text, whole.json.content);
    assert.ok(summary.textEvents.length >= 2, 'a replay should come in chunks');
    const after = await sim.stats();
    assert.equal(after.messages_requests, before.messages_requests, 'the upstream was called');
    assert.equal(after.stream_requests, before.stream_requests, 'the upstream was called');
  });

  test('a completed stream is stored and serves a later non-streaming call', async () => {
    const payload = body(`Store my stream ${nonce()}`);
    const response = await stream(service, payload);
    assertStreamHeaders(response);
    const summary = assertWellFormed(await readSse(response));
    const whole = await complete(service, payload);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.cached, true);
    assert.equal(whole.json.content, summary.text);
    assert.equal(whole.json.stop_reason, 'end_turn');
    assert.ok(whole.json.usage.output_tokens > 0, JSON.stringify(whole.json.usage));
  });

  test('heartbeat: ": ping" flows while the upstream is silent mid-stream', async () => {
    const beating = await startService({sim, env: {STREAM_HEARTBEAT_SECONDS: '1'}});
    const controller = new AbortController();
    const response = await stream(
        beating, body(`Pause [[simulate:chunk-delay:2500]] ${nonce()}`),
        {signal: controller.signal});
    assertStreamHeaders(response);
    const result = await readSse(response, {
      timeoutMs: 10000,
      stopWhen: (item) => item.kind === 'comment' && item.text === 'ping',
    });
    controller.abort();
    const summary = summarizeSse(result);
    assert.ok(
        summary.comments.some((c) => c.text === 'ping'),
        `no ": ping" within 10 s: ${JSON.stringify(result.raw.slice(0, 300))}`);
    assert.match(result.raw, /(^|\n): ?ping\r?\n/);
    await beating.proc.stop();
  });

  test(
      'an upstream silent for STREAM_IDLE_TIMEOUT_SECONDS ends the stream with an error',
      async () => {
        const idle = await startService({sim, env: {STREAM_IDLE_TIMEOUT_SECONDS: '1'}});
        const response = await stream(idle, body(`Stall [[simulate:chunk-delay:6000]] ${nonce()}`));
        assertStreamHeaders(response);
        const id = response.headers.get('x-request-id');
        const result = await readSse(response, {timeoutMs: 5000});
        assert.ok(!/timed out/.test(String(result.error)), 'the stream was still open after 5 s');
        const summary = summarizeSse(result);
        assert.equal(summary.done, false);
        assert.equal(summary.errors.length, 1, result.raw);
        assert.equal(JSON.parse(summary.errors[0].data).error.type, 'upstream_error');
        const end = await idle.proc.waitForEvent('stream_end', (e) => e.request_id === id);
        assert.equal(end.outcome, 'upstream_error');
        await idle.proc.stop();
      });

  test('many concurrent streams and completions are all answered in full', async () => {
    const tag = nonce();
    const streams = Array.from({length: 16}, async (_, i) => {
      const payload =
          body(`concurrent stream ${i} [[simulate:chunk-delay:20]] ${tag}`, {max_tokens: 20});
      const response = await stream(uncached, payload);
      assertStreamHeaders(response);
      const summary = assertWellFormed(await readSse(response));
      return {id: response.headers.get('x-request-id'), text: summary.text, payload};
    });
    const completions = Array.from({length: 16}, async (_, i) => {
      const result = await complete(uncached, body(`concurrent ${i} ${tag}`, {max_tokens: 20}));
      assert.equal(result.status, 200, result.text);
      return {id: result.json.request_id, text: result.json.content};
    });
    const results = await Promise.all([...streams, ...completions]);
    assert.equal(new Set(results.map((r) => r.id)).size, results.length);
    // Each stream carried its own answer, not a neighbour's.
    for (const {text, payload} of results.slice(0, 16)) {
      const whole = await complete(uncached, payload);
      assert.equal(text, whole.json.content);
    }
  });

  test('a caller disconnect cancels the upstream request at once', async () => {
    await sim.reset();
    const controller = new AbortController();
    const response = await stream(
        service, body(`Long [[simulate:chunk-delay:300]] ${nonce()}`), {signal: controller.signal});
    assertStreamHeaders(response);
    const id = response.headers.get('x-request-id');
    const result = await readSse(response, {
      timeoutMs: 10000,
      stopWhen: (item, items) => items.filter((i) => i.kind === 'event').length >= 2,
    });
    assert.equal(summarizeSse(result).textEvents.length, 2);
    controller.abort();
    // The rest of the answer would take several seconds; the cancel must come long before.
    const stats = await waitForStats(sim, (s) => s.cancelled_by_client >= 1, 3000);
    assert.equal(stats.cancelled_by_client, 1, JSON.stringify(stats));
    assert.equal(stats.completed, 0, JSON.stringify(stats));
    const end = await service.proc.waitForEvent(
        'stream_end', (e) => e.request_id === id, {timeoutMs: 5000});
    assert.equal(end.outcome, 'client_disconnected');
    const idle = await waitForStats(sim, (s) => s.active === 0, 3000);
    assert.equal(idle.active, 0);
    await sleep(50);
  });
});
