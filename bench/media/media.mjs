// media.mjs: what a media part costs on interactd, and the same image on
// llama-server (built from the same llama.cpp source) side by side.
//
// Usage: node media.mjs IA_URL COLD_URL LS_URL|- MEDIA_DIR RUNS [LSQ_URL|-]
// (COLD_URL: an interactd with --prefix-cache off serving `cold`; LSQ_URL:
// llama-server serving the Qwen2-VL pair that IA_URL serves as `qwen`)
// Every request is store:false, greedy, one output token, and asks about a
// part never seen before by that server (a fresh image / clip each run: a
// new noise seed), so nothing comes from the prefix cache; its time is the
// request's wall time. "per part" is that minus the same request without
// the part (the text alone). Prints one JSON line per measurement.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const [iaUrl, coldUrl, lsUrl, dir, nRuns = '5', lsqUrl = '-'] = process.argv.slice(2);
const RUNS = Number(nRuns);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const by = (u, k = 'input_tokens_by_modality') => Object.fromEntries((u[k] || []).map((e) => [e.modality, e.tokens]));
const files = (re) => readdirSync(dir).filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));

async function ia(model, parts, extra = {}) {
  const body = { model, store: false, generation_config: { temperature: 0, max_output_tokens: 1 },
    input: [{ type: 'text', text: 'What is in this?' }, ...parts], ...extra };
  const t0 = performance.now();
  const r = await fetch(`${model === 'cold' ? coldUrl : iaUrl}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(JSON.stringify(j));
  return { ms: performance.now() - t0, usage: j.usage };
}

async function ls(imageB64, url = lsUrl) {
  const content = [{ type: 'text', text: 'What is in this?' }];
  if (imageB64) content.push({ type: 'image_url', image_url: { url: `data:image/png;base64,${imageB64}` } });
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content }], max_tokens: 1, temperature: 0, cache_prompt: false }) });
  const j = await r.json();
  if (!r.ok) throw new Error(JSON.stringify(j));
  return { ms: performance.now() - t0, tokens: j.usage?.prompt_tokens };
}

const part = (type, f, mime) => ({ type, data: readFileSync(f).toString('base64'), mime_type: mime });
const out = (o) => console.log(JSON.stringify(o));

// warm both servers up (first requests load lazily built state)
await ia('vision', [part('image', files(/^img-\d+\.png$/)[0], 'image/png')]);
if (lsUrl !== '-') await ls(readFileSync(files(/^img-\d+\.png$/)[0]).toString('base64'));

// text alone: the baseline each part is measured against
const base = [];
for (let i = 0; i < RUNS; i++) base.push((await ia('vision', [])).ms);
out({ what: 'text only', ms: median(base) });

// images: one fresh 64x64 PNG per run (the projector scales it to 32x32)
const imgs = files(/^img-\d+\.png$/).slice(1, RUNS + 1);
const im = [];
let imTok = 0;
for (const f of imgs) { const r = await ia('vision', [part('image', f, 'image/png')]); im.push(r.ms); imTok = by(r.usage).image; }
out({ what: 'image', tokens: imTok, ms: median(im), per_part_ms: median(im) - median(base) });
if (lsUrl !== '-') {
  const lb = [], li = [];
  for (let i = 0; i < RUNS; i++) lb.push((await ls(null)).ms);
  for (const f of imgs) li.push((await ls(readFileSync(f).toString('base64'))).ms);
  out({ what: 'image (llama-server)', ms: median(li), per_part_ms: median(li) - median(lb),
    ratio_interactd_to_llama_server: +(median(im) / median(li)).toFixed(2) });
}

// Qwen2-VL images (M-RoPE positions): one fresh 256x256 PNG per run, 256 tokens
{
  const q = files(/^qimg-\d+\.png$/);
  await ia('qwen', [part('image', q[0], 'image/png')]);
  const qb = [], qi = [];
  let qTok = 0;
  for (let i = 0; i < RUNS; i++) qb.push((await ia('qwen', [])).ms);
  for (const f of q.slice(1, RUNS + 1)) { const r = await ia('qwen', [part('image', f, 'image/png')]); qi.push(r.ms); qTok = by(r.usage).image; }
  out({ what: 'qwen2-vl image', tokens: qTok, ms: median(qi), per_part_ms: median(qi) - median(qb) });
  if (lsqUrl !== '-') {
    await ls(readFileSync(q[0]).toString('base64'), lsqUrl);
    const lb = [], li = [];
    for (let i = 0; i < RUNS; i++) lb.push((await ls(null, lsqUrl)).ms);
    for (const f of q.slice(1, RUNS + 1)) li.push((await ls(readFileSync(f).toString('base64'), lsqUrl)).ms);
    out({ what: 'qwen2-vl image (llama-server)', ms: median(li), per_part_ms: median(li) - median(lb),
      ratio_interactd_to_llama_server: +(median(qi) / median(li)).toFixed(2) });
  }
}

// audio of 1, 5 and 10 s: tokens and time per second
for (const f of files(/^tone-\d+s-\d+\.wav$/).filter((n) => /-0\.wav$/.test(n))) {
  const secs = Number(/tone-(\d+)s/.exec(f)[1]);
  const t = [];
  let tok = 0;
  for (const g of files(new RegExp(`^tone-${secs}s-\\d+\\.wav$`)).slice(0, RUNS)) {
    const r = await ia('audio', [part('audio', g, 'audio/wav')]);
    t.push(r.ms); tok = by(r.usage).audio;
  }
  out({ what: `audio ${secs} s`, tokens: tok, tokens_per_s: +(tok / secs).toFixed(1), ms: median(t),
    per_second_ms: +((median(t) - median(base)) / secs).toFixed(1) });
}

// video of 2 and 4 s at the helper's default sampling
for (const secs of [2, 4]) {
  const t = [];
  let tok = 0;
  for (const g of files(new RegExp(`^clip-${secs}s-\\d+\\.mp4$`)).slice(0, RUNS)) {
    const r = await ia('vision', [part('video', g, 'video/mp4')]);
    t.push(r.ms); tok = by(r.usage).video;
  }
  out({ what: `video ${secs} s`, tokens: tok, tokens_per_s: +(tok / secs).toFixed(1), ms: median(t),
    per_second_ms: +((median(t) - median(base)) / secs).toFixed(1) });
}

// documents: a text PDF's pages (when the server reads PDF)
for (const f of files(/^doc-\d+p\.pdf$/)) {
  const pages = Number(/doc-(\d+)p/.exec(f)[1]);
  try {
    const t = [];
    let u = null;
    for (let i = 0; i < RUNS; i++) { const r = await ia('vision', [part('document', f, 'application/pdf')], { system_instruction: `run ${i}` }); t.push(r.ms); u = r.usage; }
    out({ what: `pdf ${pages} pages`, tokens: by(u), ms: median(t), per_page_ms: +((median(t) - median(base)) / pages).toFixed(1) });
  } catch (e) { out({ what: `pdf ${pages} pages`, error: String(e.message).slice(0, 200) }); }
}

// a chain with an image: turn 2's time with the cache (previous id) and cold
const first = await fetch(`${iaUrl}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'vision', generation_config: { temperature: 0, max_output_tokens: 32 },
    input: [{ type: 'text', text: 'Look.' }, part('image', imgs[0], 'image/png')] }) }).then((r) => r.json());
const warm = [], cold = [];
for (let i = 0; i < RUNS; i++) {
  warm.push((await ia('vision', [], { input: `And then ${i}?`, previous_interaction_id: first.id })).ms);
  cold.push((await ia('cold', [], { input: [{ role: 'user', content: [{ type: 'text', text: 'Look.' }, part('image', imgs[0], 'image/png')] },
    { role: 'model', content: first.outputs }, { role: 'user', content: `And then ${i}?` }] })).ms);
}
out({ what: 'chain turn 2 with an image', warm_ms: median(warm), cold_ms: median(cold), speedup: +(median(cold) / median(warm)).toFixed(2) });
