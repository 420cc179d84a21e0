// GET /metrics: Prometheus text exposition (format 0.0.4) of each served
// model's engine counters. The body must parse the way a Prometheus scraper
// reads it (every family announced by HELP and TYPE before its samples,
// counters named *_total, every sample `name{model="demo"} integer`), and the
// counters must move by exactly what the interactions made in between report
// (jobs, and tokens = usage output + thought). With API keys configured,
// /metrics needs one like the API routes (it reveals usage), while /healthz
// stays open; only GET and HEAD are allowed.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T } from './lib/server.mjs';

after(stopAll);
const CFG = { temperature: 0, max_output_tokens: 10 };

/** Parses an exposition body strictly; returns {families: name -> {type, help}, samples: name -> value}. */
function parseMetrics(text) {
  assert.ok(text.endsWith('\n'), 'the body ends with a newline');
  const families = new Map();
  const samples = new Map();
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (\S.*)$/.exec(line))) {
      assert.ok(!families.has(m[1]) || !families.get(m[1]).help, `one HELP for ${m[1]}`);
      families.set(m[1], { ...(families.get(m[1]) || {}), help: m[2] });
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line))) {
      assert.ok(families.get(m[1])?.help, `HELP precedes TYPE for ${m[1]}`);
      assert.ok(!families.get(m[1]).type, `one TYPE for ${m[1]}`);
      families.get(m[1]).type = m[2];
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{model="demo"\} (-?\d+)$/.exec(line))) {
      assert.ok(families.get(m[1])?.type, `TYPE precedes the sample of ${m[1]}`);
      assert.ok(!samples.has(m[1]), `one sample of ${m[1]} for model demo`);
      samples.set(m[1], Number(m[2]));
    } else {
      assert.fail(`not a HELP, TYPE or sample line: ${JSON.stringify(line)}`);
    }
  }
  for (const [name, f] of families) {
    assert.ok(f.type, `${name} has a TYPE`);
    assert.equal(f.type === 'counter', name.endsWith('_total'), `${name}: counters and only counters end in _total`);
    assert.ok(name.startsWith('interactd_'), `${name} is prefixed interactd_`);
    assert.ok(samples.has(name), `${name} has a sample`);
  }
  return { families, samples };
}

async function scrape(srv, key) {
  const r = await srv.raw('GET', '/metrics', { key });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(r.text);
}

describe('/metrics', () => {
  it('Prometheus text; jobs and tokens grow by what the interactions generated', T, async () => {
    const srv = await startServer();
    const ai = srv.client();
    const before = await scrape(srv);
    const s0 = before.samples;
    for (const n of ['interactd_jobs_done_total', 'interactd_tokens_generated_total',
      'interactd_prompt_tokens_cached_total', 'interactd_decode_steps_total', 'interactd_jobs_queued',
      'interactd_jobs_running', 'interactd_kvcache_ram_bytes', 'interactd_kvcache_ram_budget_bytes',
      'interactd_kvcache_disk_entries', 'interactd_kvcache_restored_total', 'interactd_parallel',
      'interactd_contexts', 'interactd_threads', 'interactd_n_ctx']) {
      assert.ok(s0.has(n), `${n} is reported`);
    }
    assert.equal(before.families.get('interactd_jobs_done_total').type, 'counter');
    assert.equal(before.families.get('interactd_jobs_running').type, 'gauge');
    for (const n of ['interactd_parallel', 'interactd_contexts', 'interactd_threads', 'interactd_n_ctx']) {
      assert.ok(s0.get(n) >= 1, `${n} = ${s0.get(n)}`);
    }

    const a = await ai.interactions.create({ model: 'demo', input: 'Count the stars.', generation_config: CFG });
    const b = await ai.interactions.create({ model: 'demo', input: 'Name a river.', store: false,
      generation_config: { ...CFG, max_output_tokens: 7 } });
    const made = [a, b].reduce((n, it) => n + it.usage.total_output_tokens + it.usage.total_thought_tokens, 0);
    assert.ok(made > 0, 'the interactions generated tokens');

    const s1 = (await scrape(srv)).samples;
    assert.equal(s1.get('interactd_jobs_done_total') - s0.get('interactd_jobs_done_total'), 2);
    assert.equal(s1.get('interactd_tokens_generated_total') - s0.get('interactd_tokens_generated_total'), made);
    assert.ok(s1.get('interactd_decode_steps_total') > s0.get('interactd_decode_steps_total'));
    assert.equal(s1.get('interactd_jobs_running'), 0);
    assert.equal(s1.get('interactd_jobs_queued'), 0);
    assert.equal(s1.get('interactd_parallel'), s0.get('interactd_parallel'));

    const post = await srv.raw('POST', '/metrics', { body: {} });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${srv.url}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.equal(await head.text(), '');
  });

  it('with API keys: 401 without a key, 403 with a wrong one, 200 with a valid one; /healthz stays open', T, async () => {
    const srv = await startServer({ apiKeys: ['metrics-key-1'] });
    const none = await srv.raw('GET', '/metrics');
    assert.equal(none.status, 401, none.text);
    assert.equal(typeof none.json?.error?.message, 'string');
    assert.doesNotMatch(none.text, /interactd_/);
    const wrong = await srv.raw('GET', '/metrics', { key: 'nope' });
    assert.equal(wrong.status, 403, wrong.text);
    const { samples } = await scrape(srv, 'metrics-key-1');
    assert.equal(samples.get('interactd_jobs_done_total'), 0);
    const hz = await srv.raw('GET', '/healthz');
    assert.equal(hz.status, 200);
  });
});
