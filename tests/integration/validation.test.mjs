// Validation of the request body (CONTRACT.md section 3): 422 with every problem, in
// pydantic v2's shape.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {body, callJson, complete, nonce, startSimulatorAndService, stopAll} from './harness.mjs';

// Asserts a 422 whose detail lists (at least) every expected {types, loc} problem, where
// `types` is the accepted type name (or names) and `loc` the exact location (or a prefix
// check when `locPrefix` is set). Returns the detail array.
function assert422(result, expected, {exactCount} = {}) {
  assert.equal(result.status, 422, result.text);
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(result.headers.get('x-request-id'), 'X-Request-Id on a 422');
  const detail = result.json?.detail;
  assert.ok(Array.isArray(detail), `detail is not an array: ${result.text}`);
  for (const item of detail) {
    assert.equal(typeof item.type, 'string', result.text);
    assert.equal(typeof item.msg, 'string', result.text);
    assert.ok(item.msg.length > 0, result.text);
    assert.ok(
        Array.isArray(item.loc) && item.loc[0] === 'body',
        `loc must start with body: ${result.text}`);
  }
  for (const want of expected) {
    const types = [want.type].flat();
    const found = detail.some(
        (item) => types.includes(item.type) &&
            (want.loc === undefined || JSON.stringify(item.loc) === JSON.stringify(want.loc)));
    assert.ok(found, `expected ${JSON.stringify(want)} in ${result.text}`);
  }
  if (exactCount !== undefined) assert.equal(detail.length, exactCount, result.text);
  return detail;
}

const user = (content) => ({role: 'user', content});
const assistant = (content) => ({role: 'assistant', content});

