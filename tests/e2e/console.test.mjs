// The web console (web/, served at /) in Debian's Chromium, driven by
// playwright-core, against a live server with an API key on the demo model:
// the static files and their headers (content types, ETag / 304, CSP, no
// key needed), the key entered once, a message whose answer is seen growing
// while it streams and equals the stored output, a second message that
// continues the chain (the server's stored interaction carries
// previous_interaction_id), a reload that reopens the conversation from the
// server, a background run cancelled from the page (the server's status is
// cancelled), thoughts folded (a model under a reasoning template), a
// function call and its result shown in a reopened chain, an attached image
// (read by a vision model, shown in the turn), a spoken answer played (the L16 output wrapped in a WAV whose
// duration the browser reads), the markdown renderer's escaping, and the phone layout.
// Screenshots go to build/artifacts/console-*.png. Skipped, saying so, when
// /usr/bin/chromium is absent (scripts/deps.sh installs it).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { startServer, stopAll, longPrompt, textOf, pollUntil, REPO_ROOT, DEMO_MODEL, MODELS_DIR } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HAVE = fs.existsSync(CHROMIUM);
const SKIP = HAVE ? false : `${CHROMIUM} is absent (apt-get install chromium; scripts/deps.sh does)`;
const ART = path.join(REPO_ROOT, 'build/artifacts');
const KEY = 'console-key';
const T = { timeout: 120_000 };
// Greedy, the demo model repeats this to the end of its context (~4,000
// tokens, several seconds) when it starts a chain: a run long enough to cancel.
const ENDLESS = 'a a a a a a a a a a a a a a a a';
const GEMMA = path.join(REPO_ROOT, 'build/gemma3.gguf');
const VISION = path.join(MODELS_DIR, 'mmproj-tinygemma3.gguf');
const VISION_SKIP = !fs.existsSync(VISION) ? `${VISION} is absent (the ../shared/models folder is not here)`
  : !fs.existsSync(GEMMA) ? `${GEMMA} is absent (make builds it)` : false;

let srv, browser, page, LONG;
const pageErrors = [];
const turns = [];

async function shot(name) {
  fs.mkdirSync(ART, { recursive: true });
  await page.screenshot({ path: path.join(ART, `console-${name}.png`), fullPage: true });
}

const api = (id) => srv.raw('GET', `/v1beta/interactions/${id}`, { key: KEY }).then((r) => r.json);

/** Sends text from the page; resolves the new model turn's {id, status, raw}. */
async function send(text, { enter = false } = {}) {
  const before = await page.locator('.turn.model').count();
  await page.fill('#prompt', text);
  if (enter) await page.press('#prompt', 'Enter');
  else await page.click('#send');
  const turn = page.locator('.turn.model').nth(before);
  await turn.waitFor();
  await page.waitForFunction((i) => {
    const t = document.querySelectorAll('.turn.model')[i];
    return t && t.dataset.status && !document.querySelector('#send').disabled;
  }, before, { timeout: 90_000 });
  return turn.evaluate((t) => ({ id: t.dataset.id, status: t.dataset.status,
    raw: [...t.querySelectorAll('.md')].map((m) => m.raw).join('') }));
}

/** Opens the settings fold (a <details>) as a user would. */
async function settings() {
  if ((await page.getAttribute('.settings', 'open')) === null) await page.click('.settings summary');
}

before(async () => {
  if (!HAVE) return;
  // "think": the demo model under DeepSeek-R1's template, which opens a
  // <think> block (as in thinking.test.mjs), for the folded thoughts.
  const R1 = path.join(REPO_ROOT, 'build/llama.cpp/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja');
  // "gemma": the random Gemma 3 with the real tinygemma3 vision projector
  // (as in media.test.mjs), for an attached image, when the projector is here.
  const models = { demo: DEMO_MODEL, think: DEMO_MODEL };
  const args = ['--chat-template', `think=${R1}`];
  if (!VISION_SKIP) {
    models.gemma = GEMMA;
    args.push('--mmproj', `gemma=${VISION}`);
  }
  srv = await startServer({ apiKeys: [KEY], models, args });
  LONG = await longPrompt(srv.client(KEY));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
}, { timeout: 180_000 });

after(async () => {
  if (browser) await browser.close();
  await stopAll();
});

