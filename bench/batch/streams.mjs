// streams.mjs: N concurrent streaming requests against interactd or
// llama-server; prints the aggregate generated tokens/s (all streams' tokens
// over the time from the first request to the last token) and the median
// time to first token. SDK-free: plain fetch and SSE parsing, the same for
// both servers. Every request gets a unique prompt (a run and stream number
// in front), so neither server can reuse an earlier prompt.
//
// Both servers get the prompt as a user message rendered through the model's
// chat template (llama-server: its OpenAI-compatible /v1/chat/completions),
// so both prefill the same tokens.
// Usage: node streams.mjs KIND URL MODEL STREAMS TOKENS RUNS PROMPT_WORDS
//   KIND: interactd | llama    (llama: llama-server's /v1/chat/completions)
// Prints one JSON line: {streams, runs, agg_tok_s (median), ttft_ms (median of
// per-run medians), tokens (median per stream), all_agg}.
const [kind, url, model, nStreams, nTok, nRuns, nWords] = process.argv.slice(2);
if (!kind || !url) {
  console.error('usage: node streams.mjs interactd|llama URL MODEL STREAMS TOKENS RUNS PROMPT_WORDS');
  process.exit(2);
}
const WORDS = 'the cat sat on a warm mat and looked at the little dog who ran around the big green park'.split(' ');
const promptFor = (tag) => {
  const w = [];
  for (let i = 0; i < Number(nWords || 32); i++) w.push(WORDS[i % WORDS.length]);
  return `${tag}: ${w.join(' ')}`;
};

async function sse(res, onData) {
  const dec = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data && data !== '[DONE]') onData(JSON.parse(data));
    }
  }
}

async function one(tag, t0, nTok) {
  let first = 0, last = 0, tokens = 0;
  if (kind === 'llama') {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: promptFor(tag) }], max_tokens: nTok, stream: true,
        stream_options: { include_usage: true }, temperature: 0 }),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await sse(res, (ev) => {
      const now = performance.now();
      const d = ev.choices?.[0]?.delta;
      if (d && d.content) { if (!first) first = now; last = now; }
      if (ev.usage) { tokens = ev.usage.completion_tokens; last = now; }
    });
  } else {
    const res = await fetch(`${url}/v1beta/interactions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: promptFor(tag), stream: true, store: false,
        generation_config: { temperature: 0, max_output_tokens: nTok } }),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await sse(res, (ev) => {
      const now = performance.now();
      if (ev.event_type === 'content.delta') { if (!first) first = now; last = now; }
      else if (ev.event_type === 'interaction.complete') { tokens = ev.interaction.usage.total_output_tokens; last = now; }
    });
  }
  return { ttft: first - t0, end: last, tokens };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const N = Number(nStreams);
const runs = [];
await one('warm-up', performance.now(), Number(nTok));
const together = (r, k) => {
  const t0 = performance.now();
  return Promise.all(Array.from({ length: N }, (_, s) => one(`run ${r} ${k} stream ${s} ${Math.random()}`, t0, k)))
    .then((rs) => ({ t0, rs }));
};
for (let r = 0; r < Number(nRuns || 3); r++) {
  const first = await together(r, 1);
  const { t0, rs } = await together(r, Number(nTok));
  const tokens = rs.reduce((a, x) => a + x.tokens, 0);
  const end = Math.max(...rs.map((x) => x.end));
  runs.push({ agg: tokens / ((end - t0) / 1000), ttft: median(first.rs.map((x) => x.end - first.t0)),
    tokens: median(rs.map((x) => x.tokens)) });
}
console.log(JSON.stringify({
  kind, streams: N, runs: runs.length,
  agg_tok_s: +median(runs.map((x) => x.agg)).toFixed(1),
  ttft_ms: +median(runs.map((x) => x.ttft)).toFixed(1),
  tokens: median(runs.map((x) => x.tokens)),
  all_agg: runs.map((x) => +x.agg.toFixed(1)),
}));