describe('validation', () => {
  let service;
  before(async () => ({service} = await startSimulatorAndService()));
  after(stopAll);

  // Each row: a body (object, or raw text) and the problems expected in the 422.
  const rows = [
    {name: 'messages missing', json: {}, want: [{type: 'missing', loc: ['body', 'messages']}]},
    {
      name: 'messages empty',
      json: {messages: []},
      want: [{type: 'too_short', loc: ['body', 'messages']}],
      exactCount: 1
    },
    {
      name: '51 messages',
      json: {messages: Array.from({length: 51}, (_, i) => user(`m${i}`))},
      want: [{type: 'too_long', loc: ['body', 'messages']}]
    },
    {
      name: 'messages not a list',
      json: {messages: 'hello'},
      want: [{type: 'list_type', loc: ['body', 'messages']}]
    },
    {
      name: 'a message not an object',
      json: {messages: ['hello']},
      want: [{type: ['model_type', 'dict_type'], loc: ['body', 'messages', 0]}]
    },
    {
      name: 'role not user/assistant',
      json: {messages: [{role: 'system', content: 'x'}]},
      want: [{type: 'literal_error', loc: ['body', 'messages', 0, 'role']}]
    },
    {
      name: 'role missing',
      json: {messages: [{content: 'x'}]},
      want: [{type: 'missing', loc: ['body', 'messages', 0, 'role']}]
    },
    {
      name: 'content missing',
      json: {messages: [{role: 'user'}]},
      want: [{type: 'missing', loc: ['body', 'messages', 0, 'content']}]
    },
    {
      name: 'content empty',
      json: {messages: [user('')]},
      want: [{type: 'string_too_short', loc: ['body', 'messages', 0, 'content']}]
    },
    {
      name: 'content not a string',
      json: {messages: [user(5)]},
      want: [{type: 'string_type', loc: ['body', 'messages', 0, 'content']}]
    },
    {
      name: 'assistant last',
      json: {messages: [user('hi'), assistant('hello')]},
      want: [{type: 'value_error'}],
      exactCount: 1
    },
    {
      name: 'system not a string',
      json: {messages: [user('x')], system: 5},
      want: [{type: 'string_type', loc: ['body', 'system']}]
    },
    {
      name: 'system over 100,000',
      json: {messages: [user('x')], system: 's'.repeat(100001)},
      want: [{type: 'string_too_long', loc: ['body', 'system']}]
    },
    {
      name: 'model empty',
      json: {messages: [user('x')], model: ''},
      want: [{type: 'string_too_short', loc: ['body', 'model']}]
    },
    {
      name: 'model not a string',
      json: {messages: [user('x')], model: 7},
      want: [{type: 'string_type', loc: ['body', 'model']}]
    },
    {
      name: 'max_tokens 0',
      json: {messages: [user('x')], max_tokens: 0},
      want: [{type: 'greater_than_equal', loc: ['body', 'max_tokens']}]
    },
    {
      name: 'max_tokens over the limit',
      json: {messages: [user('x')], max_tokens: 8097},
      want: [{type: 'less_than_equal', loc: ['body', 'max_tokens']}]
    },
    {
      name: 'max_tokens a string',
      json: {messages: [user('x')], max_tokens: '5'},
      want: [{type: 'int_type', loc: ['body', 'max_tokens']}]
    },
    {
      name: 'max_tokens fractional',
      json: {messages: [user('x')], max_tokens: 5.5},
      want: [{type: ['int_type', 'int_from_float'], loc: ['body', 'max_tokens']}]
    },
    {
      name: 'max_tokens boolean',
      json: {messages: [user('x')], max_tokens: true},
      want: [{type: 'int_type', loc: ['body', 'max_tokens']}]
    },
    {
      name: 'temperature over 1',
      json: {messages: [user('x')], temperature: 1.5},
      want: [{type: 'less_than_equal', loc: ['body', 'temperature']}]
    },
    {
      name: 'temperature negative',
      json: {messages: [user('x')], temperature: -0.1},
      want: [{type: 'greater_than_equal', loc: ['body', 'temperature']}]
    },
    {
      name: 'temperature a string',
      json: {messages: [user('x')], temperature: '0.5'},
      want: [{type: 'float_type', loc: ['body', 'temperature']}]
    },
    {
      name: 'cache_system a string',
      json: {messages: [user('x')], cache_system: 'yes'},
      want: [{type: 'bool_type', loc: ['body', 'cache_system']}]
    },
    {
      name: 'cache_system a number',
      json: {messages: [user('x')], cache_system: 1},
      want: [{type: 'bool_type', loc: ['body', 'cache_system']}]
    },
    {name: 'body an array', raw: '[]', want: [{type: 'model_type', loc: ['body']}]},
    {name: 'body a string', raw: '"hello"', want: [{type: 'model_type', loc: ['body']}]},
  ];
  for (const row of rows) {
    test(`422: ${row.name}`, async () => {
      const options = row.raw !== undefined ? {raw: row.raw} : {json: row.json};
      const result = await callJson(service, '/v1/completions', options);
      assert422(result, row.want, {exactCount: row.exactCount});
    });
  }

  test('every problem is reported, not only the first', async () => {
    const result = await complete(service, {messages: [], temperature: 2, max_tokens: 0});
    assert422(
        result,
        [
          {type: 'too_short', loc: ['body', 'messages']},
          {type: 'less_than_equal', loc: ['body', 'temperature']},
          {type: 'greater_than_equal', loc: ['body', 'max_tokens']},
        ],
        {exactCount: 3});
  });

  test('problems inside several messages are all reported with their index', async () => {
    const result = await complete(service, {
      messages: [{role: 'bot', content: ''}, {role: 'user'}],
      cache_system: 'no',
    });
    assert422(result, [
      {type: 'literal_error', loc: ['body', 'messages', 0, 'role']},
      {type: 'string_too_short', loc: ['body', 'messages', 0, 'content']},
      {type: 'missing', loc: ['body', 'messages', 1, 'content']},
      {type: 'bool_type', loc: ['body', 'cache_system']},
    ]);
  });

  test('malformed JSON is one json_invalid item at ["body", <byte offset>]', async () => {
    for (const raw of ['{"messages": [', '{messages: []}', '{"messages": []} trailing', '']) {
      const result = await callJson(service, '/v1/completions', {raw});
      if (raw === '' && result.json?.detail?.[0]?.type === 'missing') {
        // An empty body is also "the body is missing" in FastAPI terms; both are fine.
        assert.equal(result.status, 422);
        continue;
      }
      const detail = assert422(result, [{type: 'json_invalid'}], {exactCount: 1});
      assert.equal(detail[0].loc.length, 2, result.text);
      assert.ok(Number.isInteger(detail[0].loc[1]) && detail[0].loc[1] >= 0, result.text);
    }
  });

  test('absurdly deep nesting is a 422, not a crash', async () => {
    const depth = 100000;
    const raw =
        `{"messages":[{"role":"user","content":"x"}],"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const result = await callJson(service, '/v1/completions', {raw});
    assert.equal(result.status, 422, result.text.slice(0, 300));
    const health = await callJson(service, '/health', {key: null});
    assert.equal(health.status, 200);
  });

  test('invalid UTF-8 is a 422', async () => {
    const prefix = Buffer.from('{"messages":[{"role":"user","content":"bad ');
    const suffix = Buffer.from('"}]}');
    const raw = Buffer.concat([prefix, Buffer.from([0xc3, 0x28, 0xff]), suffix]);
    const result = await callJson(service, '/v1/completions', {raw});
    assert.equal(result.status, 422, result.text);
    assert.ok(Array.isArray(result.json?.detail), result.text);
  });

  // Content length boundaries in code points: ASCII, 2-byte, and 4-byte (astral) characters.
  for (const [label, unit] of [['ASCII', 'a'], ['é', 'é'], ['emoji', '😀']]) {
    test(`content of 32,000 ${label} characters is accepted, 32,001 is not`, async () => {
      const tag = ` ${nonce()}`;  // 13 ASCII code points keep the cache out of the way.
      const fill = (count) => unit.repeat(count - tag.length) + tag;
      const ok = await complete(service, body(fill(32000), {max_tokens: 16}));
      assert.equal(ok.status, 200, ok.text.slice(0, 500));
      const tooLong = await complete(service, body(fill(32001), {max_tokens: 16}));
      assert422(
          tooLong, [{type: 'string_too_long', loc: ['body', 'messages', 0, 'content']}],
          {exactCount: 1});
    });
  }

  test(
      'boundaries that are valid: 50 messages, max_tokens 1 and 8096, temperature 0 and 1, ' +
          'system of 100,000, integral float max_tokens, unknown fields',
      async () => {
        const tag = nonce();
        const fifty = Array.from(
            {length: 50}, (_, i) => (i % 2 === 0 ? user(`u${i} ${tag}`) : assistant(`a${i}`)));
        fifty[49] = user(`last ${tag}`);
        const valid = [
          {messages: fifty, max_tokens: 16},
          body(`one ${tag}`, {max_tokens: 1}),
          body(`max ${tag}`, {max_tokens: 8096}),
          body(`t0 ${tag}`, {temperature: 0, max_tokens: 16}),
          body(`t1 ${tag}`, {temperature: 1, max_tokens: 16}),
          body(`sys ${tag}`, {system: 's'.repeat(100000), max_tokens: 16}),
          body(`nulls ${tag}`, {system: null, model: null, temperature: null, max_tokens: 16}),
          body(`unknown ${tag}`, {max_tokens: 16, stream: true, foo: {bar: [1, 2]}}),
        ];
        for (const payload of valid) {
          const result = await complete(service, payload);
          assert.equal(
              result.status, 200,
              `${JSON.stringify(payload).slice(0, 200)}: ${result.text.slice(0, 300)}`);
        }
        const floatTokens = await callJson(service, '/v1/completions', {
          raw: `{"messages":[{"role":"user","content":"float ${tag}"}],"max_tokens":5.0}`,
        });
        assert.equal(floatTokens.status, 200, floatTokens.text);
      });
});
