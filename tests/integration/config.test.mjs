// Configuration (CONTRACT.md section 9): environment over ./.env, bad settings stop the
// service before it binds with one stderr line per bad variable, and the quick start
// against the built-in simulator when development has no ANTHROPIC_API_KEY.
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';

import {body, complete, connectionRefused, freePort, makeTempDir, nonce, readSse, sleep, spawnBinary, startService, startSimulator, stopAll, stream, summarizeSse} from './harness.mjs';

// Runs `serve` with exactly `env` (plus PATH) in a fresh directory (optionally holding a
// .env) and waits for it to exit. While it runs, probes `probePort` to prove it never binds.
async function runFailingServe(env, {dotenv, probePort} = {}) {
  const cwd = makeTempDir();
  if (dotenv !== undefined) writeFileSync(path.join(cwd, '.env'), dotenv);
  const proc = spawnBinary('service', ['serve'], {env, cwd});
  let bound = false;
  const probing = (async () => {
    while (probePort && !proc.exitInfo) {
      if (!(await connectionRefused(probePort, 500))) bound = true;
      await sleep(10);
    }
  })();
  const exit = await proc.waitExit(10000);
  await probing;
  return {proc, exit, bound, stderrLines: proc.stderr.split('\n').filter((l) => l.trim())};
}

const names = (line, variable) => new RegExp(`(^|[^A-Z_])${variable}([^A-Z_]|$)`).test(line);

function assertNamed(stderrLines, variables) {
  for (const variable of variables) {
    const own = stderrLines.filter(
        (line) => names(line, variable) &&
            variables.every((other) => other === variable || !names(line, other)));
    assert.ok(
        own.length >= 1, `no stderr line of its own names ${variable}:\n${stderrLines.join('\n')}`);
  }
}

describe('configuration errors stop the service before it binds', () => {
  let sim;
  before(async () => {
    sim = await startSimulator();
  });
  after(stopAll);

  const base = () => ({
    HOST: '127.0.0.1',
    ENVIRONMENT: 'development',
    SERVICE_API_KEY: 'test-service-key',
    ANTHROPIC_API_KEY: sim.apiKey,
    ANTHROPIC_BASE_URL: sim.url,
  });

  const ROWS = [
    {name: 'PORT=abc', env: {PORT: 'abc'}, bad: ['PORT']},
    {name: 'PORT=70000', env: {PORT: '70000'}, bad: ['PORT']},
    {name: 'ENVIRONMENT=prod', env: {ENVIRONMENT: 'prod'}, bad: ['ENVIRONMENT']},
    {
      name: 'staging without ANTHROPIC_API_KEY',
      env: {ENVIRONMENT: 'staging', ANTHROPIC_API_KEY: undefined},
      bad: ['ANTHROPIC_API_KEY']
    },
    {
      name: 'production without ANTHROPIC_API_KEY',
      env: {ENVIRONMENT: 'production', ANTHROPIC_API_KEY: undefined},
      bad: ['ANTHROPIC_API_KEY']
    },
    {name: 'LOG_LEVEL=LOUD', env: {LOG_LEVEL: 'LOUD'}, bad: ['LOG_LEVEL']},
    {
      name: 'several at once',
      env: {
        ENVIRONMENT: 'prod',
        LOG_LEVEL: 'LOUD',
        CACHE_TTL_SECONDS: 'soon',
        UPSTREAM_TIMEOUT_SECONDS: 'abc'
      },
      bad: ['ENVIRONMENT', 'LOG_LEVEL', 'CACHE_TTL_SECONDS', 'UPSTREAM_TIMEOUT_SECONDS']
    },
  ];
  for (const row of ROWS) {
    test(
        `${row.name}: non-zero exit, ${row.bad.join(', ')} named on stderr, port never bound`,
        async () => {
          const port = await freePort();
          const env = {PORT: String(port), ...base(), ...row.env};
          const {proc, exit, bound, stderrLines} = await runFailingServe(env, {probePort: port});
          assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
          assert.equal(exit.signal, null);
          assertNamed(stderrLines, row.bad);
          assert.equal(bound, false, 'the port was bound');
          assert.equal(proc.events('service_startup').length, 0);
          assert.ok(!proc.stderr.includes(sim.apiKey), 'a key on stderr');
          assert.ok(!proc.stdoutRaw.includes(sim.apiKey), 'a key on stdout');
        });
  }

  test('a bad value in ./.env is reported the same way', async () => {
    const port = await freePort();
    const {exit, stderrLines} = await runFailingServe(
        {...base(), PORT: String(port)}, {dotenv: 'CACHE_TTL_SECONDS=forever\n'});
    assert.notEqual(exit.code, 0);
    assertNamed(stderrLines, ['CACHE_TTL_SECONDS']);
  });
});

