// Computer use (the guide's "Uso do computador"; issue 12): the
// computer_use tool offers the model Gemini's predefined browser actions as
// functions (less excludedPredefinedFunctions); the model's action comes
// back as a function_call the client runs (status requires_action), and the
// client answers with a function_result carrying the page's URL and a
// screenshot, which a vision model reads. Models: the random-weight demo
// (text only) for the calls and the errors, and the random-weight Gemma 3
// text model with the real tinygemma3 vision projector for the screenshot
// round trip (screenshots made with Debian's ffmpeg). Random weights: the
// tests assert the call's shape (a predefined action, integer coordinates on
// the 0-999 grid, grammar-bound) and that the screenshot reaches the model
// (greedy output changes with it), not what the model chose.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAll, T, sdkErrors, raw, MODELS_DIR, REPO_ROOT } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const GEMMA = path.join(REPO_ROOT, 'build/gemma3.gguf');
const VISION = path.join(MODELS_DIR, 'mmproj-tinygemma3.gguf');
const NO_VISION = !fs.existsSync(VISION) || !fs.existsSync(GEMMA)
  ? `SKIPPED: ${VISION} or ${GEMMA} is absent` : false;
if (NO_VISION) console.log(`# ${NO_VISION}`);
const CHATML = "{%- for message in messages -%}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + " +
  "'<|im_end|>\\n' -}}{%- endfor -%}{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";
const PREDEFINED = ['open_web_browser', 'wait_5_seconds', 'go_back', 'go_forward', 'search', 'navigate', 'click_at',
  'hover_at', 'type_text_at', 'key_combination', 'scroll_document', 'scroll_at', 'drag_and_drop'];
const GUIDE_INPUT = 'Search for highly rated smart fridges with touchscreen, 2 doors, around 25 cu ft, priced below ' +
  '4000 dollars on Google Shopping. Create a bulleted list of the 3 cheapest options in the format of name, ' +
  'description, price in an easy-to-read layout.';
const guideTool = { type: 'computer_use', environment: 'browser', excludedPredefinedFunctions: ['drag_and_drop'] };
// An action whose arguments a random model always finishes: integers, enums.
const act = (tools, seed = 7) => ({ seed, max_output_tokens: 200, tool_choice: { allowed_tools: { mode: 'any', tools } } });

