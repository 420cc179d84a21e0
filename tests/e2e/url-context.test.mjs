// url_context (issue 11), as the guide's "Contexto do URL" sends it: the
// model may fetch the URLs the user's text names (its call's grammar
// enumerates them), the server fetches them through its guarded client and
// reads each page as text. A real HTTP server on loopback serves the pages:
// a page, a redirect to it, a 5 MB page, a slow page, and a redirect to
// another loopback port that the server may not reach. interactd is
// started with --allow-addresses naming only the site's port, so a
// redirect elsewhere on 127.0.0.1 is refused (`unsafe`), as any loopback,
// private or link-local address is by default (checked on every
// connection). The demo model's call is forced with tool_choice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopAll, T } from './lib/server.mjs';

// room for the random model's call: the grammar lets it spell the URL out, with white space between
const CFG = { temperature: 0, max_output_tokens: 300, tool_choice: 'any' };
const TOOLS = [{ type: 'url_context' }];
const WORDS = 'The azalea garden opens in spring; its gardeners tend four hundred shrubs. '.repeat(20);
const PAGE = `<!doctype html><html><head><title>Azaleas</title><script>var hidden = 1;</script></head>
<body><h1>The garden</h1><p>${WORDS}</p></body></html>`;
let site, other, base, otherBase, srv, ai;

function serve(handler) {
  return new Promise((resolve) => {
    const s = http.createServer(handler);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

before(async () => {
  other = await serve((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); });
  otherBase = `http://127.0.0.1:${other.address().port}`;
  site = await serve((req, res) => {
    if (req.url === '/page.html') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(PAGE); return; }
    if (req.url === '/moved') { res.writeHead(302, { location: '/page.html' }); res.end(); return; }
    if (req.url === '/to-local') { res.writeHead(302, { location: `${otherBase}/page.html` }); res.end(); return; }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<p>${'x'.repeat(5 * 1024 * 1024)}</p>`);
      return;
    }
    if (req.url === '/slow') { setTimeout(() => { res.writeHead(200); res.end('late'); }, 10_000); return; }
    res.writeHead(404); res.end();
  });
  base = `http://127.0.0.1:${site.address().port}`;
  srv = await startServer({ args: ['--allow-addresses', `127.0.0.1:${site.address().port}`, '--fetch-timeout', '2',
    '--url-max-size', '1m', '--max-tool-steps', '2'] });
  ai = srv.client();
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  site?.closeAllConnections?.();
  site?.close();
  other?.close();
});

/** One forced url_context call about `url`: its call and result. */
async function ask(url, client = ai) {
  const it_ = await client.interactions.create({ model: 'demo', input: `Summarize the content of ${url}`,
    tools: TOOLS, generation_config: CFG });
  const [call, result] = it_.outputs;
  assert.equal(call.type, 'url_context_call', JSON.stringify(it_.outputs));
  assert.deepEqual(call.arguments.urls, [url]);
  assert.equal(result.type, 'url_context_result');
  assert.equal(result.call_id, call.id);
  assert.equal(result.result.length, 1);
  assert.equal(result.result[0].url, url);
  return { it_, status: result.result[0].status, result };
}

describe('url_context', () => {
  it('a page the prompt names: fetched, read, the model called again', T, async () => {
    const { it_, status, result } = await ask(`${base}/page.html`);
    assert.equal(status, 'success');
    assert.ok(!result.is_error);
    assert.ok(it_.outputs.length >= 3, 'a model step after the result');
    // the page's text (some 300 words) went into the next step's prompt
    assert.ok(it_.usage.total_tool_use_tokens > 200, JSON.stringify(it_.usage));
  });

  it('a redirect is followed (and re-checked)', T, async () => {
    assert.equal((await ask(`${base}/moved`)).status, 'success');
  });

  it('a redirect to an address the server may not reach: unsafe', T, async () => {
    const { status, result } = await ask(`${base}/to-local`);
    assert.equal(status, 'unsafe');
    assert.equal(result.is_error, true);
  });

  it('a page over --url-max-size, a page slower than --fetch-timeout: error, the run goes on', T, async () => {
    assert.equal((await ask(`${base}/big`)).status, 'error');
    const t0 = Date.now();
    assert.equal((await ask(`${base}/slow`)).status, 'error');
    assert.ok(Date.now() - t0 < 8000, 'the fetch timed out, not the page');
  });

  it('by default a loopback URL is refused: unsafe', T, async () => {
    const strict = await startServer({});
    const { status } = await ask(`${base}/page.html`, strict.client());
    assert.equal(status, 'unsafe');
    await strict.stop();
  });

  it('the call is kept to the URLs of the prompt; with none, nothing is offered', T, async () => {
    const urls = [`${base}/page.html`, `${base}/moved`, `${base}/nothing-here`];
    const it_ = await ai.interactions.create({ model: 'demo', input: `Compare ${urls.join(' and ')}.`,
      tools: TOOLS, generation_config: CFG });
    const call = it_.outputs[0];
    assert.equal(call.type, 'url_context_call');
    for (const u of call.arguments.urls) assert.ok(urls.includes(u), u);
    const none = await ai.interactions.create({ model: 'demo', input: 'No links here.', tools: TOOLS,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    assert.ok(none.outputs.every((o) => o.type !== 'url_context_call'), JSON.stringify(none.outputs));
  });

  it('a chain\'s next turn reads the page again from the stored result', T, async () => {
    const { it_ } = await ask(`${base}/page.html`);
    const t2 = await ai.interactions.create({ model: 'demo', input: 'And what else?', previous_interaction_id: it_.id,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    // the history holds the page's text, not only its status
    assert.ok(t2.usage.total_input_tokens > it_.usage.total_tool_use_tokens, JSON.stringify([it_.usage, t2.usage]));
  });
});
