// SDK-free streaming client for benchmarks: POSTs streaming creates to an
// interactd server and measures decode speed from the SSE frames themselves
// (time between the first and the last content.delta, and the token count
// from interaction.complete's usage), so the figure is what a client sees.
// Usage: node stream_client.mjs URL MODEL N_TOKENS RUNS [PROMPT]
const [url, model, nTok, runs, prompt] = process.argv.slice(2);
if (!url || !model) {
  console.error('usage: node stream_client.mjs URL MODEL N_TOKENS RUNS [PROMPT]');
  process.exit(2);
}

async function once() {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1beta/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model, input: prompt || 'Once upon a time', stream: true, store: false,
      generation_config: { temperature: 0, max_output_tokens: Number(nTok) },
    }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = '', first = 0, last = 0, deltas = 0, usage = null;
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = frame.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n');
      if (!data || data === '[DONE]') continue;
      const ev = JSON.parse(data);
      if (ev.event_type === 'content.delta') {
        const now = performance.now();
        if (!first) first = now;
        last = now;
        deltas++;
      } else if (ev.event_type === 'interaction.complete') {
        usage = ev.interaction.usage;
      }
    }
  }
  const n = usage ? usage.total_output_tokens : deltas;
  return { ttft_ms: first - t0, tokens: n, tok_s: n > 1 ? (n - 1) / ((last - first) / 1000) : 0 };
}

const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const results = [];
await once(); // warm-up
for (let r = 0; r < Number(runs || 5); r++) results.push(await once());
console.log(JSON.stringify({
  runs: results.length,
  tokens: median(results.map(r => r.tokens)),
  ttft_ms: +median(results.map(r => r.ttft_ms)).toFixed(1),
  tok_s: +median(results.map(r => r.tok_s)).toFixed(1),
  all_tok_s: results.map(r => +r.tok_s.toFixed(1)),
}));
