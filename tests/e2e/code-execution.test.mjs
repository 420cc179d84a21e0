// Built-in tools (issue 11): the run loop and code_execution, as the guide's
// "Execução de código" sends it and both SDKs read it. The demo model's
// text is noise, so its call is forced with tool_choice and its code is
// noise too: the tests assert the loop's structure (call → result → model
// step → answer, or the step limit), ids, ordering in outputs, in streams
// and after a restart, that the code really ran in the sandbox (Python's
// own error for the model's code), the history carried to the next turn,
// and the ends a run may meet during a tool step (cancel, kill -9).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI as GenAI3 } from 'genai3';
import { startServer, stopAll, T, collect, pollUntil, sleep } from './lib/server.mjs';

// The random model never closes a string by itself: --code-max-chars makes
// its call's grammar end the code (at 200 characters here).
const CFG = { temperature: 0, max_output_tokens: 400, tool_choice: 'any' };
const ARGS = ['--code-max-chars', '200'];
const TOOLS = [{ type: 'code_execution' }];
const ENDED = ['completed', 'incomplete'];
let srv, ai;

before(async () => {
  srv = await startServer({ args: [...ARGS, '--max-tool-steps', '3'] });
  ai = srv.client();
}, { timeout: 60_000 });
after(stopAll);

/** The call and its result at the start of a run's outputs. */
function checkCallAndResult(outputs) {
  const [call, result] = outputs;
  assert.equal(call.type, 'code_execution_call', JSON.stringify(outputs));
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.equal(typeof call.arguments.code, 'string');
  assert.equal(result.type, 'code_execution_result', JSON.stringify(outputs));
  assert.equal(result.call_id, call.id);
  assert.equal(typeof result.result, 'string');
  // the model's noise is not Python: Python says so, from inside the sandbox
  if (result.is_error) assert.match(result.result, /Error|stopped/);
  return { call, result };
}

describe('code_execution: the run loop', () => {
  it('the guide\'s request: call, result, then the model again; kept and served by GET', T, async () => {
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Calculate the 50th Fibonacci number.',
      tools: TOOLS, generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    checkCallAndResult(it_.outputs);
    // every result answers the call just before it; the run ends on text or at the step limit
    for (let i = 0; i < it_.outputs.length; i++) {
      if (it_.outputs[i].type === 'code_execution_result') assert.equal(it_.outputs[i].call_id, it_.outputs[i - 1].id);
    }
    const last = it_.outputs[it_.outputs.length - 1];
    // completed: an answer; incomplete: cut by max_output_tokens (text) or --max-tool-steps 3 (a result)
    if (it_.status === 'completed') assert.equal(last.type, 'text');
    else assert.ok(['text', 'code_execution_result'].includes(last.type), last.type);
    assert.ok(it_.outputs.length >= 3, 'a model step after the result');
    assert.ok(it_.usage.total_tool_use_tokens > 0, JSON.stringify(it_.usage));
    const got = await ai.interactions.get(it_.id);
    assert.deepEqual(got.outputs, it_.outputs);
    assert.equal(got.status, it_.status);
  });

  it('greedy runs are deterministic, the code included', T, async () => {
    const a = await ai.interactions.create({ model: 'demo', input: 'Sum 1 to 10 in Python.', tools: TOOLS,
      generation_config: CFG, store: false });
    const b = await ai.interactions.create({ model: 'demo', input: 'Sum 1 to 10 in Python.', tools: TOOLS,
      generation_config: CFG, store: false });
    assert.deepEqual(b.outputs.map((o) => ({ ...o, id: undefined, call_id: undefined })),
      a.outputs.map((o) => ({ ...o, id: undefined, call_id: undefined })));
  });

  it('a chain carries the calls and results into the next turn', T, async () => {
    const t1 = await ai.interactions.create({ model: 'demo', input: 'Compute 2**10.', tools: TOOLS,
      generation_config: CFG });
    const t2 = await ai.interactions.create({ model: 'demo', input: 'And 2**11?', previous_interaction_id: t1.id,
      generation_config: { temperature: 0, max_output_tokens: 16 } });
    assert.ok(ENDED.includes(t2.status), t2.status);
    assert.ok(t2.usage.total_input_tokens > t1.usage.total_input_tokens / 3, JSON.stringify([t1.usage, t2.usage]));
  });

  it('streams every call and result in order, the same as the stored outputs', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'demo', input: 'Print the primes below 30.',
      tools: TOOLS, generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'content.start');
    assert.ok(starts.length >= 2, JSON.stringify(events.map((e) => e.event_type)));
    starts.forEach((e, i) => assert.equal(e.index, i));
    assert.equal(starts[0].content.type, 'code_execution_call');
    assert.equal(starts[1].content.type, 'code_execution_result');
    const done = events.find((e) => e.event_type === 'interaction.complete');
    const got = await ai.interactions.get(done.interaction.id);
    assert.deepEqual(starts.map((e) => e.content.type), got.outputs.map((o) => o.type));
    const deltas = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'code_execution_result');
    assert.equal(deltas[0].delta.call_id, got.outputs[0].id);
  });

  it('SDK 3.x (steps): the call and its result as steps', T, async () => {
    const ai3 = new GenAI3({ apiKey: 'e2e-key', httpOptions: { baseUrl: srv.url } });
    const it_ = await ai3.interactions.create({ model: 'demo', input: 'Calculate the 50th Fibonacci number.',
      tools: TOOLS, generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const types = JSON.stringify(it_);
    assert.match(types, /code_execution_call/);
    assert.match(types, /code_execution_result/);
  });

  it('SDK 3.x (steps): streamed as step.start / step.delta / step.stop, in order, live', T, async () => {
    const ai3 = new GenAI3({ apiKey: 'e2e-key', httpOptions: { baseUrl: srv.url } });
    const events = [];
    for await (const e of await ai3.interactions.create({ model: 'demo', input: 'Compute 2+2.', tools: TOOLS,
      generation_config: CFG, stream: true })) events.push(e);
    const starts = events.filter((e) => e.event_type === 'step.start');
    assert.equal(starts[0].step.type, 'code_execution_call');
    assert.equal(starts[1].step.type, 'code_execution_result');
    assert.equal(starts[1].step.call_id, starts[0].step.id);
    starts.forEach((e, i) => assert.equal(e.index, i));
    const done = events.find((e) => e.event_type === 'interaction.completed'); // 3.x's name
    assert.ok(ENDED.includes(done.interaction.status), done.interaction.status);
  });

  it('a stateless history with a call and its result (sent back by the client) reaches the model', T, async () => {
    const history = (result) => [
      { role: 'user', content: 'What is 6*7?' },
      { role: 'model', content: [{ type: 'code_execution_call', id: 'c1', arguments: { code: 'print(6*7)', language: 'python' } },
        { type: 'code_execution_result', call_id: 'c1', result }] },
      { role: 'user', content: 'Thanks. And now?' }];
    const run = (result) => ai.interactions.create({ model: 'demo', input: history(result), store: false,
      tools: TOOLS, generation_config: { temperature: 0, max_output_tokens: 8 } });
    const a = await run('42\n');
    const b = await run('a much longer output that the model reads as the result of its call\n'.repeat(5));
    assert.ok(ENDED.includes(a.status), a.status);
    // the result is in the prompt: a longer one, more input tokens
    assert.ok(b.usage.total_input_tokens > a.usage.total_input_tokens + 20, JSON.stringify([a.usage, b.usage]));
  });

  it('a client function beside it: the run stops with requires_action when the model calls the function', T, async () => {
    const tools = [...TOOLS, { type: 'function', name: 'get_weather', description: 'weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Weather in Paris, then compute with it.',
      tools, generation_config: CFG });
    // requires_action: a function call waits for the client, and every built-in call of the run has its result
    if (it_.status === 'requires_action') assert.ok(it_.outputs.some((o) => o.type === 'function_call'));
    else assert.ok(ENDED.includes(it_.status), it_.status);
    const calls = it_.outputs.filter((o) => o.type === 'code_execution_call').map((o) => o.id);
    const results = it_.outputs.filter((o) => o.type === 'code_execution_result').map((o) => o.call_id);
    assert.deepEqual(results, calls);
    for (const o of it_.outputs) assert.ok(['code_execution_call', 'code_execution_result', 'function_call', 'text', 'thought'].includes(o.type), o.type);
  });

  it('bad input: 400s that name the field, nothing stored', T, async () => {
    const bad = async (body, re) => {
      const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', ...body } });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.match(r.json.error.message, re);
    };
    await bad({ tools: [{ type: 'code_execution', timeout: 5 }] }, /tools\[0\]\.timeout/);
    await bad({ tools: [{ type: 'code_execution' }, { type: 'code_execution' }] }, /tools\[1\]: the tool 'code_execution' is given twice/);
    await bad({ tools: [{ type: 'code_execution' }, { type: 'function', name: 'code_execution' }] },
      /clashes with the built-in tool/);
  });
});