let srv, ai, tmp;
const shots = {};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-cu-'));
  for (const [n, src] of [['a', 'testsrc'], ['b', 'mandelbrot']]) {
    const f = path.join(tmp, `${n}.png`);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `${src}=size=64x64:rate=1`,
      '-frames:v', '1', f]);
    shots[n] = fs.readFileSync(f).toString('base64');
  }
  const models = { demo: path.join(REPO_ROOT, 'build/demo.gguf') };
  const args = [];
  if (!NO_VISION) {
    fs.writeFileSync(path.join(tmp, 'chatml.jinja'), CHATML);
    models.browser = GEMMA;
    args.push('--mmproj', `browser=${VISION}`, '--mmproj', 'demo=none', '--chat-template',
      `browser=${path.join(tmp, 'chatml.jinja')}`);
  }
  srv = await startServer({ models, args });
  ai = srv.client();
}, { timeout: 120_000 });
after(async () => {
  await stopAll();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function checkAction(it, allowed) {
  assert.equal(it.status, 'requires_action', JSON.stringify(it.outputs));
  const call = it.outputs.find((o) => o.type === 'function_call');
  assert.ok(call, JSON.stringify(it.outputs));
  assert.ok(allowed.includes(call.name), call.name);
  for (const k of ['x', 'y', 'destination_x', 'destination_y', 'magnitude'])
    if (k in call.arguments) assert.ok(Number.isInteger(call.arguments[k]) && call.arguments[k] >= 0 && call.arguments[k] <= 999,
      `${k} = ${call.arguments[k]}`);
  if ('direction' in call.arguments) assert.ok(['up', 'down', 'left', 'right'].includes(call.arguments.direction));
  return call;
}

describe('computer_use (guide: "Uso do computador")', () => {
  it('the guide\'s request: the model answers with a predefined browser action as a function_call', T, async () => {
    const it1 = await ai.interactions.create({
      model: 'demo', input: GUIDE_INPUT, tools: [guideTool],
      generation_config: act(['click_at', 'scroll_document', 'go_back', 'scroll_at']),
    });
    const call = checkAction(it1, ['click_at', 'scroll_document', 'go_back', 'scroll_at']);
    assert.match(call.id, /\S/);
    // stored like any interaction; a GET returns the same call
    const got = await ai.interactions.get(it1.id);
    assert.deepEqual(got.outputs.find((o) => o.type === 'function_call'), call);
  });

  it('every predefined action is offered, each grammar-bound to its schema', T, async () => {
    for (const [name, seed] of [['click_at', 1], ['scroll_at', 2], ['hover_at', 3], ['scroll_document', 4], ['open_web_browser', 5]]) {
      const it1 = await ai.interactions.create({
        model: 'demo', input: 'Act.', tools: [{ type: 'computer_use', environment: 'browser' }], generation_config: act([name], seed),
      });
      checkAction(it1, [name]);
    }
  });

  it('an excluded action is not offered (allowed_tools naming it is refused); the rest are', T, async () => {
    const { BadRequestError } = sdkErrors(ai);
    await assert.rejects(ai.interactions.create({
      model: 'demo', input: 'Act.', tools: [guideTool], generation_config: act(['drag_and_drop']),
    }), (e) => e instanceof BadRequestError && /allowed_tools\.tools\[0\]: 'drag_and_drop' is not among tools/.test(e.message));
    const r = await raw(srv.url, 'POST', '/v1beta/interactions', { body: {
      model: 'demo', input: 'Act.', tools: [{ type: 'computer_use', environment: 'browser' }], generation_config: act(['drag_and_drop']),
    } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    checkAction(r.json, ['drag_and_drop']);
  });

  it('custom functions beside it; a custom function may take an excluded action\'s name', T, async () => {
    const mine = { type: 'function', name: 'drag_and_drop', description: 'My own drag.',
      parameters: { type: 'object', properties: { steps: { type: 'integer', minimum: 1, maximum: 9 } }, required: ['steps'] } };
    const it1 = await ai.interactions.create({
      model: 'demo', input: 'Act.', tools: [guideTool, mine], generation_config: act(['drag_and_drop']),
    });
    const call = checkAction(it1, ['drag_and_drop']);
    assert.deepEqual(Object.keys(call.arguments), ['steps']);
  });

  it('SDK 3.x (steps): excluded_predefined_functions in snake_case, a function_call step', T, async () => {
    const ai3 = client3(srv);
    const it1 = await ai3.interactions.create({
      model: 'demo', input: GUIDE_INPUT, generation_config: act(['click_at', 'go_forward']),
      tools: [{ type: 'computer_use', environment: 'browser', excluded_predefined_functions: ['drag_and_drop', 'search'] }],
    });
    assert.equal(it1.status, 'requires_action');
    const step = it1.steps.find((s) => s.type === 'function_call');
    assert.ok(['click_at', 'go_forward'].includes(step.name), step.name);
  });

  it('bad settings are clear 400s naming the field', T, async () => {
    const bad = async (tool, re, extra = []) => {
      const r = await raw(srv.url, 'POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', tools: [tool, ...extra] } });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.match(r.json.error.message, re);
    };
    await bad({ type: 'computer_use', excludedPredefinedFunctions: ['fly'] },
      /^tools\[0\]\.excludedPredefinedFunctions\[0\]: not a predefined function of computer_use \(open_web_browser/);
    await bad({ type: 'computer_use', environment: 'desktop' }, /^tools\[0\]\.environment: expected 'browser'/);
    await bad({ type: 'computer_use', environment: 'browser' }, /^tools\[1\]\.name: function 'click_at' is declared twice \(computer_use offers it/,
      [{ type: 'function', name: 'click_at' }]);
    await bad({ type: 'computer_use', enable_prompt_injection_detection: true },
      /^tools\[0\]\.enable_prompt_injection_detection: prompt injection detection on screenshots is not available/);
    await bad({ type: 'computer_use', screen: 1 }, /tools\[0\]\.screen/);
    const twice = await raw(srv.url, 'POST', '/v1beta/interactions',
      { body: { model: 'demo', input: 'x', tools: [{ type: 'computer_use' }, { type: 'computer_use' }] } });
    assert.equal(twice.status, 400);
    assert.match(twice.json.error.message, /^tools\[1\]: the tool 'computer_use' is given twice/);
  });
});

describe('computer_use: the screenshot goes back to a vision model', { skip: NO_VISION }, () => {
  const result = (call, shot) => ({
    type: 'function_result', name: call.name, call_id: call.id,
    result: [{ type: 'text', text: JSON.stringify({ url: 'https://shopping.example/fridges' }) },
      { type: 'image', mime_type: 'image/png', data: shot }],
  });

  it('action -> screenshot -> next step: the image is read, and a different screenshot changes the answer', { timeout: 180_000 }, async () => {
    const it1 = await ai.interactions.create({
      model: 'browser', input: GUIDE_INPUT, tools: [guideTool], generation_config: act(['click_at', 'scroll_document']),
    });
    const call = checkAction(it1, ['click_at', 'scroll_document']);
    const next = async (shot) => ai.interactions.create({
      model: 'browser', previous_interaction_id: it1.id, tools: [guideTool], store: false,
      generation_config: { temperature: 0, max_output_tokens: 8, tool_choice: 'none' }, input: [result(call, shot)],
    });
    const a = await next(shots.a), a2 = await next(shots.a), b = await next(shots.b);
    for (const x of [a, a2, b]) {
      assert.ok(['completed', 'incomplete'].includes(x.status), x.status);
      const by = Object.fromEntries(x.usage.input_tokens_by_modality.map((e) => [e.modality, e.tokens]));
      assert.equal(by.image, 256, JSON.stringify(x.usage)); // the screenshot reached the model
    }
    const text = (x) => x.outputs.filter((o) => o.type === 'text').map((o) => o.text).join('');
    assert.equal(text(a), text(a2), 'greedy: the same screenshot, the same step');
    assert.notEqual(text(a), text(b), 'a different screenshot changes the step');
  });
});
