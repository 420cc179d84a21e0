// mcp_server (issue 11), as the guide's "Protocolo de contexto de modelo
// (MCP) remoto" sends it: a remote MCP server (streamable HTTP) whose tools
// interactd lists at create and offers the model as functions named
// <server>__<tool>; the model's call is an mcp_server_tool_call, interactd
// calls the tool on the server, the mcp_server_tool_result carries its
// content, and the model is called again. The server is the official
// @modelcontextprotocol/sdk's McpServer on loopback (lib/mcp-server.mjs),
// which records what reached it; interactd may reach only its port
// (--allow-addresses). The demo model's call is forced with tool_choice,
// and allowed_tools picks the tool it can call.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, collect, freePort, pollUntil } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';
import { startMcpServer } from './lib/mcp-server.mjs';

const CFG = { temperature: 0, max_output_tokens: 300, tool_choice: 'any' };
const TOOL_NAMES = ['add', 'echo', 'fail', 'sleep'];
let mcp, mcpJson, srv, ai;

/** An mcp_server tool of the sse server, offering only `only` (all when absent). */
function server(only, extra = {}) {
  return { type: 'mcp_server', name: 'calc', url: mcp.url, ...(only ? { allowed_tools: [{ tools: [only] }] } : {}), ...extra };
}

before(async () => {
  mcp = await startMcpServer();
  mcpJson = await startMcpServer({ json: true });
  srv = await startServer({ args: ['--allow-addresses', `127.0.0.1:${mcp.port}, 127.0.0.1:${mcpJson.port}`,
    '--fetch-timeout', '2', '--max-tool-steps', '2'] });
  ai = srv.client();
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  mcp?.close();
  mcpJson?.close();
});

/** The call and result at the start of outputs (or steps), checked. */
function callAndResult(outputs, serverName = 'calc') {
  const [call, result] = outputs;
  assert.equal(call.type, 'mcp_server_tool_call', JSON.stringify(outputs));
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.ok(TOOL_NAMES.includes(call.name), call.name);
  assert.equal(call.server_name, serverName);
  assert.equal(typeof call.arguments, 'object');
  assert.equal(result.type, 'mcp_server_tool_result', JSON.stringify(outputs));
  assert.equal(result.call_id, call.id);
  assert.equal(result.name, call.name);
  assert.equal(result.server_name, serverName);
  assert.ok(Array.isArray(result.result), JSON.stringify(result));
  return { call, result };
}

