// Resilience of the upstream path (issue 3), through the real binary and the simulator's
// fault directives: coalescing of identical misses, cancellation when callers leave, load
// shedding (MAX_CONCURRENT_UPSTREAM and its queue), the stream's first-byte deadline and the
// drain on SIGTERM.
//
// Each test starts its own simulator and service, so the simulator's counters
// (messages_requests, stream_requests, completed, cancelled_by_client, active) belong to it
// alone. Assertions are on those counters, on the HTTP answers and on log lines; time only
// appears as generous "eventually" bounds, and as the order in which things happen where the
// test makes that order certain (a simulated upstream held open for seconds).
//
// Not covered here, on purpose:
// - Retries: retries.test.mjs.
// - Slow-reader backpressure: backpressure.test.mjs (the simulator's bulk directive streams
//   far more than socket buffers hold).
// - UPSTREAM_CONNECT_TIMEOUT_SECONDS: needs an address that swallows SYNs, which loopback
//   cannot provide portably.
import assert from 'node:assert/strict';
import net from 'node:net';
import {after, describe, test} from 'node:test';

import {body, complete, connectionRefused, errorBodyProblem, nonce, rawHttp, rawRequest, readSse, sleep, startService, startSimulator, stopAll, stream, summarizeSse, waitForStats} from './harness.mjs';

const OVERLOADED = 'Service is at capacity. Retry after a moment.';
const SHUTTING_DOWN = 'Service is shutting down.';
const TIMEOUT = 'Upstream AI timeout.';
const UPSTREAM_ERROR = 'Upstream AI error.';

// A fresh simulator and a service pointed at it.
async function fresh(env = {}) {
  const sim = await startSimulator();
  const service = await startService({sim, env});
  return {sim, service};
}

async function stopBoth({sim, service}) {
  await service.proc.stop();
  await sim.proc.stop();
}

// Follows a promise: `settled` turns true once it resolved or rejected.
function track(promise) {
  const tracked = {settled: false, promise};
  promise.then(() => (tracked.settled = true), () => (tracked.settled = true));
  return tracked;
}

// complete() that resolves with {aborted: true} instead of rejecting when its signal fires.
async function abortableComplete(service, payload, controller, headers = {}) {
  try {
    return await complete(service, payload, {signal: controller.signal, headers});
  } catch (error) {
    if (error.name === 'AbortError') return {aborted: true};
    throw error;
  }
}

// Waits until the service has logged `count` events named `event` (e.g. cache_miss, one per
// request that went past the cache), then a moment more for the step that follows the log
// line in the handler (joining a flight, queueing at the gate) to happen.
async function waitForCount(service, event, count, timeoutMs = 10000) {
  const deadline = performance.now() + timeoutMs;
  while (service.proc.events(event).length < count) {
    assert.ok(
        performance.now() < deadline,
        `only ${service.proc.events(event).length} of ${count} ${event} lines`);
    await sleep(20);
  }
  await sleep(200);
}

function assertShed(result, where) {
  assert.equal(result.status, 503, `${where}: ${result.text}`);
  assert.equal(result.headers.get('retry-after'), '1', where);
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/, where);
  assert.equal(errorBodyProblem(result, OVERLOADED), null, `${where}: ${result.text}`);
  assert.equal(result.json.request_id, result.headers.get('x-request-id'), where);
}

// The status, headers and JSON body of a response that is not a stream.
async function asJson(response) {
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {status: response.status, headers: response.headers, text, json};
}

after(stopAll);

// Opens `count` slow streams, reads the first text event of each, then keeps them open
// without reading further: each holds an upstream slot until release() ends it.
async function holdStreams(service, tag, count) {
  const holders = [];
  for (let i = 0; i < count; ++i) {
    const controller = new AbortController();
    const response = await stream(
        service, body(`Long stream ${i} [[simulate:chunk-delay:1000]] ${tag}`),
        {signal: controller.signal});
    assert.equal(response.status, 200);
    const reader = response.body.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0);
    holders.push({controller, reader});
  }
  return holders;
}

