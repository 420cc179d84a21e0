// Upstream chat engines against the real thing (issue 14): llama.cpp's own
// llama-server, built from the same pinned source as the engine
// (scripts/llama-server.sh, `make llama-server`), serving the random-weight
// demo model, and interactd in front with `--upstream NAME=URL,api=chat`.
// Random weights write random bytes, which llama-server's own output parser
// refuses (a 500), so each llama-server is given what makes its answers
// finish: a server-wide grammar (plain answers: a thought in <think>, then
// lowercase words and a full stop) that a request's tools or schema
// replace, and chat templates from llama.cpp's tree that carry the feature
// under test:
//   llm    Qwen3's template, --reasoning-format deepseek: text and thought
//   fn     functionary v3.2's template: its tool grammar starts the call at
//          once when a call is required (Qwen3's and Llama 3's let free text
//          come first, which random weights never end); the end-of-turn
//          token's logit raised (--logit-bias) so that the model ends after
//          its first call, where the grammar allows it: else it calls again
//          and again until max_tokens (finish_reason length: no calls)
//   raw    the model's own template, no grammar: llama-server fails (500)
//   long   a 32k context per slot (the demo model says 4k: overridden), for
//          an answer of 30,000 tokens that no machine ends within the
//          tests' timeout=1 and that a cancel must cut short
// Parallel calls are not driven here: with the end of turn favoured the
// model stops after one call, and without it it never stops calling (the
// request's tokens run out: finish_reason length, which drops the calls);
// upstream-chat.test.mjs's stand-in covers joining several calls.
// Greedy decoding makes every answer a fixed function of the request, so
// the tests assert equality between runs, the grammar's shape, and counts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { startServer, stopAll, T, collect, deltaText, textOf, pollUntil, freePort, REPO_ROOT }
  from './lib/server.mjs';

// make e2e names it; by hand, make says where its build put it.
const LLAMA_SERVER = process.env.LLAMA_SERVER_BIN
  || execFileSync('make', ['--no-print-directory', '-s', '-C', REPO_ROOT, 'llama-server-path']).toString().trim();
const TEMPLATES = path.join(REPO_ROOT, 'build/llama.cpp/models/templates');
const DEMO = path.join(REPO_ROOT, 'build/demo.gguf');
const PLAIN = /^[a-z ]+\.$/; // what the server-wide grammar lets an answer be
const GRAMMAR = 'root ::= "<think>" [a-z ]{2,12} "</think>" [a-z ]{2,24} "."';
// A schema whose answer (over 100,000 tokens) outlasts any max_tokens the
// tests give: a run that ends on its own decodes exactly LONG_MAX.
const LONG = { type: 'array', minItems: 1000, items: { type: 'array', minItems: 60,
  items: { type: 'integer', minimum: 0, maximum: 9 } } };
const LONG_MAX = 30_000;

const engines = {};
let srv, ai;

async function startLlama(name, extra, ctx = 8192) {
  if (!fs.existsSync(LLAMA_SERVER)) throw new Error(`llama-server not found at ${LLAMA_SERVER} (make llama-server)`);
  const port = await freePort();
  const args = ['-m', DEMO, '--host', '127.0.0.1', '--port', String(port), '-np', '2', '-c', String(ctx),
    '-t', '1', '--metrics', '--slots', '--no-ui', '--seed', '1', ...extra];
  const proc = spawn(LLAMA_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { log = (log + d).slice(-20_000); });
  const url = `http://127.0.0.1:${port}`;
  const e = { name, proc, url, log: () => log };
  engines[name] = e;
  await pollUntil(async () => {
    if (proc.exitCode !== null) throw new Error(`llama-server ${name} exited: ${log}`);
    try { return (await fetch(`${url}/health`)).status; } catch { return 0; }
  }, (s) => s === 200, { what: `llama-server ${name} to be ready`, timeoutMs: 60_000 });
  return e;
}

const slots = async (e) => (await fetch(`${e.url}/slots`)).json();
// a series of llama-server's /metrics (Prometheus text), e.g. tokens_predicted_total
const metric = async (e, name) => Number((await (await fetch(`${e.url}/metrics`)).text())
  .match(new RegExp(`^llamacpp:${name} (\\S+)$`, 'm'))[1]);
const busy = (ss) => ss.some((s) => s.is_processing);
const decoded = (s) => s.next_token?.[0]?.n_decoded ?? s.next_token?.n_decoded ?? 0;