describe('code_execution: limits and ends during a tool step', () => {
  it('--max-tool-steps 1: one model step, its tool runs, then incomplete', T, async () => {
    const one = await startServer({ args: [...ARGS, '--max-tool-steps', '1'] });
    const it_ = await one.client().interactions.create({ model: 'demo', input: 'Compute 3*7.', tools: TOOLS,
      generation_config: CFG });
    assert.equal(it_.status, 'incomplete');
    assert.equal(it_.outputs.length, 2);
    checkCallAndResult(it_.outputs);
    await one.stop();
  });

  it('cancel as the tool step starts: cancelled, never stuck', T, async () => {
    const stream = await ai.interactions.create({ model: 'demo', input: 'Compute 3*8.', tools: TOOLS,
      generation_config: CFG, stream: true, background: true });
    let id;
    for await (const e of stream) {
      if (e.event_type === 'interaction.start') id = e.interaction.id;
      if (e.event_type === 'content.stop' && e.index === 0) break; // the call is whole: its tool runs now
    }
    await ai.interactions.cancel(id);
    const got = await pollUntil(() => ai.interactions.get(id), (g) => g.status !== 'in_progress', { what: 'an end' });
    assert.equal(got.status, 'cancelled');
    assert.equal(got.outputs[0].type, 'code_execution_call');
  });

  it('kill -9 during a tool step: failed after the restart, never in_progress', T, async () => {
    const s = await startServer({ args: [...ARGS, '--max-tool-steps', '3'] });
    const c = s.client();
    const stream = await c.interactions.create({ model: 'demo', input: 'Compute 4*9.', tools: TOOLS,
      generation_config: CFG, stream: true, background: true });
    let id;
    for await (const e of stream) {
      if (e.event_type === 'interaction.start') id = e.interaction.id;
      if (e.event_type === 'content.stop' && e.index === 0) break; // the call is whole: the sandbox starts now
    }
    await s.kill9();
    const s2 = await s.restart();
    const got = await s2.client().interactions.get(id);
    assert.equal(got.status, 'failed');
    // The call is flushed before its tool runs: recovery keeps it as an
    // output (the kill may land before that flush, leaving none).
    if (got.outputs.length) assert.equal(got.outputs[0].type, 'code_execution_call');
    await s2.stop();
  });
});
