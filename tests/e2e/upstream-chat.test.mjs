// Upstream chat engines (issue 14): a model name routed by
// `--upstream NAME=URL,api=chat` to an engine speaking OpenAI's
// POST /v1/chat/completions as llama-server does. The engine here is a
// loopback stand-in that answers exactly in that protocol — SSE
// `data: {chunk}` events with choices[0].delta.content / reasoning_content /
// tool_calls[{index,id,type,function:{name,arguments}}], a finish_reason, a
// final usage chunk (choices: []) and `data: [DONE]`; one JSON document when
// stream is false; error bodies {"error":{"code","message","type"}} — and
// records every request, so the tests assert what interactd sent. What it
// answers is chosen by the last user message's text.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopAll, T, collect, deltaText, textOf, pollUntil, freePort, sleep } from './lib/server.mjs';

let engine, srv, ai;
const seen = [];
const closed = []; // requests whose connection the server closed before the answer ended

const chunk = (delta, finish = null) => ({
  id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'remote-7b',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const USAGE = { prompt_tokens: 17, completion_tokens: 6, total_tokens: 23, prompt_tokens_details: { cached_tokens: 5 } };
const TEXT = ['Hel', 'lo', ' from', ' the', ' up', 'stream', '.'];

function lastUser(body) {
  const m = [...body.messages].reverse().find((x) => x.role === 'user');
  return typeof m?.content === 'string' ? m.content : '';
}

// What the stand-in answers: a list of chunks (the usage chunk and [DONE] follow).
function script(body) {
  const last = body.messages[body.messages.length - 1];
  const said = lastUser(body);
  if (last.role === 'tool') return [...['It is ', 'sunny.'].map((t) => chunk({ content: t })), chunk({}, 'stop')];
  if (body.tools && /search:/.test(said)) { // the server's built-in google_search, offered as a function
    assert.ok(body.tools.some((t) => t.function.name === 'google_search'));
    return [chunk({ tool_calls: [{ index: 0, id: 'call_s', type: 'function',
      function: { name: 'google_search', arguments: '{"queries":["azalea care"]}' } }] }), chunk({}, 'tool_calls')];
  }
  if (body.tools && /rogue/.test(said)) { // a call of a function nobody offered
    return [chunk({ tool_calls: [{ index: 0, id: 'call_r', type: 'function',
      function: { name: 'launch_rockets', arguments: '{}' } }] }), chunk({}, 'tool_calls')];
  }
  if (body.tools && /parallel/.test(said)) {
    return [
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: 'ty":"Oslo"}' } }] }),
      chunk({}, 'tool_calls'),
    ];
  }
  if (body.tools) {
    return [
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':"Paris"}' } }] }),
      chunk({}, 'tool_calls'),
    ];
  }
  if (body.response_format) return [chunk({ content: '{"answer":' }), chunk({ content: ' "yes"}' }), chunk({}, 'stop')];
  if (/think/.test(said)) {
    return [...['Let me ', 'think ', 'about it.'].map((t) => chunk({ reasoning_content: t })),
      ...['Forty', '-two.'].map((t) => chunk({ content: t })), chunk({}, 'stop')];
  }
  if (/cut/.test(said)) return [chunk({ content: 'Once upon' }), chunk({}, 'length')];
  return [...TEXT.map((t) => chunk({ content: t })), chunk({}, 'stop')];
}