describe('mcp_server: the run loop against a real MCP server', () => {
  it('a call of the server\'s tool, its result, then the model again; headers and session reached the server', T, async () => {
    const before = mcp.requests.length, calls = mcp.calls.length;
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Add 2 and 3.',
      tools: [server('add', { headers: { 'X-Test': 'hello', Authorization: 'Bearer k1' } })], generation_config: CFG });
    assert.ok(['completed', 'incomplete'].includes(it_.status), it_.status);
    const { call, result } = callAndResult(it_.outputs);
    assert.equal(call.name, 'add');
    // the server really ran it, with the model's arguments, and its answer is the result
    assert.deepEqual(mcp.calls.slice(calls), [{ tool: 'add', args: call.arguments }]);
    assert.deepEqual(result.result, [{ type: 'text', text: String(call.arguments.a + call.arguments.b) }]);
    assert.ok(!result.is_error);
    assert.ok(it_.outputs.length >= 3, 'a model step after the result');
    assert.ok(it_.usage.total_tool_use_tokens > 0, JSON.stringify(it_.usage));
    // every request carried the request's headers; after initialize, the
    // session the server gave and the protocol version; sessions are ended
    const reqs = mcp.requests.slice(before);
    assert.ok(reqs.length >= 6, reqs.length); // list: init, initialized, tools/list, DELETE; call: the same
    for (const r of reqs) {
      assert.equal(r.headers['x-test'], 'hello');
      assert.equal(r.headers.authorization, 'Bearer k1');
      assert.match(r.headers.accept, /application\/json/);
      assert.match(r.headers.accept, /text\/event-stream/);
    }
    const inits = reqs.filter((r) => !r.headers['mcp-session-id']);
    assert.equal(inits.length, 2, 'one session for the listing, one for the call');
    for (const r of reqs.filter((q) => q.headers['mcp-session-id'])) assert.equal(r.headers['mcp-protocol-version'], '2025-06-18');
    assert.equal(reqs.filter((r) => r.method === 'DELETE').length, 2);
    assert.equal(mcp.sessions.size, 0, 'sessions ended');
    const got = await ai.interactions.get(it_.id);
    assert.deepEqual(got.outputs, it_.outputs);
  });

  it('a server that answers application/json (stateless, no session): echo', T, async () => {
    const calls = mcpJson.calls.length;
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Echo hi.',
      tools: [{ type: 'mcp_server', name: 'texts', url: mcpJson.url, allowed_tools: [{ mode: 'auto', tools: ['echo'] }] }],
      generation_config: CFG });
    const { call, result } = callAndResult(it_.outputs, 'texts');
    assert.equal(call.name, 'echo');
    assert.equal(typeof call.arguments.text, 'string');
    assert.deepEqual(mcpJson.calls.slice(calls), [{ tool: 'echo', args: call.arguments }]);
    assert.deepEqual(result.result, [{ type: 'text', text: `echo: ${call.arguments.text}` }]);
  });

  it('allowed_tools filters what is offered; two servers in one request', T, async () => {
    for (const only of ['echo', 'add']) {
      const it_ = await ai.interactions.create({ model: 'demo', input: 'Use a tool.', tools: [server(only)], generation_config: CFG });
      assert.equal(callAndResult(it_.outputs).call.name, only);
    }
    // a "none" entry takes its tools out: only fail is left
    const it2 = await ai.interactions.create({ model: 'demo', input: 'Use a tool.',
      tools: [server(null, { allowed_tools: [{ mode: 'none', tools: ['add', 'echo', 'sleep'] }] })], generation_config: CFG });
    assert.equal(callAndResult(it2.outputs).call.name, 'fail');
    const a = mcp.calls.length, b = mcpJson.calls.length;
    const it3 = await ai.interactions.create({ model: 'demo', input: 'Use a tool.', generation_config: CFG,
      tools: [server('add'), { type: 'mcp_server', name: 'texts', url: mcpJson.url, allowed_tools: [{ tools: ['echo'] }] }] });
    const { call } = callAndResult(it3.outputs, it3.outputs[0].server_name);
    const [mine, other] = call.server_name === 'calc' ? [mcp, mcpJson] : [mcpJson, mcp];
    assert.equal(call.name, call.server_name === 'calc' ? 'add' : 'echo');
    assert.equal(mine.calls.length - (mine === mcp ? a : b), 1, 'the server named got the call');
    assert.equal(other.calls.length - (other === mcp ? a : b), 0);
  });

  it('a tool that fails: an error result (isError), and the run goes on', T, async () => {
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Fail.', tools: [server('fail')], generation_config: CFG });
    const { result } = callAndResult(it_.outputs);
    assert.equal(result.is_error, true);
    assert.match(result.result[0].text, /failed on purpose/);
    assert.ok(it_.outputs.length >= 3, 'a model step after the result');
  });

  it('a tool slower than --fetch-timeout: an error result within the limit, not a hung run', T, async () => {
    const t0 = Date.now();
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Sleep.', tools: [server('sleep')], generation_config: CFG });
    const { result } = callAndResult(it_.outputs);
    assert.equal(result.is_error, true);
    assert.match(result.result[0].text, /mcp_server 'calc'.*timed out/);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    assert.ok(it_.outputs.length >= 3);
  });

  it('streams the call and the result in order, as stored', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'demo', input: 'Add.', tools: [server('add')],
      generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'content.start');
    starts.forEach((e, i) => assert.equal(e.index, i));
    assert.equal(starts[0].content.type, 'mcp_server_tool_call');
    assert.equal(starts[1].content.type, 'mcp_server_tool_result');
    const done = events.find((e) => e.event_type === 'interaction.complete');
    const got = await ai.interactions.get(done.interaction.id);
    assert.deepEqual(starts.map((e) => e.content.type), got.outputs.map((o) => o.type));
  });

  it('the next turn (previous_interaction_id) renders the call and result as history', T, async () => {
    const t1 = await ai.interactions.create({ model: 'demo', input: 'Add.', tools: [server('add')], generation_config: CFG });
    callAndResult(t1.outputs);
    const gen = { temperature: 0, max_output_tokens: 10 };
    const t2 = await ai.interactions.create({ model: 'demo', input: 'And again?', previous_interaction_id: t1.id, generation_config: gen });
    assert.ok(['completed', 'incomplete'].includes(t2.status), t2.status);
    // the earlier call, result and answer are in its prompt
    const alone = await ai.interactions.create({ model: 'demo', input: 'And again?', generation_config: gen });
    assert.ok(t2.usage.total_input_tokens > alone.usage.total_input_tokens + 40, JSON.stringify([t2.usage, alone.usage]));
  });

  it('a stateless history: the call and result items sent back are accepted and read', T, async () => {
    const t1 = await ai.interactions.create({ model: 'demo', input: 'Add.', tools: [server('add')], generation_config: CFG, store: false });
    callAndResult(t1.outputs);
    const gen = { temperature: 0, max_output_tokens: 10 };
    const t2 = await ai.interactions.create({ model: 'demo', store: false, generation_config: gen,
      input: [{ role: 'user', content: 'Add.' }, { role: 'model', content: t1.outputs }, { role: 'user', content: 'And again?' }] });
    assert.ok(['completed', 'incomplete'].includes(t2.status), t2.status);
    const alone = await ai.interactions.create({ model: 'demo', input: 'Add. And again?', generation_config: gen, store: false });
    assert.ok(t2.usage.total_input_tokens > alone.usage.total_input_tokens + 20, JSON.stringify([t2.usage, alone.usage]));
  });

  it('SDK 3.x (steps): the call and its result as steps, then the model\'s', T, async () => {
    const ai3 = client3(srv);
    const it_ = await ai3.interactions.create({ model: 'demo', input: 'Add 2 and 3.', tools: [server('add')], generation_config: CFG });
    assert.ok(['completed', 'incomplete'].includes(it_.status), it_.status);
    const steps = it_.steps.filter((s) => s.type !== 'user_input');
    const { call } = callAndResult(steps);
    assert.equal(call.name, 'add');
    assert.equal(steps[2].type, 'model_output');
  });
});