before(async () => {
  await startLlama('raw', []);
  const eot = (await (await fetch(`${engines.raw.url}/tokenize`, { method: 'POST',
    body: JSON.stringify({ content: '<|im_end|>', parse_special: true }) })).json()).tokens;
  assert.equal(eot.length, 1);
  await startLlama('llm', ['--chat-template-file', path.join(TEMPLATES, 'Qwen-Qwen3-0.6B.jinja'),
    '--reasoning-format', 'deepseek', '--grammar', GRAMMAR]);
  await startLlama('long', ['--override-kv', 'llama.context_length=int:32768'], 65536);
  await startLlama('fn', ['--chat-template-file', path.join(TEMPLATES, 'meetkai-functionary-medium-v3.2.jinja'),
    '--logit-bias', `${eot[0]}+100`]);
  // Port 1 (tcpmux): nothing listens there, and no other test file running
  // beside this one can take it, as it could a port freePort() let go of.
  const nobody = 1;
  srv = await startServer({ args: [
    '--upstream', `llm=${engines.llm.url},api=chat`,
    '--upstream', `fn=${engines.fn.url},api=chat`,
    '--upstream', `raw=${engines.raw.url},api=chat`,
    '--upstream', `down=http://127.0.0.1:${nobody},api=chat`,
    '--upstream', `long=${engines.long.url},api=chat`,
    '--upstream', `slow=${engines.long.url},api=chat,timeout=1`,
  ] });
  ai = srv.client();
}, { timeout: 120_000 });

after(async () => {
  await stopAll();
  await Promise.all(Object.values(engines).map((e) => new Promise((r) => {
    if (e.proc.exitCode !== null) return r();
    e.proc.on('exit', r);
    e.proc.kill('SIGTERM');
  })));
});

const greedy = { temperature: 0, max_output_tokens: 100 };

describe('llama-server upstream: text, thought, system instruction, sampling', () => {
  it('an answer in the grammar, its reasoning_content as the thought before it; usage counted', T, async () => {
    const it_ = await ai.interactions.create({ model: 'llm', input: 'Say hello.', generation_config: greedy });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.deepEqual(it_.outputs.map((o) => o.type), ['thought', 'text']);
    assert.match(textOf(it_), PLAIN);
    assert.ok(it_.usage.total_input_tokens > 5, JSON.stringify(it_.usage));
    assert.ok(it_.usage.total_output_tokens > 3, JSON.stringify(it_.usage));
    assert.ok(it_.usage.total_thought_tokens >= 1, JSON.stringify(it_.usage));
    const got = await ai.interactions.get(it_.id);
    assert.equal(textOf(got), textOf(it_));
    assert.equal(got.model, 'llm');
  });

  it('greedy: the same request twice gives the same answer; a system instruction changes the prompt', T, async () => {
    const req = { model: 'llm', input: 'Name a colour.', generation_config: greedy };
    const a = await ai.interactions.create(req);
    const b = await ai.interactions.create(req);
    assert.equal(textOf(a), textOf(b));
    const s = await ai.interactions.create({ ...req, system_instruction: 'You answer in one word, always.' });
    assert.equal(s.status, 'completed');
    assert.match(textOf(s), PLAIN);
    // the instruction went into the prompt: more input tokens, the same again on a rerun
    assert.ok(s.usage.total_input_tokens > a.usage.total_input_tokens + 5, `${s.usage.total_input_tokens}`);
    const s2 = await ai.interactions.create({ ...req, system_instruction: 'You answer in one word, always.' });
    assert.equal(textOf(s2), textOf(s));
  });

  it('seed: the same seed repeats at temperature 1; other seeds give another answer at least once', T, async () => {
    const req = (seed) => ({ model: 'llm', input: 'Pick a word.',
      generation_config: { temperature: 1, top_p: 1, seed, max_output_tokens: 100 } });
    const first = textOf(await ai.interactions.create(req(11)));
    assert.equal(textOf(await ai.interactions.create(req(11))), first);
    const others = [];
    for (const seed of [12, 13, 14, 15, 16]) others.push(textOf(await ai.interactions.create(req(seed))));
    for (const t of others) assert.match(t, PLAIN);
    assert.ok(others.some((t) => t !== first), JSON.stringify([first, ...others]));
  });

  it('top_p near 0 keeps only the likeliest token: the greedy answer at temperature 1', T, async () => {
    const g = await ai.interactions.create({ model: 'llm', input: 'Pick a word.', generation_config: greedy });
    for (const seed of [21, 22]) {
      const t = await ai.interactions.create({ model: 'llm', input: 'Pick a word.',
        generation_config: { temperature: 1, top_p: 0.000001, seed, max_output_tokens: 100 } });
      assert.equal(textOf(t), textOf(g));
    }
  });

  it("stop: the answer ends before the stop sequence (the grammar's full stop)", T, async () => {
    const full = await ai.interactions.create({ model: 'llm', input: 'Say hello.', generation_config: greedy });
    const cut = await ai.interactions.create({ model: 'llm', input: 'Say hello.',
      generation_config: { ...greedy, stop_sequences: ['.'] } });
    assert.equal(cut.status, 'completed', JSON.stringify(cut));
    assert.equal(textOf(cut), textOf(full).slice(0, -1));
  });
});