async function answer(req, res, body, rec) {
  if (req.url.startsWith('/search?')) { // a SearxNG for the built-in google_search
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ query: 'q', results: [{ url: 'https://garden.example/azalea', title: 'Azalea care',
      content: 'Azaleas bloom in spring and like acidic soil.', engine: 'duckduckgo' }] }));
    return;
  }
  const fail = (status, code, message, type) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code, message, type } }));
  };
  if (req.url !== '/v1/chat/completions') return fail(404, 404, 'File Not Found', 'not_found_error');
  const said = lastUser(body);
  if (/fail500/.test(said)) return fail(500, 500, 'CUDA error: out of memory', 'server_error');
  if (/refuse400/.test(said)) return fail(400, 400, 'the request exceeds the available context size', 'invalid_request_error');
  if (/busy429/.test(said)) return fail(429, 429, 'too many requests', 'rate_limit_error');
  if (!body.stream) { // the non-streamed answer, as llama-server writes it
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion', model: 'remote-7b',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello whole.' }, finish_reason: 'stop' }], usage: USAGE }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (o) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  if (/forever|slowly/.test(said)) { // a long answer, a token every 100 ms, until the client goes away
    for (let i = 0; i < 600 && !res.destroyed && !res.writableEnded; i++) {
      send(chunk({ content: `t${i} ` }));
      if (rec) rec.sent = i + 1;
      await sleep(/slowly/.test(said) ? 2500 : 100);
    }
    res.end();
    return;
  }
  if (/midway/.test(said)) { // an error chunk after a first delta, as llama-server sends one
    send(chunk({ content: 'Hal' }));
    res.write(`data: ${JSON.stringify({ error: { code: 500, message: 'decode failed', type: 'server_error' } })}\n\n`);
    res.end();
    return;
  }
  res.write(':\n\n'); // llama-server's keep-alive ping (--sse-ping-interval), a comment
  for (const c of script(body)) {
    send(c);
    await sleep(15);
  }
  send({ ...chunk({}), choices: [], usage: USAGE, timings: { prompt_n: 12, predicted_n: 6 } });
  res.write('data: [DONE]\n\n');
  res.end();
}

before(async () => {
  engine = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      const rec = { url: req.url, auth: req.headers.authorization, body, closed: false };
      seen.push(rec);
      res.on('close', () => { if (!res.writableEnded) { rec.closed = true; closed.push(rec); } });
      answer(req, res, body, rec).catch(() => {});
    });
  });
  await new Promise((r) => engine.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${engine.address().port}`;
  const nobody = await freePort(); // nothing listens there
  srv = await startServer({ args: [
    '--upstream', `up=${url},api=chat,model=remote-7b,key=sk-chat`,
    '--upstream', `down=http://127.0.0.1:${nobody},api=chat`,
    '--upstream', `slow=${url},api=chat,timeout=2`,
    '--search-url', url,
  ] });
  ai = srv.client();
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  engine?.close();
  engine?.closeAllConnections?.();
});

