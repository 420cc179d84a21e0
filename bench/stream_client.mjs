// SDK-free streaming client for benchmarks: POSTs streaming creates to an
// interactd server and measures, from the client's side, what one more
// generated token costs. Each run is a pair of requests on the same prompt,
// greedy (temperature 0): one with max_output_tokens N and one with 1. Both
// pay the same HTTP, template, prefill and first-token cost, so
//     decode tok/s = (tokens_N - tokens_1) / (T_N - T_1)
// where T is the time from sending the POST to receiving interaction.complete
// and the token counts come from its usage. That is the decode rate after the
// first token, like bare_decode's gen_tps, and it does not depend on how many
// tokens become visible text: a random-weight model greedily emits mostly
// tokens that render to nothing, so timing content.delta frames alone (also
// reported, as delta_tok_s, with the delta count) measures only a few of them.
// Usage: node stream_client.mjs URL MODEL N_TOKENS RUNS [PROMPT]
// Prints one JSON line; the figures are medians over RUNS pairs.
const [url, model, nTok, runs, prompt] = process.argv.slice(2);
if (!url || !model || !(Number(nTok) > 1)) {
  console.error('usage: node stream_client.mjs URL MODEL N_TOKENS(>1) RUNS [PROMPT]');
  process.exit(2);
}

async function once(maxTokens) {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1beta/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model, input: prompt || 'Once upon a time', stream: true, store: false,
      generation_config: { temperature: 0, max_output_tokens: maxTokens },
    }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = '', first = 0, last = 0, done = 0, deltas = 0, usage = null;
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
        done = performance.now();
        usage = ev.interaction.usage;
      } else if (ev.event_type === 'error') {
        throw new Error(`stream error: ${data}`);
      }
    }
  }
  if (!usage) throw new Error('stream ended without interaction.complete');
  return {
    ms: done - t0, tokens: usage.total_output_tokens, input_tokens: usage.total_input_tokens,
    ttft_ms: first ? first - t0 : null, deltas,
    delta_tok_s: deltas > 1 ? (deltas - 1) / ((last - first) / 1000) : null,
  };
}

const median = xs => {
  const s = xs.filter(x => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};
const r1 = x => (x === null ? null : +x.toFixed(1));
const pairs = [];
await once(Number(nTok)); // warm-up (first request allocates, touches the weights)
await once(1);
for (let r = 0; r < Number(runs || 5); r++) {
  const long = await once(Number(nTok));
  const short = await once(1);
  pairs.push({ long, short, tok_s: (long.tokens - short.tokens) / ((long.ms - short.ms) / 1000) });
}
console.log(JSON.stringify({
  runs: pairs.length,
  tokens: median(pairs.map(p => p.long.tokens)),
  min_tokens: Math.min(...pairs.map(p => p.long.tokens)),
  input_tokens: median(pairs.map(p => p.long.input_tokens)),
  first_token_ms: r1(median(pairs.map(p => p.short.ms))),
  total_ms: r1(median(pairs.map(p => p.long.ms))),
  tok_s: r1(median(pairs.map(p => p.tok_s))),
  all_tok_s: pairs.map(p => r1(p.tok_s)),
  deltas: median(pairs.map(p => p.long.deltas)),
  delta_tok_s: r1(median(pairs.map(p => p.long.delta_tok_s))),
}));