describe('llama-server upstream: streaming, usage and cached tokens, chains', () => {
  it('streamed token by token: several text deltas adding up to the stored text', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'llm', input: 'Say hello.', stream: true,
      generation_config: greedy }));
    const d = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'text');
    assert.ok(d.length >= 3, `${d.length} text deltas`);
    const done = events.find((e) => e.event_type === 'interaction.complete');
    assert.equal(done.interaction.status, 'completed');
    const got = await ai.interactions.get(done.interaction.id);
    assert.equal(deltaText(events), textOf(got));
    assert.match(textOf(got), PLAIN);
  });

  it('a second turn through previous_interaction_id: the history is sent and its prefix is cached', T, async () => {
    const a = await ai.interactions.create({ model: 'llm', input: 'Tell me about the sea in many words.',
      generation_config: greedy });
    assert.equal(a.status, 'completed');
    const b = await ai.interactions.create({ model: 'llm', previous_interaction_id: a.id, input: 'And the sky?',
      generation_config: greedy });
    assert.equal(b.status, 'completed', JSON.stringify(b));
    assert.match(textOf(b), PLAIN);
    assert.ok(b.usage.total_input_tokens > a.usage.total_input_tokens + a.usage.total_output_tokens - 20,
      JSON.stringify([a.usage, b.usage]));
    assert.ok(b.usage.total_cached_tokens > 0, JSON.stringify(b.usage));
    assert.ok(b.usage.total_cached_tokens < b.usage.total_input_tokens);
  });

  it('a chain mixes the local demo model and the upstream model, turn by turn', T, async () => {
    const a = await ai.interactions.create({ model: 'demo', input: 'Tell me a story.',
      generation_config: { max_output_tokens: 8, temperature: 0 } });
    assert.ok(['completed', 'incomplete'].includes(a.status));
    const b = await ai.interactions.create({ model: 'llm', previous_interaction_id: a.id, input: 'Go on.',
      generation_config: greedy });
    assert.equal(b.status, 'completed', JSON.stringify(b));
    assert.match(textOf(b), PLAIN);
    const alone = await ai.interactions.create({ model: 'llm', input: 'Go on.', generation_config: greedy });
    assert.ok(b.usage.total_input_tokens > alone.usage.total_input_tokens, 'the demo turn was sent along');
    const c = await ai.interactions.create({ model: 'demo', previous_interaction_id: b.id, input: 'The end?',
      generation_config: { max_output_tokens: 4, temperature: 0 } });
    assert.ok(['completed', 'incomplete'].includes(c.status), JSON.stringify(c));
    const again = await ai.interactions.create({ model: 'llm', previous_interaction_id: a.id, input: 'Go on.',
      generation_config: greedy });
    assert.equal(textOf(again), textOf(b)); // the same history, the same greedy answer
  });
});

const weather = { type: 'function', name: 'get_weather', description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] } },
    required: ['city'] } };
const clock = { type: 'function', name: 'get_time', description: 'The time in a zone',
  parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } },
    required: ['zone'] } };
const valid = (c) => (c.name === 'get_weather' ? ['Paris', 'Oslo'].includes(c.arguments.city)
  : c.name === 'get_time' && ['UTC', 'CET'].includes(c.arguments.zone));