// The caller of a held stream leaves.
async function release({controller, reader}) {
  controller.abort();
  await reader.cancel().catch(() => {});
}

describe('coalescing of identical concurrent misses', () => {
  test(
      'ten identical requests make one upstream call: one cached:false, nine cached:true',
      async () => {
        const pair = await fresh();
        const {sim, service} = pair;
        const payload = body(`Coalesce me [[simulate:slow:1500]] ${nonce()}`, {max_tokens: 32});
        const results =
            await Promise.all(Array.from({length: 10}, () => complete(service, payload)));
        for (const result of results) assert.equal(result.status, 200, result.text);
        const leaders = results.filter((r) => r.json.cached === false);
        const joined = results.filter((r) => r.json.cached === true);
        assert.equal(leaders.length, 1, JSON.stringify(results.map((r) => r.json.cached)));
        assert.equal(joined.length, 9);
        const content = leaders[0].json.content;
        assert.ok(content.length > 0);
        for (const result of joined) {
          assert.equal(result.json.content, content);
          assert.deepEqual(result.json.usage, leaders[0].json.usage);
        }
        assert.equal(new Set(results.map((r) => r.json.request_id)).size, 10);

        const stats = await sim.stats();
        assert.equal(stats.messages_requests, 1, JSON.stringify(stats));
        assert.equal(stats.completed, 1, JSON.stringify(stats));
        // Each joined caller says so in the log, under its own request id.
        const joinedIds = new Set(joined.map((r) => r.json.request_id));
        for (const id of joinedIds) {
          await service.proc.waitForEvent('request_coalesced', (e) => e.request_id === id);
        }
        assert.equal(service.proc.events('request_coalesced').length, 9);
        assert.ok(!service.proc.events('request_coalesced')
                       .some((e) => e.request_id === leaders[0].json.request_id));
        await stopBoth(pair);
      });

  test(
      'ten identical requests that fail share the failure: all 502, one upstream call',
      async () => {
        const pair = await fresh({UPSTREAM_MAX_RETRIES: '0'});
        const {sim} = pair;
        const payload = body(
            `Fail together [[simulate:529]] [[simulate:slow:1500]] ${nonce()}`, {max_tokens: 8});
        const results =
            await Promise.all(Array.from({length: 10}, () => complete(pair.service, payload)));
        for (const result of results) {
          assert.equal(result.status, 502, result.text);
          assert.equal(errorBodyProblem(result, UPSTREAM_ERROR), null, result.text);
        }
        assert.equal(new Set(results.map((r) => r.headers.get('x-request-id'))).size, 10);
        const stats = await sim.stats();
        assert.equal(stats.messages_requests, 1, JSON.stringify(stats));
        await stopBoth(pair);
      });

  test('different bodies are not coalesced; neither are streams', async () => {
    const pair = await fresh();
    const {sim, service} = pair;
    const tag = nonce();
    const results = await Promise.all(Array.from(
        {length: 5},
        (_, i) =>
            complete(service, body(`Apart ${i} [[simulate:slow:800]] ${tag}`, {max_tokens: 8}))));
    for (const result of results) {
      assert.equal(result.status, 200, result.text);
      assert.equal(result.json.cached, false);
    }
    let stats = await sim.stats();
    assert.equal(stats.messages_requests, 5, JSON.stringify(stats));
    assert.equal(service.proc.events('request_coalesced').length, 0);

    // Three identical concurrent streams: three upstream streams, each a whole answer.
    const payload = body(`Stream apart [[simulate:slow:800]] ${nonce()}`, {max_tokens: 8});
    const texts = await Promise.all(Array.from({length: 3}, async () => {
      const response = await stream(service, payload);
      assert.equal(response.status, 200);
      const summary = summarizeSse(await readSse(response));
      assert.ok(summary.done, 'no [DONE]');
      return summary.text;
    }));
    assert.equal(new Set(texts).size, 1);
    stats = await sim.stats();
    assert.equal(stats.stream_requests, 3, JSON.stringify(stats));
    await stopBoth(pair);
  });
});

