// chain.mjs: time to first token of the turn that continues a chain whose
// history is about H tokens, against interactd. Each run uses a history of
// its own (a unique tag in front), so only the chain's own turn can be
// reused. The turn is asked for one token and timed to its end (the
// benchmark models' random weights mostly emit tokens with no visible text,
// so the first text delta is no clock).
//
// Usage: node chain.mjs URL MODEL H RUNS MODE [STATEFILE]
//   MODE prev     turn 1, then turn 2 with previous_interaction_id
//        resend   turn 1 (store: false), then turn 2 resending the whole
//                 history as turns (stateless)
//        first    turn 1 only; writes the ids to STATEFILE (for restart)
//        second   turn 2 of each id in STATEFILE (after a server restart)
// Prints one JSON line: {mode, history_tokens, ttft_ms (median), all}.
import { readFileSync, writeFileSync } from 'node:fs';

const [url, model, hTok, nRuns, mode, stateFile] = process.argv.slice(2);
if (!url || !mode) {
  console.error('usage: node chain.mjs URL MODEL H RUNS prev|resend|first|second [STATEFILE]');
  process.exit(2);
}
const WORDS = 'the cat sat on a warm mat and looked at the little dog who ran around the big green park'.split(' ');
const NEW = 'And what happened after that?';

async function post(body) {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1beta/interactions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, ...body }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  if (!body.stream) return { json: await res.json(), ms: performance.now() - t0 };
  const dec = new TextDecoder();
  let buf = '', first = 0, usage = null;
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (!data || data === '[DONE]') continue;
      const ev = JSON.parse(data);
      if (ev.event_type === 'content.delta' && !first) first = performance.now();
      if (ev.event_type === 'interaction.complete') usage = ev.interaction.usage;
    }
  }
  return { ttft: performance.now() - t0, first_text: first ? first - t0 : null, usage };
}

const gen = { temperature: 0, max_output_tokens: 8 };
const gen1 = { temperature: 0, max_output_tokens: 1 };
// Words per token on this model, from a probe.
const probe = await post({ input: WORDS.join(' ').repeat(4), store: false, generation_config: { ...gen, max_output_tokens: 1 } });
const wordsPerTok = (WORDS.length * 4) / probe.json.usage.total_input_tokens;
const history = (tag) => {
  const w = [tag];
  for (let i = 0; i < Math.round(Number(hTok) * wordsPerTok); i++) w.push(WORDS[i % WORDS.length]);
  return w.join(' ');
};
const textOf = (it) => (it.outputs || []).filter((o) => o.type === 'text').map((o) => o.text).join('');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const out = [];
let histTokens = 0;
if (mode === 'second') {
  for (const id of JSON.parse(readFileSync(stateFile, 'utf8'))) {
    const r = await post({ input: NEW, previous_interaction_id: id, stream: true, store: false, generation_config: gen1 });
    out.push(r);
    histTokens = r.usage.total_input_tokens;
  }
} else {
  const ids = [];
  for (let r = 0; r < Number(nRuns); r++) {
    const h = history(`chain ${r} ${Math.random()}`);
    const t1 = await post({ input: h, store: mode !== 'resend', generation_config: gen });
    ids.push(t1.json.id);
    if (mode === 'first') continue;
    const body = mode === 'resend'
      ? { input: [{ role: 'user', content: h }, { role: 'model', content: textOf(t1.json) }, { role: 'user', content: NEW }] }
      : { input: NEW, previous_interaction_id: t1.json.id };
    const t2 = await post({ ...body, stream: true, store: false, generation_config: gen1 });
    out.push(t2);
    histTokens = t2.usage.total_input_tokens;
  }
  if (mode === 'first') writeFileSync(stateFile, JSON.stringify(ids));
}
if (mode !== 'first')
  console.log(JSON.stringify({
    mode, history_tokens: histTokens, ttft_ms: +median(out.map((x) => x.ttft)).toFixed(1),
    cached: median(out.map((x) => x.usage.total_cached_tokens)),
    all: out.map((x) => +x.ttft.toFixed(1)),
  }));