describe('llama-server upstream: tools and structured output', () => {
  it("tool_choice any: a call that the function's schema allows; its result answered by another upstream model", T,
    async () => {
      const first = await ai.interactions.create({ model: 'fn', input: 'Weather in Paris?', tools: [weather],
        generation_config: { ...greedy, tool_choice: 'any' } });
      assert.equal(first.status, 'requires_action', JSON.stringify(first));
      const calls = first.outputs.filter((o) => o.type === 'function_call');
      assert.equal(calls.length, 1);
      assert.ok(valid(calls[0]) && calls[0].name === 'get_weather', JSON.stringify(calls[0]));
      const again = await ai.interactions.create({ model: 'fn', input: 'Weather in Paris?', tools: [weather, clock],
        generation_config: { ...greedy, tool_choice: 'any' } });
      const c2 = again.outputs.filter((o) => o.type === 'function_call');
      assert.equal(c2.length, 1);
      assert.ok(valid(c2[0]), JSON.stringify(c2[0])); // either function, with arguments its schema allows
      const second = await ai.interactions.create({ model: 'llm', previous_interaction_id: first.id,
        generation_config: greedy,
        input: calls.map((c) => ({ type: 'function_result', name: c.name, call_id: c.id, result: { sky: 'clear' } })) });
      assert.equal(second.status, 'completed', JSON.stringify(second));
      assert.match(textOf(second), PLAIN);
    });

  it('tool_choice none: the tools are offered but no call is made; the answer is text', T, async () => {
    const it_ = await ai.interactions.create({ model: 'llm', input: 'Weather in Paris?', tools: [weather],
      generation_config: { ...greedy, tool_choice: 'none' } });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.equal(it_.outputs.filter((o) => o.type === 'function_call').length, 0);
    assert.match(textOf(it_), PLAIN);
  });

  it('structured output: response_format json_schema gives JSON that parses to the schema', T, async () => {
    const schema = { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] },
      days: { type: 'integer', minimum: 1, maximum: 7 }, sunny: { type: 'boolean' } },
    required: ['city', 'days', 'sunny'], additionalProperties: false };
    const it_ = await ai.interactions.create({ model: 'llm', input: 'The forecast?', response_format: schema,
      generation_config: { temperature: 0, max_output_tokens: 200 } });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    const v = JSON.parse(textOf(it_));
    assert.deepEqual(Object.keys(v).sort(), ['city', 'days', 'sunny']);
    assert.ok(['Paris', 'Oslo'].includes(v.city));
    assert.ok(Number.isInteger(v.days) && v.days >= 1 && v.days <= 7);
    assert.equal(typeof v.sunny, 'boolean');
  });
});

describe("llama-server upstream: the engine's failures and cancel", () => {
  // A refusal before the run began is the HTTP status; a failure after it
  // began, a 200 with a failed interaction carrying the error (as in
  // upstream-chat.test.mjs).
  async function failed(model, input, code, re, extra = {}) {
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { model, input, ...extra } });
    const j = JSON.parse(r.text);
    if (r.status === 200) {
      assert.equal(j.status, 'failed', r.text);
      assert.match(JSON.stringify(j.error), re);
    } else {
      assert.equal(r.status, code, r.text);
      assert.match(j.error.message, re);
    }
    return r;
  }

  it("llama-server's own 500 (its parser refusing random output) is a 502 naming the upstream and quoting it", T,
    async () => {
      await failed('raw', 'Say hello.', 502, /upstream 'raw'.*does not match the expected/,
        { generation_config: greedy });
    });

  it('streamed, the same 500 arrives as an error chunk: the interaction fails with its message', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'raw', input: 'Say hello.', stream: true,
      generation_config: greedy }));
    const done = events.find((e) => e.event_type === 'interaction.complete' || e.event_type === 'error');
    assert.ok(done, JSON.stringify(events.map((e) => e.event_type)));
    const id = events.find((e) => e.event_type === 'interaction.start')?.interaction?.id;
    const got = await ai.interactions.get(id);
    assert.equal(got.status, 'failed');
    assert.match(JSON.stringify(got.error ?? got), /upstream 'raw'.*does not match the expected/);
  });

  it('an upstream with nothing listening is a 503 naming it', T, async () => {
    await failed('down', 'hello', 503, /upstream 'down' is unreachable/);
  });

  it('an answer longer than timeout= is a 504; llama-server frees its slot', T, async () => {
    await failed('slow', 'Count.', 504, /upstream 'slow': no answer within 1 s/,
      { response_format: LONG, generation_config: { temperature: 0, max_output_tokens: LONG_MAX } });
    await pollUntil(() => slots(engines.long), (x) => !busy(x), { what: 'the slot to be released' });
    const n = await metric(engines.long, 'tokens_predicted_total');
    assert.ok(n > 0 && n < LONG_MAX, `decoded ${n}`); // cut short when interactd gave up
  });

  it("cancelling a background run aborts llama-server's request: it stops decoding, short of the whole", T, async () => {
    const before = await metric(engines.long, 'tokens_predicted_total');
    const bg = await ai.interactions.create({ model: 'long', input: 'Count.', background: true,
      response_format: LONG, generation_config: { temperature: 0, max_output_tokens: LONG_MAX } });
    const during = await pollUntil(() => slots(engines.long),
      (ss) => ss.some((s) => s.is_processing && decoded(s) > 10), { what: 'llama-server to be decoding', intervalMs: 20 });
    const c = await ai.interactions.cancel(bg.id);
    assert.equal(c.status, 'cancelled');
    // released well before the whole answer, which takes minutes here
    await pollUntil(() => slots(engines.long), (ss) => !busy(ss), { what: 'the slot to be released' });
    const n = await metric(engines.long, 'tokens_predicted_total') - before;
    assert.ok(n > 10 && n < LONG_MAX, `decoded ${n} of the ${LONG_MAX} an uncut run takes`);
    assert.equal(await metric(engines.long, 'requests_processing'), 0);
    assert.equal((await ai.interactions.get(bg.id)).status, 'cancelled');
  });
});