describe('callers that leave', () => {
  test(
      'the first caller of a coalesced group leaves: the others are answered, the call ' +
          'completes upstream',
      async () => {
        const pair = await fresh();
        const {sim, service} = pair;
        const payload = body(`Leader leaves [[simulate:slow:2500]] ${nonce()}`, {max_tokens: 16});
        const leaderId = `leader-${nonce()}`;
        const leader = new AbortController();
        const first = abortableComplete(service, payload, leader, {'X-Request-Id': leaderId});
        // The leader's call is on its way upstream before anyone joins.
        await service.proc.waitForEvent(
            'anthropic_request', (e) => e.request_id === leaderId, {timeoutMs: 5000});
        const others = Array.from({length: 4}, () => complete(service, payload));
        await waitForCount(service, 'cache_miss', 5);
        leader.abort();
        assert.deepEqual(await first, {aborted: true});

        const results = await Promise.all(others);
        for (const result of results) {
          assert.equal(result.status, 200, result.text);
          assert.equal(result.json.cached, true, 'a joined caller is answered as cached');
        }
        assert.equal(new Set(results.map((r) => r.json.content)).size, 1);
        const stats = await waitForStats(sim, (s) => s.active === 0, 5000);
        assert.equal(stats.messages_requests, 1, JSON.stringify(stats));
        assert.equal(stats.completed, 1, JSON.stringify(stats));
        assert.equal(stats.cancelled_by_client, 0, JSON.stringify(stats));
        const gone = await service.proc.waitForEvent(
            'client_disconnected', (e) => e.request_id === leaderId, {timeoutMs: 5000});
        assert.equal(gone.phase, 'upstream_call');
        // The shared answer was stored: the next identical request is a plain cache hit.
        const later = await complete(service, payload);
        assert.equal(later.status, 200, later.text);
        assert.equal(later.json.cached, true);
        assert.equal(later.json.content, results[0].json.content);
        assert.equal((await sim.stats()).messages_requests, 1);
        await stopBoth(pair);
      });

  test('every caller of a coalesced group leaves: the upstream call is cancelled', async () => {
    const pair = await fresh();
    const {sim, service} = pair;
    const payload = body(`Everyone leaves [[simulate:slow:10000]] ${nonce()}`, {max_tokens: 16});
    const controllers = Array.from({length: 3}, () => new AbortController());
    const calls = controllers.map((controller) => abortableComplete(service, payload, controller));
    await waitForCount(service, 'cache_miss', 3);
    let stats = await waitForStats(sim, (s) => s.active === 1, 5000);
    assert.equal(stats.active, 1, JSON.stringify(stats));
    for (const controller of controllers) controller.abort();
    for (const outcome of await Promise.all(calls)) assert.deepEqual(outcome, {aborted: true});

    // The simulator would answer after 10 s: the cancel comes long before.
    stats = await waitForStats(sim, (s) => s.cancelled_by_client >= 1 && s.active === 0, 4000);
    assert.equal(stats.cancelled_by_client, 1, JSON.stringify(stats));
    assert.equal(stats.active, 0, JSON.stringify(stats));
    assert.equal(stats.completed, 0, JSON.stringify(stats));
    assert.equal(stats.messages_requests, 1, JSON.stringify(stats));
    // The key is free again: the same request starts new upstream work instead of joining
    // the cancelled flight.
    const controller = new AbortController();
    const again = abortableComplete(service, payload, controller);
    stats = await waitForStats(sim, (s) => s.messages_requests === 2 && s.active === 1, 5000);
    assert.equal(stats.messages_requests, 2, JSON.stringify(stats));
    assert.equal(stats.active, 1, JSON.stringify(stats));
    controller.abort();
    assert.deepEqual(await again, {aborted: true});
    stats = await waitForStats(sim, (s) => s.cancelled_by_client === 2 && s.active === 0, 4000);
    assert.equal(stats.cancelled_by_client, 2, JSON.stringify(stats));
    await stopBoth(pair);
  });

  test('a lone non-streaming caller that leaves cancels its upstream call', async () => {
    const pair = await fresh();
    const {sim, service} = pair;
    const id = `alone-${nonce()}`;
    const controller = new AbortController();
    const pending = abortableComplete(
        service, body(`Leaving [[simulate:slow:5000]] ${nonce()}`, {max_tokens: 16}), controller,
        {'X-Request-Id': id});
    await service.proc.waitForEvent('anthropic_request', (e) => e.request_id === id);
    let stats = await waitForStats(sim, (s) => s.active === 1, 5000);
    assert.equal(stats.active, 1, JSON.stringify(stats));
    controller.abort();
    assert.deepEqual(await pending, {aborted: true});
    stats = await waitForStats(sim, (s) => s.cancelled_by_client >= 1 && s.active === 0, 3000);
    assert.equal(stats.cancelled_by_client, 1, JSON.stringify(stats));
    assert.equal(stats.active, 0, JSON.stringify(stats));
    assert.equal(stats.completed, 0, JSON.stringify(stats));
    const gone = await service.proc.waitForEvent('client_disconnected', (e) => e.request_id === id);
    assert.equal(gone.phase, 'upstream_call');
    const access = await service.proc.waitForEvent('http_request', (e) => e.request_id === id);
    assert.equal(access.status, 499);
    await stopBoth(pair);
  });

  test(
      'a caller that leaves during its second request on a kept-alive connection cancels ' +
          'that upstream call',
      async () => {
        // The service keeps one readiness wait per connection armed between requests
        // (http/caller_monitor.hpp): the first answer must not use it up, and the second
        // request's watch must still see the caller go.
        const pair = await fresh();
        const {sim, service} = pair;
        const socket = net.connect({host: '127.0.0.1', port: service.port});
        await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        let received = Buffer.alloc(0);
        socket.on('data', (chunk) => (received = Buffer.concat([received, chunk])));
        const send = (text, id) => socket.write(rawRequest('POST', '/v1/completions', {
          headers: [['X-API-Key', service.key], ['Content-Type', 'application/json'],
                    ['X-Request-Id', id]],
          body: JSON.stringify(body(text, {max_tokens: 8})),
        }));

        const first = `kept-first-${nonce()}`;
        send(`Kept alive ${nonce()}`, first);
        const answered = await service.proc.waitForEvent('http_request', (e) => e.request_id === first);
        assert.equal(answered.status, 200);
        for (let i = 0; i < 100 && !/\r\n\r\n\{[^]*\}$/.test(received.toString()); ++i) await sleep(20);
        assert.match(received.toString(), /^HTTP\/1\.1 200 /);

        const second = `kept-second-${nonce()}`;
        send(`Kept alive, leaving [[simulate:slow:5000]] ${nonce()}`, second);
        await service.proc.waitForEvent('anthropic_request', (e) => e.request_id === second);
        let stats = await waitForStats(sim, (s) => s.active === 1, 5000);
        assert.equal(stats.active, 1, JSON.stringify(stats));
        socket.destroy();
        stats = await waitForStats(sim, (s) => s.cancelled_by_client >= 1 && s.active === 0, 3000);
        assert.equal(stats.cancelled_by_client, 1, JSON.stringify(stats));
        assert.equal(stats.completed, 1, JSON.stringify(stats));  // The first answer only.
        const gone =
            await service.proc.waitForEvent('client_disconnected', (e) => e.request_id === second);
        assert.equal(gone.phase, 'upstream_call');
        await stopBoth(pair);
      });
});