describe('mcp_server: errors', () => {
  const bad = async (tools, status, re, s = srv) => {
    const r = await s.raw('POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', tools } });
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.match(r.json.error.message, re);
  };

  it('bad tool entries: 400s that name the field', T, async () => {
    await bad([{ type: 'mcp_server', name: 'my-server', url: mcp.url }], 400, /tools\[0\]\.name: 'my-server' is not a valid MCP server name/);
    await bad([{ type: 'mcp_server', url: mcp.url }], 400, /tools\[0\]\.name: required/);
    await bad([{ type: 'mcp_server', name: 's' }], 400, /tools\[0\]\.url: required/);
    await bad([{ type: 'mcp_server', name: 's', url: 'ftp://a.example/' }], 400, /tools\[0\]\.url: .*only http and https/);
    await bad([server(), server()], 400, /tools\[1\]\.name: the MCP server 'calc' is given twice/);
    await bad([server(null, { headers: { 'X-A': 'a\r\nX-B: b' } })], 400, /tools\[0\]\.headers\.X-A: a header value cannot hold a line break/);
    await bad([server(null, { timeout: 3 })], 400, /tools\[0\]\.timeout/);
  });

  it('a server that is down: the create is a 400 that names the tool and why, at once', T, async () => {
    const port = await freePort();
    const down = await startServer({ args: ['--allow-addresses', `127.0.0.1:${port}`, '--fetch-timeout', '2'] });
    const t0 = Date.now();
    await bad([{ type: 'mcp_server', name: 'gone', url: `http://127.0.0.1:${port}/mcp` }], 400,
      /tools\[0\] \(mcp_server 'gone'\): http:\/\/127\.0\.0\.1:\d+\/mcp: could not connect/, down);
    assert.ok(Date.now() - t0 < 5000);
    // through the SDK: an error it does not retry
    await assert.rejects(down.client().interactions.create({ model: 'demo', input: 'x',
      tools: [{ type: 'mcp_server', name: 'gone', url: `http://127.0.0.1:${port}/mcp` }] }), (e) => e.status === 400);
  });

  it('loopback refused by default (the address rule of url_context and media), before any request', T, async () => {
    const plain = await startServer({ args: ['--fetch-timeout', '2'] });
    await bad([server()], 400, /tools\[0\] \(mcp_server 'calc'\): refused to fetch .*127\.0\.0\.1.*--allow-private-urls/, plain);
    const n = mcp.requests.length;
    await bad([{ type: 'mcp_server', name: 'x', url: 'http://localhost:1/mcp' }], 400, /mcp_server 'x'/, plain);
    assert.equal(mcp.requests.length, n, 'nothing reached the server');
  });

  it('cancel during a slow tool: the run ends cancelled at once', T, async () => {
    const slow = await startServer({ args: ['--allow-addresses', `127.0.0.1:${mcp.port}`, '--fetch-timeout', '30'] });
    const c = slow.client();
    const calls = mcp.calls.length;
    const it_ = await c.interactions.create({ model: 'demo', input: 'Sleep.', tools: [server('sleep')],
      generation_config: CFG, background: true });
    await pollUntil(async () => mcp.calls.length, (n) => n > calls, { what: 'the sleep call to reach the server' });
    const t0 = Date.now();
    await c.interactions.cancel(it_.id);
    const got = await pollUntil(() => c.interactions.get(it_.id), (g) => g.status !== 'in_progress', { what: 'cancelled' });
    assert.equal(got.status, 'cancelled');
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });
});