const sent = (n) => seen[n].body;
const tool = { type: 'function', name: 'get_weather', description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

describe('upstream chat engine: requests and answers', () => {
  it('plain text: the answer, the request as OpenAI reads it, the key, usage with cached tokens', T, async () => {
    const n = seen.length;
    const it_ = await ai.interactions.create({ model: 'up', input: 'Say hello.', system_instruction: 'Be brief.',
      generation_config: { temperature: 0.3, top_p: 0.8, seed: 7, max_output_tokens: 50, stop_sequences: ['END'] } });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.equal(textOf(it_), TEXT.join(''));
    assert.equal(seen[n].url, '/v1/chat/completions');
    assert.equal(seen[n].auth, 'Bearer sk-chat');
    const b = sent(n);
    assert.equal(b.model, 'remote-7b');
    assert.equal(b.stream, true);
    assert.deepEqual(b.stream_options, { include_usage: true });
    assert.deepEqual(b.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }]);
    assert.equal(b.temperature, 0.3);
    assert.equal(b.top_p, 0.8);
    assert.equal(b.seed, 7);
    assert.equal(b.max_tokens, 50);
    assert.deepEqual(b.stop, ['END']);
    assert.equal(b.tools, undefined);
    assert.equal(b.response_format, undefined);
    assert.equal(it_.usage.total_input_tokens, 17);
    assert.equal(it_.usage.total_output_tokens, 6);
    assert.equal(it_.usage.total_cached_tokens, 5);
    const got = await ai.interactions.get(it_.id);
    assert.equal(textOf(got), TEXT.join(''));
    assert.equal(got.model, 'up');
  });

  it('streamed: one content.delta per upstream token, adding up to the text', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'up', input: 'Say hello.', stream: true }));
    const d = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'text').map((e) => e.delta.text);
    assert.deepEqual(d, TEXT);
    assert.equal(deltaText(events), TEXT.join(''));
    const done = events.find((e) => e.event_type === 'interaction.complete');
    assert.equal(done.interaction.status, 'completed');
    assert.equal(done.interaction.usage.total_input_tokens, 17);
  });

  it('reasoning_content becomes the thought, before the answer; its deltas stream as thought', T, async () => {
    const it_ = await ai.interactions.create({ model: 'up', input: 'think first' });
    assert.equal(it_.status, 'completed');
    assert.deepEqual(it_.outputs.map((o) => o.type), ['thought', 'text']);
    assert.equal(it_.outputs[1].text, 'Forty-two.');
    assert.match(it_.outputs[0].signature, /^v1\./);
    assert.equal(it_.usage.total_thought_tokens, 3); // its reasoning deltas (llama-server reports no count)
    const events = await collect(await ai.interactions.create({ model: 'up', input: 'think again', stream: true }));
    const d = events.filter((e) => e.event_type === 'content.delta').map((e) => e.delta);
    // one thought_summary delta per reasoning_content chunk, its signature, then the text's deltas
    assert.deepEqual(d.map((x) => x.type), ['thought_summary', 'thought_summary', 'thought_summary', 'thought_signature', 'text', 'text']);
    assert.deepEqual(d.slice(0, 3).map((x) => x.content.text), ['Let me ', 'think ', 'about it.']);
    assert.equal(deltaText(events), 'Forty-two.');
  });

  it('a function call round trip through previous_interaction_id: tools, tool_choice, the call and its result', T, async () => {
    const n = seen.length;
    const first = await ai.interactions.create({ model: 'up', input: 'Weather in Paris?', tools: [tool],
      generation_config: { tool_choice: 'any' } });
    assert.equal(first.status, 'requires_action', JSON.stringify(first));
    const calls = first.outputs.filter((o) => o.type === 'function_call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_weather');
    assert.deepEqual(calls[0].arguments, { city: 'Paris' });
    const b = sent(n);
    assert.deepEqual(b.tools, [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city',
      parameters: tool.parameters } }]);
    assert.equal(b.tool_choice, 'required');
    const second = await ai.interactions.create({ model: 'up', previous_interaction_id: first.id, tools: [tool],
      input: [{ type: 'function_result', name: 'get_weather', call_id: calls[0].id, result: { sky: 'clear' } }] });
    assert.equal(second.status, 'completed', JSON.stringify(second));
    assert.equal(textOf(second), 'It is sunny.');
    const m = sent(n + 1).messages;
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'tool']);
    assert.equal(m[0].content, 'Weather in Paris?');
    assert.equal(m[1].content, null);
    assert.deepEqual(m[1].tool_calls, [{ id: calls[0].id, type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    assert.equal(m[2].tool_call_id, calls[0].id);
    assert.match(m[2].content, /clear/);
    assert.equal(sent(n + 1).tool_choice, 'auto');
  });

  it('parallel calls: argument deltas joined by index, two calls in order', T, async () => {
    const it_ = await ai.interactions.create({ model: 'up', input: 'parallel: Paris and Oslo', tools: [tool] });
    assert.equal(it_.status, 'requires_action');
    const calls = it_.outputs.filter((o) => o.type === 'function_call');
    assert.deepEqual(calls.map((c) => c.arguments), [{ city: 'Paris' }, { city: 'Oslo' }]);
    assert.notEqual(calls[0].id, calls[1].id);
  });

  it('structured output: the schema goes as response_format json_schema; the JSON comes back', T, async () => {
    const n = seen.length;
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const it_ = await ai.interactions.create({ model: 'up', input: 'Is it?', response_format: schema });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.deepEqual(JSON.parse(textOf(it_)), { answer: 'yes' });
    const rf = sent(n).response_format;
    assert.equal(rf.type, 'json_schema');
    assert.equal(rf.json_schema.strict, true);
    assert.equal(typeof rf.json_schema.name, 'string');
    assert.deepEqual(rf.json_schema.schema.properties, schema.properties);
  });

  it("finish_reason 'length' is an incomplete interaction", T, async () => {
    const it_ = await ai.interactions.create({ model: 'up', input: 'cut short' });
    assert.equal(it_.status, 'incomplete');
    assert.equal(textOf(it_), 'Once upon');
  });

  it("the server's built-in tools run for an upstream model: google_search, then the model again", T, async () => {
    const n = seen.length;
    const it_ = await ai.interactions.create({ model: 'up', input: 'search: how to grow azaleas',
      tools: [{ type: 'google_search' }] });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.deepEqual(it_.outputs.map((o) => o.type), ['google_search_call', 'google_search_result', 'text']);
    assert.deepEqual(it_.outputs[0].arguments.queries, ['azalea care']);
    const steps = seen.slice(n).filter((r) => r.url === '/v1/chat/completions');
    assert.equal(steps.length, 2);
    const m = steps[1].body.messages;
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'tool']);
    assert.equal(m[1].tool_calls[0].function.name, 'google_search');
    assert.equal(m[2].tool_call_id, m[1].tool_calls[0].id);
    assert.match(m[2].content, /Azaleas bloom in spring/);
  });

  it('a chain mixes the local demo model and the upstream model', T, async () => {
    const a = await ai.interactions.create({ model: 'demo', input: 'Tell me a story.',
      generation_config: { max_output_tokens: 8, temperature: 0 } });
    assert.ok(['completed', 'incomplete'].includes(a.status));
    const n = seen.length;
    const b = await ai.interactions.create({ model: 'up', previous_interaction_id: a.id, input: 'Go on.' });
    assert.equal(b.status, 'completed');
    const m = sent(n).messages;
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'user']);
    assert.equal(m[0].content, 'Tell me a story.');
    assert.equal(m[1].content, textOf(a));
    const c = await ai.interactions.create({ model: 'demo', previous_interaction_id: b.id, input: 'The end?',
      generation_config: { max_output_tokens: 4 } });
    assert.ok(['completed', 'incomplete'].includes(c.status), JSON.stringify(c));
  });
});