describe('load shedding', () => {
  // Two slots, one place in the queue. The queue timeout is long enough (2 s) that a waiting
  // request is certainly still waiting while the test sends the ones that must be refused at
  // once, so their order, not a clock, tells "refused at once" from "refused after waiting".
  const SHED_ENV = {
    MAX_CONCURRENT_UPSTREAM: '2',
    UPSTREAM_QUEUE_MAX: '1',
    UPSTREAM_QUEUE_TIMEOUT_MS: '2000',
  };

  test(
      'completions: past the slots and the queue, 503 with Retry-After; health and cache ' +
          'hits still served; slots come back when the holders leave',
      async () => {
        const pair = await fresh(SHED_ENV);
        const {sim, service} = pair;
        const tag = nonce();
        const cachedPayload = body(`Cached before the storm ${tag}`, {max_tokens: 16});
        const primed = await complete(service, cachedPayload);
        assert.equal(primed.status, 200, primed.text);

        const holders = [new AbortController(), new AbortController()];
        const held = holders.map(
            (controller, i) => abortableComplete(
                service, body(`Holder ${i} [[simulate:hang]] ${tag}`), controller));
        let stats = await waitForStats(sim, (s) => s.active === 2, 5000);
        assert.equal(stats.active, 2, JSON.stringify(stats));

        // Takes the only place in the queue.
        const waiting = track(complete(service, body(`Waiter ${tag}`, {max_tokens: 8})));
        await waitForCount(service, 'cache_miss', 4);  // primed, two holders, the waiter.
        assert.equal(waiting.settled, false, 'the queued request was answered at once');

        // The queue is full: these two are refused at once, while the waiter still waits.
        const [fourth, fifth, health, hit] = await Promise.all([
          complete(service, body(`Fourth ${tag}`, {max_tokens: 8})),
          complete(service, body(`Fifth ${tag}`, {max_tokens: 8})),
          rawHttp(
              service.port, [rawRequest('GET', '/health', {headers: [['Connection', 'close']]})]),
          complete(service, cachedPayload),
        ]);
        assert.equal(waiting.settled, false, 'the full queue did not refuse at once');
        assertShed(fourth, 'fourth');
        assertShed(fifth, 'fifth');
        assert.equal(health.response?.status, 200, health.raw.toString());
        assert.equal(hit.status, 200, hit.text);
        assert.equal(hit.json.cached, true);
        assert.equal(hit.json.content, primed.json.content);

        // The waiter's time runs out: 503 too.
        assertShed(await waiting.promise, 'queued past UPSTREAM_QUEUE_TIMEOUT_MS');
        stats = await sim.stats();
        assert.equal(
            stats.messages_requests, 3,
            `shed requests reached the upstream: ${JSON.stringify(stats)}`);

        // The holders leave: their upstream calls are cancelled and their slots freed.
        for (const controller of holders) controller.abort();
        for (const outcome of await Promise.all(held)) assert.deepEqual(outcome, {aborted: true});
        stats = await waitForStats(sim, (s) => s.active === 0 && s.cancelled_by_client >= 2, 4000);
        assert.equal(stats.active, 0, JSON.stringify(stats));
        assert.equal(stats.cancelled_by_client, 2, JSON.stringify(stats));
        // Two slots and the queue again: three at once are all answered.
        const after = await Promise.all(Array.from(
            {length: 3},
            (_, i) => complete(
                service, body(`After ${i} [[simulate:slow:300]] ${tag}`, {max_tokens: 8}))));
        for (const result of after) assert.equal(result.status, 200, result.text);
        await stopBoth(pair);
      });

  test('a stream queued for a slot whose caller leaves gives up its place at once', async () => {
    // A queue timeout far beyond the test: only the caller's departure can end the wait.
    const pair = await fresh({...SHED_ENV, UPSTREAM_QUEUE_TIMEOUT_MS: '30000'});
    const {sim, service} = pair;
    const tag = nonce();
    const holders = await holdStreams(service, tag, 2);

    const id = `queued-leaver-${nonce()}`;
    const leaver = new AbortController();
    const queued = stream(service, body(`Queued, leaving ${tag}`, {max_tokens: 8}),
                          {signal: leaver.signal, headers: {'X-Request-Id': id}})
                       .catch((error) => error.name);
    await waitForCount(service, 'cache_miss', 3);
    leaver.abort();
    assert.equal(await queued, 'AbortError');
    const end = await service.proc.waitForEvent('stream_end', (e) => e.request_id === id);
    assert.equal(end.outcome, 'client_disconnected');

    // The place in the queue is free again: the next request waits there instead of being
    // refused at once, and is served when a holder ends.
    const next = track(complete(service, body(`After the leaver ${tag}`, {max_tokens: 8})));
    await sleep(300);
    assert.equal(next.settled, false, 'the departed stream still held the only place in the queue');
    await release(holders[0]);
    assert.equal((await next.promise).status, 200);
    assert.equal((await sim.stats()).stream_requests, 2);

    await release(holders[1]);
    await stopBoth(pair);
  });

  test('a stream holds a slot for its whole life; its slot comes back when it ends', async () => {
    const pair = await fresh(SHED_ENV);
    const {sim, service} = pair;
    const tag = nonce();
    const holders = await holdStreams(service, tag, 2);
    let stats = await waitForStats(sim, (s) => s.active === 2, 5000);
    assert.equal(stats.active, 2, JSON.stringify(stats));

    // A third stream queues; a completion behind it finds the queue full.
    const waiting =
        track(stream(service, body(`Queued stream ${tag}`, {max_tokens: 8})).then(asJson));
    await waitForCount(service, 'cache_miss', 3);
    const refused = await complete(service, body(`Refused completion ${tag}`, {max_tokens: 8}));
    assert.equal(waiting.settled, false, 'the queued stream was answered before the queue filled');
    assertShed(refused, 'completion behind a queued stream');
    const queued = await waiting.promise;
    assert.notEqual(queued.headers.get('content-type'), 'text/event-stream');
    assertShed(queued, 'stream past UPSTREAM_QUEUE_TIMEOUT_MS');
    assert.equal((await sim.stats()).stream_requests, 2);

    for (const holder of holders) await release(holder);
    stats = await waitForStats(sim, (s) => s.active === 0, 4000);
    assert.equal(stats.active, 0, JSON.stringify(stats));
    // Both slots are free: two streams and a completion are all served.
    const results = await Promise.all([
      ...[0, 1].map(async (i) => {
        const response = await stream(service, body(`Fresh stream ${i} ${tag}`, {max_tokens: 8}));
        assert.equal(response.status, 200);
        return summarizeSse(await readSse(response)).done;
      }),
      complete(service, body(`Fresh completion ${tag}`, {max_tokens: 8})).then((r) => r.status),
    ]);
    assert.deepEqual(results, [true, true, 200]);
    await stopBoth(pair);
  });
});

