// Agents (the guide's "Agentes"; issue 12): Deep Research on a local model.
// `agent: "deep-research-pro-preview-12-2025"` with background: true runs on
// the model --agent-model names, with the server's google_search (here a
// loopback stand-in speaking SearxNG's JSON API, serving the result pages
// too) and url_context: its first step searches, later steps may read the
// found pages, and it ends with a report. The record names the agent
// (`agent`, role "agent", no `model`), as the recorded real responses do.
// Random weights: the tests assert the research's structure (a search
// first, the stand-in asked, every tool result paired with its call, a
// final text), status, polling, cancel, the chain continued by a model, and
// the errors; not what the report says.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopAll, T, sdkErrors, raw, pollUntil, collect } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const AGENT = 'deep-research-pro-preview-12-2025';
let searx, base, srv, ai, bare;
const asked = [];

before(async () => {
  searx = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/search') {
      asked.push(u.searchParams.get('q'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        query: u.searchParams.get('q'), number_of_results: 2, answers: [], corrections: [], infoboxes: [],
        suggestions: [], unresponsive_engines: [],
        results: [1, 2].map((i) => ({ url: `${base}/page${i}`, title: `TPU history part ${i}`,
          content: `Part ${i} of the history of tensor processing units.`, engine: 'duckduckgo', engines: ['duckduckgo'],
          positions: [i], score: 1 / i, category: 'general' })),
      }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><head><title>${u.pathname}</title></head><body><p>Tensor processing units, ${u.pathname}.</p></body></html>`);
  });
  await new Promise((r) => searx.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${searx.address().port}`;
  srv = await startServer({ args: ['--agent-model', 'demo', '--search-url', base, '--allow-private-urls',
    '--agent-max-steps', '3', '--max-tokens', '1200'] });
  ai = srv.client();
  bare = await startServer({});
}, { timeout: 90_000 });
after(async () => {
  await stopAll();
  searx?.closeAllConnections?.();
  searx?.close();
});

const done = (it) => ['completed', 'incomplete', 'failed', 'cancelled'].includes(it.status);

describe('Deep Research (guide: "Agentes")', () => {
  it('the guide\'s loop: background create, poll to the end; it searched first and wrote a report', { timeout: 120_000 }, async () => {
    asked.length = 0;
    const first = await ai.interactions.create({
      input: 'Research the history of the Google TPUs with a focus on 2025 and 2026.', agent: AGENT, background: true,
    });
    assert.equal(first.agent, AGENT);
    assert.equal(first.model, undefined);
    assert.equal(first.role, 'agent');
    assert.ok(['in_progress', 'completed', 'incomplete'].includes(first.status), first.status);
    const it = await pollUntil(() => ai.interactions.get(first.id), done, { timeoutMs: 100_000, what: 'the research to end' });
    assert.ok(['completed', 'incomplete'].includes(it.status), `${it.status}: ${JSON.stringify(it.error ?? '')}`);
    assert.equal(it.agent, AGENT);
    assert.equal(it.role, 'agent');
    const types = it.outputs.map((o) => o.type);
    assert.equal(types[0], 'google_search_call', types.join(','));
    assert.ok(asked.length >= 1, 'the search backend was asked');
    for (const [i, o] of it.outputs.entries()) { // every tool result answers a call made before it
      if (o.type.endsWith('_result'))
        assert.ok(it.outputs.slice(0, i).some((c) => c.type.endsWith('_call') && c.id === o.call_id), JSON.stringify(o));
    }
    if (types.includes('url_context_call')) { // a page it read is one the search found
      const call = it.outputs.find((o) => o.type === 'url_context_call');
      for (const u of call.arguments.urls) assert.ok(u.startsWith(`${base}/page`), u);
    }
    assert.ok(it.usage.grounding_tool_count?.some((g) => g.type === 'google_search' && g.count >= 1),
      JSON.stringify(it.usage));
    if (it.status === 'completed') assert.equal(it.outputs.at(-1).type, 'text');
  });

  it('streams its steps (background + stream), and a model continues the chain ("combined interactions")', { timeout: 120_000 }, async () => {
    const events = await collect(await ai.interactions.create({
      input: 'Research TPUs.', agent: 'deep-research-preview-04-2026', background: true, stream: true,
      agent_config: { type: 'deep-research', thinking_summaries: 'none', visualization: 'off' },
    }));
    const start = events.find((e) => e.event_type === 'interaction.start');
    assert.equal(start.interaction.agent, 'deep-research-preview-04-2026');
    assert.equal(events.at(-1).event_type, 'interaction.complete');
    const starts = events.filter((e) => e.event_type === 'content.start').map((e) => e.content.type);
    assert.equal(starts[0], 'google_search_call');
    const id = start.interaction.id;
    const follow = await ai.interactions.create({ model: 'demo', previous_interaction_id: id, input: 'Summarize it in one line.',
      generation_config: { max_output_tokens: 8 } });
    assert.equal(follow.model, 'demo');
    assert.equal(follow.role, 'model');
    assert.equal(follow.previous_interaction_id, id);
    assert.ok(follow.usage.total_input_tokens > 0);
  });

  it('cancel stops the research; SDK 3.x sees the agent too', { timeout: 120_000 }, async () => {
    const first = await ai.interactions.create({ input: 'Research everything about TPUs.', agent: AGENT, background: true });
    const r = await raw(srv.url, 'POST', `/v1beta/interactions/${first.id}/cancel`);
    assert.ok([200].includes(r.status), `${r.status} ${r.text}`);
    const it = await pollUntil(() => ai.interactions.get(first.id), done, { what: 'the cancel' });
    assert.ok(['cancelled', 'completed', 'incomplete'].includes(it.status), it.status); // it may have ended first
    const got3 = await client3(srv).interactions.get(first.id);
    assert.equal(got3.agent, AGENT);
    assert.equal(got3.model, undefined);
  });

  it('errors: unknown agent 404, not background 400, generation_config 400, collaborative_planning 400, no --agent-model 400', T, async () => {
    const post = async (s, body) => raw(s.url, 'POST', '/v1beta/interactions', { body });
    let r = await post(srv, { agent: 'deep-thought', input: 'x', background: true });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /^agent: 'deep-thought' is not an agent this server runs; agents: deep-research-pro-preview-12-2025/);
    r = await post(srv, { agent: AGENT, input: 'x' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^background: an agent's research runs in the background/);
    r = await post(srv, { agent: AGENT, input: 'x', background: true, generation_config: { temperature: 0 } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^generation_config: an agent takes agent_config/);
    r = await post(srv, { agent: AGENT, input: 'x', background: true, agent_config: { type: 'deep-research', collaborative_planning: true } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^agent_config\.collaborative_planning: /);
    r = await post(srv, { agent: AGENT, input: 'x', background: true, agent_config: { type: 'dynamic' } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^agent_config\.type: 'dynamic' agents are not served/);
    r = await post(srv, { agent: AGENT, model: 'demo', input: 'x', background: true });
    assert.equal(r.status, 400);
    r = await post(bare, { agent: AGENT, input: 'x', background: true });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /--agent-model NAME/);
    const { BadRequestError } = sdkErrors(ai);
    await assert.rejects(ai.interactions.create({ agent: AGENT, input: 'x' }), (e) => e instanceof BadRequestError);
    // what is not built says so: custom agents (file search stores are served: fsearch.test.mjs)
    r = await raw(srv.url, 'POST', '/v1/agents', { body: { name: 'mine', base_agent: AGENT } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'unimplemented');
    assert.match(r.json.error.message, /^custom agents \(\/v1\/agents\) are not served by this server yet/);
    r = await raw(srv.url, 'GET', '/v1beta/fileSearchStores');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
  });
});
