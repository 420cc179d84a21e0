// chat10.mjs: time to first token of turn 10 of a chat whose nine earlier
// answers are ~200 tokens each (the model's own text makes up most of the
// history, as in a real chat). Each chat has a tag of its own in its first
// message, so nothing but its own earlier turns can be reused. The turn is
// asked for one token and timed to its end (random-weight models emit few
// visible tokens, so the first text delta is no clock).
//
// Usage: node chat10.mjs URL MODEL MODE RUNS STATEFILE
//   build   RUNS chats of 9 turns on interactd (stored), saved to STATEFILE
//   prev    turn 10 of each saved chat with previous_interaction_id
//   resend  turn 10 of each saved chat as a stateless history (the texts)
//   llama-build  RUNS chats of 9 turns on llama-server, each answer its
//           own (sampled, seeded, as on interactd), the history sent whole
//           each turn as its clients do (cache_prompt on), saved to STATEFILE
//   llama   turn 10 of each chat llama-build saved, on llama-server
// Prints one JSON line: {mode, history_tokens, ttft_ms (median), cached, all}.
import { readFileSync, writeFileSync } from 'node:fs';

const [url, model, mode, nRuns = '3', stateFile] = process.argv.slice(2);
const TURNS = 9, ANSWER = 200;
const say = (tag, i) => `Chat ${tag}, turn ${i + 1}: tell me more about topic number ${i * 7 + 3}, please.`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const textOf = (it) => (it.outputs || []).filter((o) => o.type === 'text').map((o) => o.text).join('');

async function post(path, body) {
  const t0 = performance.now();
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text}`);
  return { json: JSON.parse(text), ms: performance.now() - t0 };
}
const interact = (body) => post('/v1beta/interactions', { model, ...body });
const chat = (messages, max, sampling) => post('/v1/chat/completions', {
  model, messages, max_tokens: max, cache_prompt: true, ignore_eos: true, ...sampling,
});

const out = [];
if (mode === 'build') {
  const chats = [];
  for (let r = 0; r < Number(nRuns); r++) {
    const tag = `${r}-${Math.random().toString(36).slice(2)}`;
    let prev = null;
    const turns = [];
    for (let i = 0; i < TURNS; i++) {
      const { json } = await interact({
        input: say(tag, i), previous_interaction_id: prev ?? undefined,
        // sampled (seeded): the random weights' greedy answers are mostly
        // tokens with no text, which no template shows again
        generation_config: { temperature: 1, seed: 1000 + i, max_output_tokens: ANSWER },
      });
      turns.push({ user: say(tag, i), model: textOf(json) });
      prev = json.id;
    }
    chats.push({ tag, last: prev, turns });
  }
  writeFileSync(stateFile, JSON.stringify(chats));
} else if (mode === 'prev' || mode === 'resend') {
  for (const c of JSON.parse(readFileSync(stateFile, 'utf8'))) {
    const input = mode === 'prev' ? say(c.tag, TURNS)
      : [...c.turns.flatMap((t) => [{ role: 'user', content: t.user }, { role: 'model', content: t.model }]),
         { role: 'user', content: say(c.tag, TURNS) }];
    const r = await interact({
      input, previous_interaction_id: mode === 'prev' ? c.last : undefined, store: false,
      generation_config: { temperature: 0, max_output_tokens: 1 },
    });
    out.push({ ms: r.ms, hist: r.json.usage.total_input_tokens, cached: r.json.usage.total_cached_tokens });
  }
} else if (mode === 'llama-build') {
  // The same workload as build, served by llama-server: its own answers,
  // each turn the history so far (what a client of it sends).
  const chats = [];
  for (let r = 0; r < Number(nRuns); r++) {
    const tag = `${r}-${Math.random().toString(36).slice(2)}`;
    const messages = [];
    for (let i = 0; i < TURNS; i++) {
      messages.push({ role: 'user', content: say(tag, i) });
      const { json } = await chat(messages, ANSWER, { temperature: 1, seed: 1000 + i });
      messages.push({ role: 'assistant', content: json.choices[0].message.content });
    }
    chats.push({ tag, messages });
  }
  writeFileSync(stateFile, JSON.stringify(chats));
} else if (mode === 'llama') {
  for (const c of JSON.parse(readFileSync(stateFile, 'utf8'))) {
    const t = await chat([...c.messages, { role: 'user', content: say(c.tag, TURNS) }], 1, { temperature: 0 });
    const u = t.json.usage || {};
    const cached = t.json.timings?.cache_n ?? u.prompt_tokens_details?.cached_tokens ?? null;
    out.push({ ms: t.ms, hist: u.prompt_tokens, cached });
  }
} else {
  console.error('usage: node chat10.mjs URL MODEL build|prev|resend|llama-build|llama RUNS STATEFILE');
  process.exit(2);
}
if (mode !== 'build' && mode !== 'llama-build')
  console.log(JSON.stringify({
    mode, history_tokens: median(out.map((x) => x.hist)), ttft_ms: +median(out.map((x) => x.ms)).toFixed(1),
    cached: median(out.map((x) => x.cached)), all: out.map((x) => +x.ms.toFixed(1)),
  }));