describe('deadlines', () => {
  test(
      'UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: a stream whose upstream sends no head in time ' +
          'is a 504 before any byte, and the upstream call is cancelled',
      async () => {
        const pair = await fresh({UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '1'});
        const {sim, service} = pair;
        const response = await stream(service, body(`Late head [[simulate:slow:4000]] ${nonce()}`));
        const result = await asJson(response);
        assert.equal(result.status, 504, result.text);
        assert.notEqual(result.headers.get('content-type'), 'text/event-stream');
        assert.equal(errorBodyProblem(result, TIMEOUT), null, result.text);
        // Had the upstream call been left open, the simulator would answer at 4 s and count
        // it completed.
        const stats = await waitForStats(sim, (s) => s.active === 0, 8000);
        assert.equal(stats.active, 0, JSON.stringify(stats));
        assert.equal(stats.cancelled_by_client, 1, JSON.stringify(stats));
        assert.equal(stats.completed, 0, JSON.stringify(stats));
        await stopBoth(pair);
      });

  test(
      'the first-byte deadline covers only the head: slow deltas after it are relayed',
      async () => {
        const pair = await fresh({UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '1'});
        const {sim, service} = pair;
        const response = await stream(
            service, body(`Slow deltas [[simulate:chunk-delay:1200]] ${nonce()}`, {max_tokens: 3}));
        assert.equal(response.status, 200);
        const summary = summarizeSse(await readSse(response, {timeoutMs: 20000}));
        assert.ok(summary.done, 'no [DONE]');
        assert.equal(summary.errors.length, 0);
        assert.equal(summary.textEvents.length, 3);
        const stats = await waitForStats(sim, (s) => s.completed === 1, 3000);
        assert.equal(stats.completed, 1, JSON.stringify(stats));
        await stopBoth(pair);
      });

  test('UPSTREAM_TIMEOUT_SECONDS: the 504 also ends the upstream call', async () => {
    const pair = await fresh({UPSTREAM_TIMEOUT_SECONDS: '1'});
    const {sim, service} = pair;
    const result = await complete(service, body(`Never [[simulate:hang]] ${nonce()}`));
    assert.equal(result.status, 504, result.text);
    assert.equal(errorBodyProblem(result, TIMEOUT), null, result.text);
    const stats = await waitForStats(sim, (s) => s.active === 0, 3000);
    assert.equal(
        stats.active, 0, `the hanging upstream call was left open: ${JSON.stringify(stats)}`);
    assert.equal(stats.cancelled_by_client, 1, JSON.stringify(stats));
    await stopBoth(pair);
  });
});