describe('upstream chat engine: input it takes', () => {
  it("a text document goes as its text in the user's message", T, async () => {
    const n = seen.length;
    const doc = 'The meeting moved to Thursday at noon.';
    const it_ = await ai.interactions.create({ model: 'up', input: [{ type: 'text', text: 'Summarize:' },
      { type: 'document', data: Buffer.from(doc).toString('base64'), mime_type: 'text/plain' }] });
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    const m = sent(n).messages;
    assert.equal(m.length, 1);
    assert.match(m[0].content, /Summarize:/);
    assert.match(m[0].content, /The meeting moved to Thursday at noon\./);
    assert.doesNotMatch(m[0].content, /__ia_media_/);
  });

  it('an image is refused with a clear 400 (unimplemented) before anything is sent upstream', T, async () => {
    const n = seen.length;
    // a 1x1 PNG
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { model: 'up',
      input: [{ type: 'text', text: 'What is it?' }, { type: 'image', data: png, mime_type: 'image/png' }] } });
    assert.equal(r.status, 400, r.text);
    assert.equal(JSON.parse(r.text).error.code, 'unimplemented');
    assert.match(JSON.parse(r.text).error.message, /model up is an upstream chat engine.*image input is not forwarded/);
    assert.equal(seen.length, n);
  });

  it('image output from a chat upstream is a 400 saying it answers in text', T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k',
      body: { model: 'up', input: 'Draw a cat', response_modalities: ['IMAGE'] } });
    assert.equal(r.status, 400, r.text);
    assert.match(JSON.parse(r.text).error.message, /'up' is an upstream chat engine .* answers in text/);
  });
});