describe('configuration sources and effects', () => {
  let sim;
  before(async () => {
    sim = await startSimulator();
  });
  after(stopAll);

  test('service_startup reports environment, default model, cache TTL and upstream', async () => {
    const service = await startService({sim});
    const {startup} = service;
    assert.equal(startup.environment, 'development');
    assert.equal(startup.default_model, 'claude-sonnet-4-6');
    assert.equal(Number(startup.cache_ttl_seconds), 300);
    assert.equal(typeof startup.upstream, 'string');
    assert.ok(startup.upstream.includes(`127.0.0.1:${sim.port}`), startup.upstream);
    await service.proc.stop();
  });

  test('./.env is read and the environment wins over it', async () => {
    const service = await startService({
      sim,
      env: {CACHE_TTL_SECONDS: '7'},
      dotenv: '# a comment\nDEFAULT_MODEL="claude-from-dotenv"\nCACHE_TTL_SECONDS=42\n\n',
    });
    assert.equal(service.startup.default_model, 'claude-from-dotenv');
    assert.equal(Number(service.startup.cache_ttl_seconds), 7);
    const result = await complete(service, body(`dotenv ${nonce()}`, {max_tokens: 8}));
    assert.equal(result.status, 200, result.text);
    assert.equal(result.json.model, 'claude-from-dotenv');
    await service.proc.stop();
  });

  test('MAX_TOKENS_LIMIT is the validator ceiling', async () => {
    const service =
        await startService({sim, env: {MAX_TOKENS_LIMIT: '100', DEFAULT_MAX_TOKENS: '50'}});
    const ok = await complete(service, body(`limit ${nonce()}`, {max_tokens: 100}));
    assert.equal(ok.status, 200, ok.text);
    const over = await complete(service, body(`limit ${nonce()}`, {max_tokens: 101}));
    assert.equal(over.status, 422, over.text);
    assert.equal(over.json.detail[0].type, 'less_than_equal');
    await service.proc.stop();
  });
});

describe('quick start: development without ANTHROPIC_API_KEY runs the built-in simulator', () => {
  after(stopAll);

  test('the first log line says so; dev-local-key is the caller key', async () => {
    const service = await startService({
      env: {
        ANTHROPIC_API_KEY: undefined,
        ANTHROPIC_BASE_URL: undefined,
        SERVICE_API_KEY: undefined,
        SIMULATOR_CHUNK_DELAY_MS: '0'
      },
    });
    const first = service.proc.lines[0];
    assert.equal(first.json?.event, 'simulator_mode', `first line: ${first.raw}`);
    assert.equal(service.key, undefined);
    const keyed = {...service, key: 'dev-local-key'};
    const result = await complete(keyed, body(`quick start ${nonce()}`, {max_tokens: 16}));
    assert.equal(result.status, 200, result.text);
    assert.ok(result.json.content.length > 0);
    const streamed = await stream(keyed, body(`quick stream ${nonce()}`, {max_tokens: 16}));
    assert.equal(streamed.status, 200);
    assert.ok(summarizeSse(await readSse(streamed)).done);
    const wrong = await complete({...service, key: 'test-service-key'}, body('x'));
    assert.equal(wrong.status, 403);
    await service.proc.stop();
  });

  test('with SERVICE_API_KEY set, that key is the one accepted', async () => {
    const service = await startService({
      env: {
        ANTHROPIC_API_KEY: undefined,
        ANTHROPIC_BASE_URL: undefined,
        ENVIRONMENT: undefined,
        SERVICE_API_KEY: 'my-own-key'
      },
    });
    assert.equal(service.proc.lines[0].json?.event, 'simulator_mode');
    const ok = await complete(service, body(`own key ${nonce()}`, {max_tokens: 8}));
    assert.equal(ok.status, 200, ok.text);
    const devKey = await complete({...service, key: 'dev-local-key'}, body('x'));
    assert.equal(devKey.status, 403);
    await service.proc.stop();
  });

  test('with ANTHROPIC_API_KEY set there is no simulator_mode line', async () => {
    const sim = await startSimulator();
    const service = await startService({sim});
    assert.equal(service.proc.events('simulator_mode').length, 0);
    await service.proc.stop();
  });
});