describe('drain on SIGTERM', () => {
  const readiness = (port) =>
      rawHttp(port, [rawRequest('GET', '/health/ready', {headers: [['Connection', 'close']]})]);
  const liveness = (port) =>
      rawHttp(port, [rawRequest('GET', '/health', {headers: [['Connection', 'close']]})]);

  test(
      'readiness turns 503 at once, connections are taken during the accept delay, then ' +
          'refused; in-flight work finishes; exit 0',
      async () => {
        const pair =
            await fresh({SHUTDOWN_ACCEPT_DELAY_SECONDS: '1', SHUTDOWN_GRACE_SECONDS: '10'});
        const {service} = pair;
        const ready = await readiness(service.port);
        assert.equal(ready.response?.status, 200, ready.raw.toString());

        const streamId = `drain-stream-${nonce()}`;
        const completionId = `drain-completion-${nonce()}`;
        const response = await stream(
            service, body(`Drain me [[simulate:chunk-delay:200]] ${nonce()}`, {max_tokens: 20}),
            {headers: {'X-Request-Id': streamId}});
        assert.equal(response.status, 200);
        let doneSeen = false;
        let firstEvent;
        const firstSeen = new Promise((resolve) => (firstEvent = resolve));
        const reading = readSse(response, {
          timeoutMs: 30000,
          onItem: (item) => {
            if (item.kind !== 'event') return;
            firstEvent();
            if (item.data === '[DONE]') doneSeen = true;
          },
        });
        const completion = complete(
            service, body(`Drain my answer [[simulate:slow:1500]] ${nonce()}`, {max_tokens: 8}),
            {headers: {'X-Request-Id': completionId}});
        await firstSeen;
        await service.proc.waitForEvent('anthropic_request', (e) => e.request_id === completionId);

        service.proc.signal('SIGTERM');
        await service.proc.waitForEvent('service_draining', () => true, {timeoutMs: 5000});
        // Within the accept delay a new connection is still taken, and told "not ready"
        // while liveness stays 200.
        const [notReady, alive] =
            await Promise.all([readiness(service.port), liveness(service.port)]);
        assert.equal(notReady.response?.status, 503, notReady.raw.toString());
        assert.equal(JSON.parse(notReady.response.body).status, 'draining');
        assert.equal(alive.response?.status, 200, alive.raw.toString());

        // Then the listener closes, while the stream is still flowing.
        const signalled = performance.now();
        let refused = false;
        while (!refused && !doneSeen && performance.now() - signalled < 5000) {
          refused = await connectionRefused(service.port);
          if (!refused) await sleep(50);
        }
        assert.ok(refused, 'new connections were still accepted after the accept delay');
        assert.equal(doneSeen, false, 'the listener closed only after the stream had ended');

        const result = await reading;
        const summary = summarizeSse(result);
        assert.equal(result.error, null, String(result.error));
        assert.ok(summary.done && summary.doneIsLast, result.raw.slice(-300));
        assert.equal(summary.errors.length, 0);
        const answered = await completion;
        assert.equal(answered.status, 200, answered.text);
        assert.equal(answered.json.cached, false);

        assert.deepEqual(await service.proc.waitExit(15000), {code: 0, signal: null});
        const end = service.proc.events('stream_end').find((e) => e.request_id === streamId);
        assert.equal(end?.outcome, 'completed');
        const shutdown = service.proc.events('service_shutdown');
        assert.equal(shutdown.length, 1);
        assert.equal(shutdown[0].drained, true);
        await pair.sim.proc.stop();
      });

  test(
      'past the grace period a stream ends with event: error and a waiting completion gets ' +
          '503; never a silent cut; exit 0',
      async () => {
        const pair = await fresh({SHUTDOWN_GRACE_SECONDS: '1'});
        const {service} = pair;
        const streamId = `cut-stream-${nonce()}`;
        const completionId = `cut-completion-${nonce()}`;
        // 40-80 words, one every 500 ms: far beyond the grace period.
        const response = await stream(
            service, body(`Too long [[simulate:chunk-delay:500]] ${nonce()}`),
            {headers: {'X-Request-Id': streamId}});
        assert.equal(response.status, 200);
        let firstEvent;
        const firstSeen = new Promise((resolve) => (firstEvent = resolve));
        const reading = readSse(response, {
          timeoutMs: 20000,
          onItem: (item) => item.kind === 'event' && firstEvent(),
        });
        const completion = complete(
            service, body(`Forever [[simulate:hang]] ${nonce()}`),
            {headers: {'X-Request-Id': completionId}});
        await firstSeen;
        await service.proc.waitForEvent('anthropic_request', (e) => e.request_id === completionId);

        service.proc.signal('SIGTERM');
        const result = await reading;
        const summary = summarizeSse(result);
        assert.equal(summary.done, false, 'a cut stream must not end with [DONE]');
        assert.ok(summary.textEvents.length >= 1);
        assert.equal(summary.errors.length, 1, result.raw.slice(-500));
        assert.equal(summary.events.at(-1).event, 'error', 'the error event is the last event');
        const error = JSON.parse(summary.errors[0].data);
        assert.equal(error.type, 'error');
        assert.equal(error.error.message, SHUTTING_DOWN);

        const answered = await completion;
        assert.equal(answered.status, 503, answered.text);
        assert.equal(errorBodyProblem(answered, SHUTTING_DOWN), null, answered.text);

        assert.deepEqual(await service.proc.waitExit(15000), {code: 0, signal: null});
        const end = service.proc.events('stream_end').find((e) => e.request_id === streamId);
        assert.equal(end?.outcome, 'server_shutdown', JSON.stringify(end));
        const shutdown = service.proc.events('service_shutdown');
        assert.equal(shutdown.length, 1);
        assert.equal(shutdown[0].drained, false);
        await pair.sim.proc.stop();
      });
});