describe('upstream chat engine: failures', () => {
  async function failed(model, input, code, re) {
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { model, input } });
    const j = JSON.parse(r.text);
    if (r.status === 200) { // the run failed after it began: a failed interaction
      assert.equal(j.status, 'failed', r.text);
      assert.match(JSON.stringify(j.error), re);
    } else {
      assert.equal(r.status, code, r.text);
      assert.match(j.error.message, re);
    }
    return r;
  }

  it("the engine's 500 is a 502 naming the upstream and quoting it; a failed interaction is stored", T, async () => {
    const r = await failed('up', 'fail500', 502, /upstream 'up' failed \(POST \/v1\/chat\/completions: HTTP 500\): CUDA error: out of memory/);
    assert.doesNotMatch(r.text, /127\.0\.0\.1|sk-chat/);
    const bg = await ai.interactions.create({ model: 'up', input: 'fail500', background: true });
    const end = await pollUntil(() => ai.interactions.get(bg.id), (x) => x.status !== 'in_progress', { what: 'the run to fail' });
    assert.equal(end.status, 'failed');
  });

  it("the engine's 400 is a 400 with its message; 429 is a 429", T, async () => {
    await failed('up', 'refuse400', 400, /upstream 'up' refused the request.*exceeds the available context size/);
    await failed('up', 'busy429', 429, /upstream 'up' is busy/);
  });

  it('a streamed run whose upstream fails mid-stream: the text so far, then the failure', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'up', input: 'midway', stream: true }));
    assert.equal(deltaText(events), 'Hal');
    const err = events.find((e) => e.event_type === 'error');
    assert.equal(err.error.code, 'bad_gateway');
    assert.equal(err.error.message, "upstream 'up' failed while answering: decode failed");
    const end = events[events.length - 1];
    assert.equal(end.event_type, 'interaction.complete');
    assert.equal(end.interaction.status, 'failed');
    const got = await ai.interactions.get(end.interaction.id);
    assert.equal(got.status, 'failed');
    assert.equal(textOf(got), 'Hal');
  });

  it('an error chunk mid-stream fails the interaction with its message', T, async () => {
    await failed('up', 'midway', 502, /upstream 'up' failed while answering: decode failed/);
  });

  it('a call of a function that was not offered fails the run (502) naming it', T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { model: 'up', input: 'go rogue', tools: [tool] } });
    assert.equal(r.status, 502, r.text);
    assert.match(JSON.parse(r.text).error.message, /upstream 'up': the model called 'launch_rockets', a function it was not offered/);
  });

  it('an engine that cannot be reached is a 503 naming it', T, async () => {
    await failed('down', 'hello', 503, /upstream 'down' is unreachable/);
  });

  it('an engine slower than timeout= is a 504; the connection is closed', T, async () => {
    const n = seen.length;
    await failed('slow', 'answer slowly', 504, /upstream 'slow': no answer within 2 s/);
    await pollUntil(async () => seen[n].closed, Boolean, { what: 'the stand-in to see the connection closed' });
  });
});

describe('upstream chat engine: cancel', () => {
  it('cancelling a background run closes the upstream request', T, async () => {
    const n = seen.length;
    const bg = await ai.interactions.create({ model: 'up', input: 'go on forever', background: true });
    await pollUntil(async () => seen.length > n, Boolean, { what: 'the upstream request' });
    // a few tokens out, then a moment for the server to read them (a busy CI machine may lag)
    await pollUntil(async () => seen[n].sent >= 4, Boolean, { what: 'tokens to be sent' });
    await sleep(300);
    const c = await ai.interactions.cancel(bg.id);
    assert.equal(c.status, 'cancelled');
    await pollUntil(async () => seen[n].closed, Boolean, { what: 'the stand-in to see the connection closed' });
    const got = await ai.interactions.get(bg.id);
    assert.equal(got.status, 'cancelled');
    assert.match(textOf(got), /^t0 /);
  });
});

describe('upstream chat engine: /metrics', () => {
  it('the upstream model has its series: jobs done, none running, no layout', T, async () => {
    const r = await srv.raw('GET', '/metrics', { key: 'k' });
    assert.equal(r.status, 200, r.text);
    const val = (name, model) => Number(r.text.match(new RegExp(`^${name}\\{model="${model}"\\} (\\d+)$`, 'm'))?.[1]);
    assert.ok(val('interactd_jobs_done_total', 'up') >= 10, r.text);
    assert.equal(val('interactd_jobs_running', 'up'), 0);
    assert.equal(val('interactd_n_ctx', 'up'), 0);
    assert.ok(val('interactd_jobs_done_total', 'demo') >= 1);
  });
});