describe('web console', { skip: SKIP }, () => {
  it('is served at / and /console/ without a key, with types, ETag (304) and a CSP', T, async () => {
    const page0 = await srv.raw('GET', '/');
    assert.equal(page0.status, 200);
    assert.match(page0.headers.get('content-type'), /^text\/html; charset=utf-8/);
    assert.match(page0.headers.get('content-security-policy'), /script-src 'self'/);
    assert.match(page0.text, /<script type="module" src="\/console\/app.js">/);
    const js = await srv.raw('GET', '/console/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    const etag = js.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.equal(js.headers.get('cache-control'), 'no-cache');
    const again = await srv.raw('GET', '/console/app.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await srv.raw('GET', '/console/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal((await srv.raw('GET', '/console/nope.js')).status, 404);
    assert.equal((await srv.raw('POST', '/')).status, 405);
    // the API itself still wants the key
    assert.equal((await srv.raw('GET', '/v1beta/interactions/v1_x')).status, 401);
  });

  it('takes the key once, streams an answer that grows, and shows what the server stored', T, async () => {
    await page.goto(`${srv.url}/`);
    await page.fill('#api-key', KEY);
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => [...document.querySelectorAll('#model option')].some((o) => o.value === 'demo'));
    await settings();
    await page.fill('#max-tokens', '120');
    await page.fill('#temperature', '0');
    // Watch the streamed text's length as it changes.
    await page.evaluate(() => {
      window.__lengths = [];
      new MutationObserver(() => {
        const m = document.querySelector('.turn.model:last-child .md');
        if (m && m.raw !== undefined) window.__lengths.push(m.raw.length);
      }).observe(document.querySelector('#log'), { subtree: true, childList: true, characterData: true });
    });
    // The demo model writes 120 tokens in well under a second, which can reach
    // the page as one read; a slow link (Chromium's own throttling) makes the
    // frames arrive over a few seconds, so the page must render them as they come.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 6000, uploadThroughput: -1 });
    const t = await send(LONG);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    assert.ok(['completed', 'incomplete'].includes(t.status), t.status);
    const lengths = await page.evaluate(() => window.__lengths);
    const distinct = [...new Set(lengths)].filter((n) => n > 0);
    assert.ok(distinct.length >= 3, `the text grew while it streamed: ${JSON.stringify(distinct.slice(0, 20))}`);
    const stored = await api(t.id);
    assert.equal(stored.status, t.status);
    assert.equal(t.raw, textOf(stored), 'the page shows the stored answer');
    assert.equal(await page.getAttribute('#log', 'aria-live'), 'polite');
    turns.push(t);
    await shot('chat');
  });

  it('continues the chain: the second request carries previous_interaction_id (Enter sends)', T, async () => {
    const t = await send('And then?', { enter: true });
    const stored = await api(t.id);
    assert.equal(stored.previous_interaction_id, turns[0].id);
    turns.push(t);
  });

  it('reopens the conversation after a reload, read back from the server', T, async () => {
    await page.reload();
    await page.waitForSelector('#convs button.conv');
    assert.equal(await page.locator('#convs button.conv').count(), 1);
    assert.equal(await page.inputValue('#api-key'), KEY, 'the key was kept');
    assert.equal(await page.locator('.turn').count(), 0);
    await page.click('#convs button.conv');
    await page.waitForFunction(() => document.querySelectorAll('.turn.model').length === 2);
    const ids = await page.$$eval('.turn.model', (ts) => ts.map((t) => t.dataset.id));
    assert.deepEqual(ids, turns.map((t) => t.id));
    const users = await page.$$eval('.turn.user .body', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(users, [LONG, 'And then?']);
    await shot('reopened');
    // the next message goes on from the reopened chain
    const t = await send('One more.');
    assert.equal((await api(t.id)).previous_interaction_id, turns[1].id);
  });

  it('lists every chain the server keeps for the key (one made through the SDK too) and reopens it', T, async () => {
    const ai = srv.client(KEY);
    const a = await ai.interactions.create({ model: 'demo', input: 'Made by the SDK, not the page.',
      generation_config: { max_output_tokens: 4 } });
    const b = await ai.interactions.create({ model: 'demo', previous_interaction_id: a.id, input: 'A follow-up.',
      generation_config: { max_output_tokens: 4 } });
    await page.click('#stored-refresh');
    const btn = page.locator(`#stored button.stored[data-last="${b.id}"]`);
    await btn.waitFor();
    assert.match(await btn.textContent(), /^Made by the SDK, not the page\. \((completed|incomplete)\)$/);
    // a continued interaction is no chain of its own; the page's own chain is listed too
    assert.equal(await page.locator(`#stored button.stored[data-last="${a.id}"]`).count(), 0);
    const mine = await page.$eval('#convs button.conv', (x) => x.dataset.last);
    assert.equal(await page.locator(`#stored button.stored[data-last="${mine}"]`).count(), 1);
    await btn.click();
    await page.waitForFunction((want) => [...document.querySelectorAll('.turn.model')].map((t) => t.dataset.id).join() === want,
      [a.id, b.id].join());
    const users = await page.$$eval('.turn.user .body', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(users, ['Made by the SDK, not the page.', 'A follow-up.']);
    await shot('stored');
  });

  it('runs in the background, polled, and the Cancel button cancels it on the server', T, async () => {
    await page.click('#new-chat');
    await settings();
    await page.check('#background');
    await page.fill('#max-tokens', '4000');
    await page.fill('#temperature', '0'); // greedy: LONG is known to run long so
    await page.fill('#prompt', ENDLESS);
    await page.click('#send');
    await page.waitForFunction(() => {
      const t = document.querySelector('.turn.model:last-child');
      return t && t.dataset.id && !document.querySelector('#cancel').disabled;
    });
    const id = await page.getAttribute('.turn.model:last-child', 'data-id');
    await page.waitForFunction(() => /Background run .*in_progress/.test(document.querySelector('#run-state').textContent));
    assert.equal((await api(id)).status, 'in_progress');
    await shot('background');
    await page.click('#cancel');
    await page.waitForFunction(() => document.querySelector('.turn.model:last-child').dataset.status === 'cancelled',
      null, { timeout: 60_000 }).catch(async (e) => {
      throw new Error(`${e.message}; page says: ${await page.textContent('#run-state')}; server: ${JSON.stringify(await api(id))}`);
    });
    const it2 = await pollUntil(() => api(id), (x) => x.status !== 'in_progress', { what: 'the cancel' });
    assert.equal(it2.status, 'cancelled');
    assert.ok(it2.usage.total_output_tokens < 4000, 'stopped before its limit');
    await shot('background-cancelled');
    assert.match(await page.textContent('#run-state'), /cancelled/);
    await page.uncheck('#background');
  });

  it('plays a spoken answer: the L16 audio output becomes a WAV the browser decodes', T, async () => {
    await page.click('#new-chat');
    await settings();
    await page.fill('#max-tokens', ''); // an answer cut short is not spoken
    await page.fill('#temperature', '0');
    await page.selectOption('#modalities', 'TEXT,AUDIO');
    const t = await send('Tell me something.');
    assert.equal(t.status, 'completed');
    const stored = await api(t.id);
    const audio = stored.outputs.find((o) => o.type === 'audio');
    assert.ok(audio && audio.data, 'the server answered with audio');
    const samples = Buffer.from(audio.data, 'base64').length / 2;
    const dur = await page.$eval('.turn.model:last-child audio', (a) => new Promise((resolve, reject) => {
      if (a.readyState >= 1) resolve(a.duration);
      a.addEventListener('loadedmetadata', () => resolve(a.duration));
      a.addEventListener('error', () => reject(new Error(`audio error ${a.error && a.error.code}`)));
    }));
    assert.ok(Math.abs(dur - samples / 24000) < 0.05, `WAV duration ${dur}s for ${samples} samples at 24 kHz`);
    await shot('audio');
    await page.selectOption('#modalities', '');
  });

  it('folds the thoughts: streamed into a closed <details>, equal to the stored summary', T, async () => {
    await page.click('#new-chat');
    await settings();
    await page.fill('#max-tokens', '300');
    await page.selectOption('#model', 'think');
    const t = await send('Why is the sky blue?');
    const stored = await api(t.id);
    const thought = stored.outputs.find((o) => o.type === 'thought');
    assert.ok(thought, `a thought output: ${JSON.stringify(stored.outputs.map((o) => o.type))}`);
    const d = page.locator('.turn.model:last-child details.thought');
    assert.equal(await d.count(), 1);
    assert.equal(await d.getAttribute('open'), null, 'folded');
    assert.equal(await d.locator('summary').textContent(), 'Thoughts');
    const want = (thought.summary || []).map((p) => p.text || '').join('');
    assert.equal(await d.locator('.thought-text').textContent(), want);
    await d.locator('summary').click();
    assert.notEqual(await d.getAttribute('open'), null, 'opens on click');
    await shot('thoughts');
    await page.selectOption('#model', 'demo');
  });

  it('shows a function call and the result sent back, in a reopened chain', T, async () => {
    const weather = { type: 'function', name: 'get_weather', description: 'Gets the weather for a given location.',
      parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };
    const r1 = await srv.raw('POST', '/v1beta/interactions', { key: KEY, body: { model: 'demo',
      input: 'What is the weather in Paris?', tools: [weather],
      generation_config: { tool_choice: 'any', seed: 1, max_output_tokens: 1500 } } });
    assert.equal(r1.status, 200, r1.text);
    const call = r1.json.outputs.find((o) => o.type === 'function_call');
    assert.ok(call, r1.text);
    const r2 = await srv.raw('POST', '/v1beta/interactions', { key: KEY, body: { model: 'demo',
      previous_interaction_id: r1.json.id, tools: [weather], generation_config: { max_output_tokens: 16 },
      input: [{ type: 'function_result', call_id: call.id, name: 'get_weather', result: { forecast: 'sunny, 21 C' } }] } });
    assert.equal(r2.status, 200, r2.text);
    // A chain made elsewhere, listed as the page lists its own.
    await page.evaluate((c) => {
      const list = JSON.parse(localStorage.getItem('interactd.convs') || '[]');
      list.unshift(c);
      localStorage.setItem('interactd.convs', JSON.stringify(list));
    }, { first: r1.json.id, last: r2.json.id, model: 'demo', title: 'Weather', updated: Date.now() });
    await page.reload();
    await page.click('#convs button.conv >> text=Weather');
    await page.waitForFunction(() => document.querySelectorAll('.turn.model').length === 2);
    const callBlock = page.locator('.turn.model').first().locator('.tool.function_call');
    assert.match(await callBlock.locator('.tool-head').textContent(), /function call get_weather/);
    assert.deepEqual(JSON.parse(await callBlock.locator('.tool-body').textContent()), call.arguments);
    const result = page.locator('.turn.user').nth(1).locator('.tool.function_result');
    assert.match(await result.locator('.tool-head').textContent(), /function result get_weather/);
    assert.deepEqual(JSON.parse(await result.locator('.tool-body').textContent()), { forecast: 'sunny, 21 C' });
    await shot('function-call');
  });

  it('attaches an image: sent as inline data, read by the vision model, shown in the turn', { ...T, skip: VISION_SKIP }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-img-'));
    const png = path.join(dir, 'test.png');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=1',
      '-frames:v', '1', png]);
    await page.click('#new-chat');
    await settings();
    await page.fill('#max-tokens', '8');
    await page.selectOption('#model', 'gemma');
    await page.setInputFiles('#attach', png);
    const t = await send('What is in the picture?');
    const stored = (await srv.raw('GET', `/v1beta/interactions/${t.id}?include_input=true`, { key: KEY })).json;
    const parts = stored.input.flatMap((x) => x.content || [x]);
    const image = parts.find((p) => p.type === 'image');
    assert.ok(image, JSON.stringify(parts.map((p) => p.type)));
    assert.equal(image.mime_type, 'image/png');
    assert.equal(image.data, fs.readFileSync(png).toString('base64'));
    const by = Object.fromEntries(stored.usage.input_tokens_by_modality.map((e) => [e.modality, e.tokens]));
    assert.equal(by.image, 256, 'the projector read it');
    const shown = page.locator('.turn.user:nth-last-child(2) img');
    await shown.waitFor();
    assert.equal(await shown.evaluate((i) => i.complete && i.naturalWidth), 64, 'the picture is drawn');
    assert.equal(await page.$eval('#attach', (i) => i.files.length), 0, 'the attachment is cleared');
    await shot('image-input');
    await page.selectOption('#model', 'demo');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders markdown from escaped text only', T, async () => {
    const html = await page.evaluate(async () => {
      const { renderMarkdown } = await import('/console/md.js');
      return renderMarkdown('<img src=x onerror=alert(1)> **bold** `<b>` [x](javascript:alert(1))\n```\n<script>\n```');
    });
    assert.ok(!/<img|<script|<b>|href="javascript/.test(html), html);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /<strong>bold<\/strong>/);
    assert.match(html, /<code>&lt;b&gt;<\/code>/);
    assert.match(html, /<pre><code>&lt;script&gt;<\/code><\/pre>/);
  });

  it('fits a phone: the conversation list folds behind a button', T, async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    assert.ok(await page.isVisible('#toggle-side'));
    assert.ok(!(await page.isVisible('#side')));
    await page.click('#toggle-side');
    assert.ok(await page.isVisible('#side'));
    assert.equal(await page.getAttribute('#toggle-side', 'aria-expanded'), 'true');
    await shot('phone');
    const scrollW = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollW <= 375, `no sideways scrolling (${scrollW}px)`);
  });

  it('raised no script error on the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
