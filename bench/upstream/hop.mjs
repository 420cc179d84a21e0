// hop.mjs: the same chat request straight to llama-server's
// /v1/chat/completions and through interactd --upstream (POST
// /v1beta/interactions, store false), interleaved request by request so both
// see the same machine load. Streamed on both sides (interactd always
// streams from its upstream), greedy, max N tokens: greedy makes both paths
// produce the same tokens, so the per-path token counts must agree.
//
// Usage: node hop.mjs LLAMA_URL INTERACTD_URL MODEL N RUNS
// Prints one JSON line per path: {path, runs, tokens, p50_ms, p99_ms,
//   ttft_p50_ms, tok_s_p50} and then {ratio_p50, ratio_p99, ratio_tok_s}
// (through interactd / direct).
const [llama, ia, model, nArg, runsArg] = process.argv.slice(2);
if (!llama || !ia || !model) { console.error('usage: node hop.mjs LLAMA_URL INTERACTD_URL MODEL N RUNS'); process.exit(2); }
const N = Number(nArg || 64);
const RUNS = Number(runsArg || 100);
const PROMPT = 'Once upon a time';
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

// Reads an SSE body; returns {ttft, total} in ms from t0 and the last data JSON seen.
async function sse(res, t0, onData) {
  const dec = new TextDecoder();
  let buf = '', ttft = null;
  for await (const chunk of res.body) {
    if (ttft === null) ttft = performance.now() - t0;
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i); buf = buf.slice(i + 2);
      for (const line of ev.split('\n')) if (line.startsWith('data: ') && line !== 'data: [DONE]') onData(JSON.parse(line.slice(6)));
    }
  }
  return { ttft, total: performance.now() - t0 };
}

async function direct() {
  const t0 = performance.now();
  const res = await fetch(`${llama}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: PROMPT }], stream: true,
      stream_options: { include_usage: true }, temperature: 0, max_tokens: N }) });
  if (!res.ok) throw new Error(`llama-server: HTTP ${res.status} ${await res.text()}`);
  let tokens = 0;
  const t = await sse(res, t0, (j) => { if (j.error) throw new Error(JSON.stringify(j)); if (j.usage) tokens = j.usage.completion_tokens; });
  return { ...t, tokens };
}

async function hop() {
  const t0 = performance.now();
  const res = await fetch(`${ia}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, input: PROMPT, stream: true, store: false,
      generation_config: { temperature: 0, max_output_tokens: N } }) });
  if (!res.ok) throw new Error(`interactd: HTTP ${res.status} ${await res.text()}`);
  let tokens = 0;
  const t = await sse(res, t0, (j) => {
    if (j.event_type === 'error') throw new Error(JSON.stringify(j));
    if (j.event_type === 'interaction.complete') tokens = j.interaction.usage.total_output_tokens;
  });
  return { ...t, tokens };
}

for (let i = 0; i < 10; i++) { await direct(); await hop(); } // warm-up
const r = { direct: [], interactd: [] };
for (let i = 0; i < RUNS; i++) {
  if (i % 2) { r.interactd.push(await hop()); r.direct.push(await direct()); }
  else { r.direct.push(await direct()); r.interactd.push(await hop()); }
}
const f = (x) => +x.toFixed(3);
const sum = {};
for (const [name, xs] of Object.entries(r)) {
  const tokens = xs[0].tokens;
  if (!xs.every((x) => x.tokens === tokens)) throw new Error(`${name}: token counts differ between runs`);
  const s = { path: name, runs: RUNS, tokens, p50_ms: f(pct(xs.map((x) => x.total), 0.5)),
    p99_ms: f(pct(xs.map((x) => x.total), 0.99)), ttft_p50_ms: f(pct(xs.map((x) => x.ttft), 0.5)),
    tok_s_p50: f(pct(xs.map((x) => tokens / (x.total / 1000)), 0.5)) };
  sum[name] = s;
  console.log(JSON.stringify(s));
}
if (sum.direct.tokens !== sum.interactd.tokens) throw new Error('the two paths produced different token counts');
console.log(JSON.stringify({ ratio_p50: f(sum.interactd.p50_ms / sum.direct.p50_ms),
  ratio_p99: f(sum.interactd.p99_ms / sum.direct.p99_ms), ratio_tok_s: f(sum.interactd.tok_s_p50 / sum.direct.tok_s_p50),
  added_p50_ms: f(sum.interactd.p50_ms - sum.direct.p50_ms) }));
